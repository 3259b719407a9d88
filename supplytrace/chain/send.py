"""Sending transactions to the registry: estimate, sign, send, wait, and a refusal in plain words.

A :class:`Sender` signs with a :class:`Signer` (an ape account, through
:mod:`supplytrace.chain.ape`) and talks to the node only through :class:`~supplytrace.chain.rpc.Rpc`
(docs/sending.md tells the whole story):

- the gas is estimated first; a revert there is the registry's custom error, decoded from the
  ABI into its sentence (:class:`~supplytrace.core.errors.ContractRevertError`), and nothing is sent;
- the nonce is allocated under the account's lock (:mod:`supplytrace.chain.nonces`), so senders
  of one account in several processes never collide; one found taken by a transaction that is
  not ours is skipped; the fees are EIP-1559's (``2 x base fee + tip``) where the chain has a
  base fee;
- the transaction's hash is computed from the signed bytes before it is sent, so an answer lost
  after the node accepted it (a timeout, HTTP 5xx, a dropped connection), "already known", or
  "nonce too low" for that very transaction means "wait for that hash", never a second one;
  a node that forgot it gets the same bytes again;
- waiting is bounded (``mining_timeout``) and reported (``on_wait``: :class:`~.pending.Waiting`
  every ``report_every`` seconds); a transaction not mined after ``replace_after_blocks`` blocks
  is replaced with fees bumped 12.5 % (:class:`~.pending.Replaced` is reported), and whichever
  of its hashes is mined ends the wait;
- a node's refusal is one sentence with the fix (:func:`~supplytrace.chain.refusals.refusal`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from supplytrace.chain.codec import constructor_args, function, revert_error
from supplytrace.chain.nonces import NonceBook
from supplytrace.chain.pending import InFlight, Replaced, WaitEvent, Waiting, bumped
from supplytrace.chain.refusals import TransactionFailedError, is_known_already, is_nonce_conflict, refusal
from supplytrace.chain.rpc import Rpc, RpcError, hex_int
from supplytrace.core import abi
from supplytrace.core.errors import ChainError, SupplytraceError
from supplytrace.core.events import Logged, decode_log
from supplytrace.core.hashing import checksum, keccak

__all__ = ["Replaced", "Sender", "Sent", "Signer", "TransactionFailedError", "WaitEvent", "Waiting"]

DEFAULT_MINING_TIMEOUT = 600.0
DEFAULT_REPLACE_AFTER_BLOCKS = 3
DEFAULT_REPLACE_AFTER_SECONDS = 180.0
DEFAULT_REPORT_EVERY = 5.0
DEFAULT_REBROADCAST_AFTER = 30.0
#: Nonces tried for one transaction before giving up (each found taken by another transaction).
NONCE_ATTEMPTS = 5
#: Replacements of one transaction at most (fees grow 12.5 % each: x3.2 after ten).
MAX_REPLACEMENTS = 10
#: EIP-7825 (Osaka): no transaction may ask for more gas than 2**24.
TX_GAS_CAP = 16_777_216
#: HTTP statuses after which a send may have reached the node (waiting tells).
_MAYBE_ACCEPTED = {408, 429, 500, 502, 503, 504}


class Signer(Protocol):
    """Signs transactions for one account (``supplytrace.chain.ape.ApeSigner``)."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """The signed, serialised transaction (EIP-2718 bytes) of ``tx``: chainId, nonce, to,
        data, value, gas and either maxFeePerGas + maxPriorityFeePerGas or gasPrice."""
        ...


@dataclass(frozen=True)
class Sent:
    """A mined transaction: where, what it cost, what the registry logged."""

    tx_hash: str
    block: int
    gas_used: int
    gas_limit: int
    fee_wei: int
    success: bool
    contract_address: str | None = None
    events: list[Logged] = field(default_factory=list)


class Sender:
    """Transactions of ``signer`` to the registry at ``registry`` (or a deployment) on ``rpc``."""

    def __init__(
        self,
        rpc: Rpc,
        signer: Signer,
        *,
        chain_id: int,
        registry: str | None = None,
        mining_timeout: float = DEFAULT_MINING_TIMEOUT,
        on_wait: Callable[[WaitEvent], None] | None = None,
        lock_dir: Path | None = None,
        replace_after_blocks: int | None = DEFAULT_REPLACE_AFTER_BLOCKS,
        replace_after_seconds: float | None = DEFAULT_REPLACE_AFTER_SECONDS,
        report_every: float = DEFAULT_REPORT_EVERY,
        rebroadcast_after: float = DEFAULT_REBROADCAST_AFTER,
    ) -> None:
        """``lock_dir``: the folder of the accounts' nonce locks (``<settings.home>/locks``; None:
        this process only). A transaction not mined ``replace_after_blocks`` blocks or
        ``replace_after_seconds`` after it was sent is replaced (None: never by that measure);
        ``on_wait`` hears of waits every ``report_every`` seconds and of each replacement; a
        transaction the node does not hold after ``rebroadcast_after`` seconds is sent again."""
        self.rpc = rpc
        self.signer = signer
        self.chain_id = chain_id
        self.registry = checksum(registry) if registry else None
        self.mining_timeout = mining_timeout
        self.on_wait = on_wait
        self.lock_dir = lock_dir
        self.replace_after_blocks = replace_after_blocks
        self.replace_after_seconds = replace_after_seconds
        self.report_every = report_every
        self.rebroadcast_after = rebroadcast_after
        self.nonces = NonceBook(rpc, self.address, lock_dir)
        self._in_flight: dict[str, InFlight] = {}

    @property
    def address(self) -> str:
        return checksum(self.signer.address)

    # -- the registry's functions ---------------------------------------------------------------

    def calldata(self, name: str, *args: Any) -> bytes:
        return function(name).calldata(*args)

    def call(self, name: str, *args: Any, gas_limit: int | None = None) -> Sent:
        """Send the registry's function ``name`` with ``args`` and wait until it is mined."""
        if self.registry is None:
            raise SupplytraceError("no registry to send to; deploy one first (`supplytrace deploy`).")
        return self.transact(self.calldata(name, *args), to=self.registry, gas_limit=gas_limit)

    def deploy(self, *args: Any, contract: str = abi.REGISTRY) -> Sent:
        """Deploy ``contract`` from the packaged artifact with constructor ``args``."""
        code = bytes.fromhex(abi.artifact(contract)["deploymentBytecode"].removeprefix("0x"))
        return self.transact(code + constructor_args(*args, contract=contract), to=None)

    # -- the steps ------------------------------------------------------------------------------

    def estimate(self, data: bytes, *, to: str | None) -> int:
        """eth_estimateGas; a revert raises the registry's error in plain words."""
        call: dict[str, Any] = {"from": self.address, "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = to
        try:
            return hex_int(self.rpc.request("eth_estimateGas", [call]))
        except RpcError as exc:
            raise refusal(exc) from exc

    def fees(self) -> dict[str, int]:
        """EIP-1559 fees (``2 x base fee + tip``) where the chain has a base fee, else a gas price."""
        block, tip, price = self.rpc.batch(
            [
                ("eth_getBlockByNumber", ["latest", False]),
                ("eth_maxPriorityFeePerGas", []),
                ("eth_gasPrice", []),
            ],
            raise_errors=False,
        )
        base = block.get("baseFeePerGas") if isinstance(block, dict) else None
        if base is not None:
            priority = hex_int(tip) if not isinstance(tip, RpcError) else 1_000_000_000
            return {"maxFeePerGas": 2 * hex_int(base) + priority, "maxPriorityFeePerGas": priority}
        if isinstance(price, RpcError):
            raise price
        return {"gasPrice": hex_int(price)}

    def send(self, data: bytes, *, to: str | None, gas_limit: int) -> str:
        """Sign and send under the account's nonce lock; returns the transaction hash (known
        before the node answers). :meth:`wait` takes it (or a replacement's) to its receipt."""
        fees = self.fees()
        at_least = 0
        for _attempt in range(NONCE_ATTEMPTS):
            with self.nonces.locked():
                nonce = self.nonces.next_nonce(at_least=at_least)
                tx: dict[str, Any] = {
                    "chainId": self.chain_id,
                    "nonce": nonce,
                    "to": to,
                    "data": data,
                    "value": 0,
                    "gas": gas_limit,
                    **fees,
                }
                raw = self.signer.sign_transaction(tx)
                tx_hash = _hash(raw)
                taken = self._broadcast(raw, tx_hash)
                if not taken:
                    self.nonces.handed_out(nonce, tx_hash)
            if not taken:
                now = time.monotonic()
                self._in_flight[tx_hash] = InFlight(tx, raw, [tx_hash], since=now, checked=now)
                return tx_hash
            at_least = nonce + 1  # another transaction of the account holds this nonce: the next
        raise ChainError(
            f"every nonce tried ({NONCE_ATTEMPTS}) for {self.address} was taken by other transactions "
            "of the account; stop the other programs sending from it, then run the command again."
        )

    def _broadcast(self, raw: bytes, tx_hash: str) -> bool:
        """eth_sendRawTransaction; True when another transaction of the account holds the nonce.
        Raises the node's refusal in plain words."""
        try:
            answer = self.rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            if _maybe_accepted(exc) or is_known_already(exc):
                return False  # the node may have it: waiting tells (and sends it again if not)
            if is_nonce_conflict(exc):
                return not self._known(tx_hash)  # ours, sent before: pending or mined
            raise refusal(exc) from exc
        if isinstance(answer, str) and answer.lower() != tx_hash:
            raise ChainError(f"the node reported transaction {answer} for {tx_hash}; check the RPC URL.")
        return False

    def _known(self, tx_hash: str) -> bool:
        """The node holds the transaction (pending or mined)."""
        return self.rpc.request("eth_getTransactionByHash", [tx_hash]) is not None

    def wait(self, tx_hash: str, *, gas_limit: int = 0) -> Sent:
        """The transaction's outcome once mined (``tx_hash`` or, when it sat and was replaced,
        whichever of its hashes is mined); reports the wait through ``on_wait``."""
        flight = self._in_flight.get(tx_hash)
        started = reported = time.monotonic()
        delay = 0.02
        while True:
            hashes = flight.hashes if flight else [tx_hash]
            mined, block = self._poll(hashes, gas_limit)
            if mined is not None:
                self._in_flight.pop(tx_hash, None)
                return mined
            now = time.monotonic()
            if now - started >= self.mining_timeout:
                raise ChainError(
                    f"transaction {' or '.join(hashes)} was sent but not mined within "
                    f"{self.mining_timeout:.0f} s; look it up on a block explorer, then run the command "
                    "again (it sends nothing twice)."
                )
            if self.on_wait is not None and now - reported >= self.report_every:
                reported = now
                self.on_wait(Waiting(hashes[-1], now - started, block))
            if flight is not None:
                self._tend(flight, block, now)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _poll(self, hashes: list[str], gas_limit: int) -> tuple[Sent | None, int | None]:
        """(the mined one of ``hashes`` or None, the node's block); a transient failure is a
        poll without news."""
        calls = [("eth_getTransactionReceipt", [h]) for h in hashes] + [("eth_blockNumber", [])]
        try:
            answers = self.rpc.batch(calls, raise_errors=False)
        except RpcError as exc:
            if exc.transient:
                return None, None
            raise
        for h, receipt in zip(hashes, answers, strict=False):
            if isinstance(receipt, dict) and receipt.get("blockNumber") is not None:
                return self._sent(h, receipt, gas_limit), None
        head = answers[-1]
        return None, (hex_int(head) if isinstance(head, str | int) else None)

    def _tend(self, flight: InFlight, block: int | None, now: float) -> None:
        """Between polls: send again what the node forgot; replace what sits."""
        if flight.block is None:
            flight.block = block
        if now - flight.checked >= self.rebroadcast_after:
            flight.checked = now
            if not self._known(flight.hashes[-1]):
                self._resend(flight.raw)
        blocks = block - flight.block if block is not None and flight.block is not None else None
        by_blocks = (
            self.replace_after_blocks is not None
            and blocks is not None
            and blocks >= self.replace_after_blocks
        )
        by_time = self.replace_after_seconds is not None and now - flight.since >= self.replace_after_seconds
        if (by_blocks or by_time) and flight.replacements < MAX_REPLACEMENTS:
            self._replace(flight, block, now, blocks=blocks if by_blocks else None)

    def _resend(self, raw: bytes) -> None:
        try:
            self.rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            if not (_maybe_accepted(exc) or is_known_already(exc) or is_nonce_conflict(exc)):
                raise refusal(exc) from exc

    def _replace(self, flight: InFlight, block: int | None, now: float, *, blocks: int | None) -> None:
        """Sign ``flight``'s transaction again, same nonce, fees bumped; report it."""
        waited = now - flight.since
        flight.since, flight.block = now, block
        mined = hex_int(self.rpc.request("eth_getTransactionCount", [self.address, "latest"]))
        if mined > flight.nonce:
            if flight.nonce_used:  # seen at the last turn too, and no receipt of ours came
                raise ChainError(
                    f"nonce {flight.nonce} of {self.address} went to a transaction this command did not "
                    f"send (not {' or '.join(flight.hashes)}); check on a block explorer what it did, "
                    "then run the command again."
                )
            flight.nonce_used = True  # ours is mined, its receipt comes; or it is not ours
            return
        fees = bumped(flight.fees, self.fees())
        tx = {
            k: v
            for k, v in flight.tx.items()
            if k not in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice")
        }
        tx.update(fees)
        raw = self.signer.sign_transaction(tx)
        new_hash = _hash(raw)
        try:
            self.rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            if "nonce too low" in str(exc).lower():
                return  # one of ours was mined meanwhile: its receipt comes
            if not (_maybe_accepted(exc) or is_known_already(exc)):
                if "underpriced" in str(exc).lower():
                    flight.tx = tx  # the node asks for more: the next bump starts from here
                    return
                raise refusal(exc) from exc
        old_hash = flight.hashes[-1]
        flight.tx, flight.raw = tx, raw
        flight.hashes.append(new_hash)
        flight.replacements += 1
        if self.on_wait is not None:
            self.on_wait(Replaced(old_hash, new_hash, flight.nonce, blocks, waited, fees))

    def transact(self, data: bytes, *, to: str | None, gas_limit: int | None = None) -> Sent:
        """Estimate (unless ``gas_limit``), send and wait; a revert raises in plain words."""
        if gas_limit is None:
            estimate = self.estimate(data, to=to)
            gas_limit = min(TX_GAS_CAP, estimate + estimate // 5 + 10_000)
        sent = self.wait(self.send(data, to=to, gas_limit=gas_limit), gas_limit=gas_limit)
        if not sent.success:
            raise self._reverted(sent, data, to)
        return sent

    # -- helpers --------------------------------------------------------------------------------

    def _sent(self, tx_hash: str, receipt: dict[str, Any], gas_limit: int) -> Sent:
        gas_used = hex_int(receipt.get("gasUsed", "0x0"))
        price = hex_int(receipt.get("effectiveGasPrice", "0x0"))
        address = receipt.get("contractAddress")
        registry = (address or self.registry or "").lower()
        events = [
            e
            for log in receipt.get("logs", [])
            if str(log.get("address", "")).lower() == registry and (e := decode_log(log)) is not None
        ]
        return Sent(
            tx_hash,
            hex_int(receipt["blockNumber"]),
            gas_used,
            gas_limit,
            gas_used * price,
            hex_int(receipt.get("status", "0x1")) == 1,
            checksum(address) if address else None,
            events,
        )

    def _reverted(self, sent: Sent, data: bytes, to: str | None) -> SupplytraceError:
        """Why a mined transaction reverted: the same call replayed at its block."""
        call: dict[str, Any] = {"from": self.address, "data": "0x" + data.hex(), "gas": hex(sent.gas_limit)}
        if to is not None:
            call["to"] = to
        try:
            self.rpc.request("eth_call", [call, hex(sent.block - 1)])
        except RpcError as exc:
            error = revert_error(exc.data)
            if error is not None:
                return error
        if sent.gas_used >= sent.gas_limit:
            return TransactionFailedError(
                f"transaction {sent.tx_hash} ran out of gas ({sent.gas_used:,}); run the command again."
            )
        return TransactionFailedError(
            f"transaction {sent.tx_hash} reverted (block {sent.block}); the chain changed since it was "
            "checked. Run the command again."
        )


def _hash(raw: bytes) -> str:
    return "0x" + keccak(raw).hex()


def _maybe_accepted(exc: RpcError) -> bool:
    """The send's answer was lost (timeout, dropped connection, HTTP 5xx): the node may hold it."""
    return exc.transport and (exc.status is None or exc.status in _MAYBE_ACCEPTED)
