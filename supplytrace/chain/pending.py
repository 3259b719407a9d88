"""A sent transaction until it is mined: the hashes it went out under, the replacement of one that
sits with fees bumped, and what waiting for it reports.

A transaction is *replaced* when it is not mined ``replace_after_blocks`` blocks (or
``replace_after_seconds``) after it was sent: the same transaction (same nonce, same call) is
signed again with both ``maxFeePerGas`` and ``maxPriorityFeePerGas`` raised by at least 12.5 %
(:func:`bumped`; geth and anvil ask for 10 %, some nodes for 12.5 %) and at least to what the
chain asks now. Only one transaction of a nonce can ever be mined, so waiting then takes whichever
of the hashes is mined first (the original may still be).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Fees of a replacement: at least old x 9/8 (+12.5 %).
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8
FEE_FIELDS = ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice")


def _bump(value: int) -> int:
    return -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR) + (1 if value else 0)


def bumped(old: dict[str, int], now: dict[str, int]) -> dict[str, int]:
    """Fees for a replacement of a transaction that offered ``old`` while the chain asks ``now``:
    each of ``old``'s fee fields raised by more than 12.5 %, and at least to ``now``'s."""
    if "gasPrice" in old:
        current = now.get("gasPrice", now.get("maxFeePerGas", 0))
        return {"gasPrice": max(_bump(old["gasPrice"]), current)}
    tip = max(_bump(old["maxPriorityFeePerGas"]), now.get("maxPriorityFeePerGas", 0))
    cap = max(_bump(old["maxFeePerGas"]), now.get("maxFeePerGas", now.get("gasPrice", 0)), tip)
    return {"maxFeePerGas": cap, "maxPriorityFeePerGas": tip}


@dataclass
class InFlight:
    """A transaction sent and not yet mined: its fields (``tx``: as signed) and every hash it went
    out under, the newest last; ``raw`` the newest signed bytes (sent again if the node forgets
    them)."""

    tx: dict[str, Any]
    raw: bytes
    hashes: list[str]
    since: float  # time.monotonic() of the last send (or replacement)
    checked: float  # time.monotonic() of the last check that the node still holds it
    block: int | None = None  # the node's block at the last send (or replacement)
    replacements: int = 0
    nonce_used: bool = False  # the account's mined count passed the nonce (at a replacement's turn)

    @property
    def nonce(self) -> int:
        return int(self.tx["nonce"])

    @property
    def fees(self) -> dict[str, int]:
        return {k: int(self.tx[k]) for k in FEE_FIELDS if k in self.tx}


def _gwei(wei: int) -> str:
    return f"{wei / 1e9:.4g} gwei"


@dataclass(frozen=True)
class Waiting:
    """Waiting for transaction ``tx_hash``: ``seconds`` so far, the node at block ``block``."""

    tx_hash: str
    seconds: float
    block: int | None

    def __str__(self) -> str:
        at = f"node at block {self.block}" if self.block is not None else "node's block unknown"
        return f"waiting for {self.tx_hash} ({self.seconds:.0f} s, {at})"


@dataclass(frozen=True)
class Replaced:
    """Transaction ``old_hash`` sat unmined; ``new_hash`` replaces it (same nonce, ``fees``)."""

    old_hash: str
    new_hash: str
    nonce: int
    blocks: int | None
    seconds: float
    fees: dict[str, int]

    def __str__(self) -> str:
        after = f"{self.blocks} blocks" if self.blocks is not None else f"{self.seconds:.0f} s"
        if "gasPrice" in self.fees:
            offer = f"gas price {_gwei(self.fees['gasPrice'])}"
        else:
            offer = (
                f"max fee {_gwei(self.fees.get('maxFeePerGas', 0))}, "
                f"tip {_gwei(self.fees.get('maxPriorityFeePerGas', 0))}"
            )
        return (
            f"transaction {self.old_hash} was not mined after {after}; sent {self.new_hash} in its "
            f"place (nonce {self.nonce}, fees up 12.5 % or more: {offer}); waiting for either"
        )


WaitEvent = Waiting | Replaced
