"""EIP-712 acceptance signatures for one-transaction custody handoffs.

The receiver signs, off line, that it accepts custody of an item (or a pallet of items) from the
current custodian before ``deadline``; the custodian then sends ``handoff`` with the signature.
The signed ``nonce`` is the item's ``custodyNonce``, which every change of custody increments, so
a signature can be used once only. Types (domain ``supplytrace`` version ``1``)::

    Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)
    HandoffBatch(bytes32[] items,uint256[] nonces,address from,address to,uint256 deadline)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from supplytrace.core.hashing import checksum as to_checksum_address

DOMAIN_NAME = "supplytrace"
DOMAIN_VERSION = "1"

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_TAIL_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "deadline", "type": "uint256"},
]


@dataclass(frozen=True)
class HandoffRequest:
    """What the receiver signs: items (with their current custody nonces), from, to, deadline."""

    chain_id: int
    registry: str
    items: tuple[bytes, ...]
    nonces: tuple[int, ...]
    sender: str
    receiver: str
    deadline: int

    @property
    def is_batch(self) -> bool:
        return len(self.items) != 1

    def typed_data(self) -> dict[str, Any]:
        """The EIP-712 typed-data document (as for ``eth_signTypedData_v4``)."""
        domain = {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.registry),
        }
        common = {
            "from": to_checksum_address(self.sender),
            "to": to_checksum_address(self.receiver),
            "deadline": self.deadline,
        }
        if self.is_batch:
            fields = [{"name": "items", "type": "bytes32[]"}, {"name": "nonces", "type": "uint256[]"}]
            message = {"items": list(self.items), "nonces": list(self.nonces), **common}
            primary = "HandoffBatch"
        else:
            fields = [{"name": "item", "type": "bytes32"}, {"name": "nonce", "type": "uint256"}]
            message = {"item": self.items[0], "nonce": self.nonces[0], **common}
            primary = "Handoff"
        return {
            "types": {"EIP712Domain": _DOMAIN_FIELDS, primary: fields + _TAIL_FIELDS},
            "primaryType": primary,
            "domain": domain,
            "message": message,
        }

    def signable(self) -> Any:
        """The ``SignableMessage`` an ape account (keystore or test account) signs."""
        from eth_account.messages import encode_typed_data

        return encode_typed_data(full_message=self.typed_data())


def make_request(
    *,
    chain_id: int,
    registry: str,
    items: Sequence[bytes],
    nonces: Sequence[int],
    sender: str,
    receiver: str,
    deadline: int,
) -> HandoffRequest:
    if not items:
        raise ValueError("a handoff needs at least one item.")
    if len(items) != len(nonces):
        raise ValueError("one custody nonce per item is required.")
    return HandoffRequest(chain_id, registry, tuple(items), tuple(nonces), sender, receiver, deadline)
