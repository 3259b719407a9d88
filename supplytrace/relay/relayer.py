"""The relayer: one signed custody action in, one paid transaction out, or one sentence and
nothing sent.

For each request (:mod:`.request`): the deadline is checked against the chain's clock (not past,
not more than ``max_ahead`` seconds away); then, at one pinned block, the item's record is read
and the exact registry call is simulated from the relayer's account (``eth_call``). A call that
would revert is refused with the registry's error in words (a replayed signature: the item's
nonce moved on) and nothing is sent. The actor is the item's custodian (the receiver of its open
offer for accept and reject), whose key signed (recovered from the EIP-712 digest) or, for an
ERC-1271 wallet, whose wallet approved: the simulation proved one or the other. The actor's and
the relayer's daily caps are then charged the gas limit (:mod:`.caps`, atomically), the
transaction is sent by the idempotent :class:`~supplytrace.chain.send.Sender` and, once mined,
the charge is settled to the gas used.

Actions on one item are relayed one at a time (a second one waits, then is simulated against the
state the first left), so two copies of a signature never both reach the chain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from supplytrace.chain.reads import RegistryReads, container_custody
from supplytrace.chain.refusals import refusal
from supplytrace.chain.rpc import RpcError, hex_int
from supplytrace.chain.send import TX_GAS_CAP, Sender
from supplytrace.core.actions import SIGNER, SignedAction
from supplytrace.core.errors import ChainError, ContractRevertError, SupplytraceError
from supplytrace.core.hashing import checksum
from supplytrace.core.records import ItemRecord
from supplytrace.relay.caps import Caps, UsageBook
from supplytrace.relay.request import RelayRequest, RequestError, parse_request

#: How far ahead a deadline may be (seconds): a signature that lives for ever is a liability.
DEFAULT_MAX_AHEAD = 7 * 24 * 3600
_STRIPES = 64


class RefusedError(SupplytraceError):
    """The registry would refuse the action (the simulation reverted); nothing was sent."""


@dataclass(frozen=True)
class Relayed:
    """A relayed action's transaction: mined (``status`` "success" or "reverted")."""

    kind: str
    item: str
    signer: str
    tx_hash: str
    block: int
    status: str
    gas_used: int
    fee_wei: int
    explorer: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Relayer:
    """Relays signed actions to the registry at ``sender.registry`` on chain ``sender.chain_id``,
    paying from ``sender``'s account within ``caps`` (use kept in ``usage``)."""

    def __init__(
        self,
        sender: Sender,
        usage: UsageBook,
        caps: Caps | None = None,
        *,
        tx_link: Callable[[str], str | None] | None = None,
        max_ahead: int = DEFAULT_MAX_AHEAD,
    ) -> None:
        if sender.registry is None:
            raise SupplytraceError("the relayer needs a registry; deploy one first (`supplytrace deploy`).")
        self.sender = sender
        self.registry = sender.registry
        self.chain_id = sender.chain_id
        self.reads = RegistryReads(sender.rpc, self.registry)
        self.usage = usage
        self.caps = caps or Caps()
        self.tx_link = tx_link or (lambda _hash: None)
        self.max_ahead = max_ahead
        self._locks = [threading.Lock() for _ in range(_STRIPES)]

    @property
    def address(self) -> str:
        return self.sender.address

    def relay(self, body: Any) -> Relayed:
        """Relay the request ``body`` (decoded JSON); raises one sentence when it is refused."""
        request = parse_request(body, chain_id=self.chain_id, registry=self.registry)
        item = bytes(request.action.item)
        with self._locks[item[-1] % _STRIPES]:
            return self._relay(request)

    def _relay(self, request: RelayRequest) -> Relayed:
        action = request.action
        head = self.sender.rpc.request("eth_getBlockByNumber", ["latest", False])
        if not isinstance(head, dict):
            raise ChainError("the node did not answer with its latest block; check the RPC URL.")
        block, block_time = hex_int(head.get("number")), hex_int(head.get("timestamp"))
        self._check_deadline(action, max(int(time.time()), block_time))
        data = self.sender.calldata(
            action.function, *action.arguments(request.signature, request.to_signature)
        )
        record, gas = self._simulate(action, data, block)
        actor = self._actor(request, record)
        gas_limit = min(TX_GAS_CAP, gas + gas // 5 + 10_000)
        reservation = self.usage.reserve(self.chain_id, actor, gas_limit, self.caps)
        try:
            tx_hash = self.sender.send(data, to=self.registry, gas_limit=gas_limit)
        except BaseException:
            self.usage.release(reservation)  # the node refused it: nothing was sent
            raise
        item = "0x" + bytes(action.item).hex()
        self.usage.record(reservation, tx_hash, action.kind, item)
        sent = self.sender.wait(tx_hash, gas_limit=gas_limit)
        status = "success" if sent.success else "reverted"
        self.usage.settle(reservation, sent.gas_used)
        self.usage.record(
            reservation,
            sent.tx_hash,
            action.kind,
            item,
            block=sent.block,
            status=status,
            gas_used=sent.gas_used,
        )
        return Relayed(
            action.kind,
            item,
            actor,
            sent.tx_hash,
            sent.block,
            status,
            sent.gas_used,
            sent.fee_wei,
            self.tx_link(sent.tx_hash),
        )

    def _check_deadline(self, action: SignedAction, now: int) -> None:
        if action.deadline < now:
            raise RequestError(
                f"the signed {action.kind} expired (deadline {action.deadline}, now {now}); sign it again "
                "with a later deadline."
            )
        if action.deadline > now + self.max_ahead:
            raise RequestError(
                f"the signed {action.kind}'s deadline {action.deadline} is more than "
                f"{self.max_ahead // 3600} hours ahead; this relayer takes signatures that expire sooner."
            )

    def _simulate(self, action: SignedAction, data: bytes, block: int) -> tuple[ItemRecord, int]:
        """The item's record and the call's gas at ``block``; a revert raises its sentence."""
        read = self.reads.item_read(bytes(action.item))
        container = self.reads.container_read(bytes(action.item))  # a container moves as an item
        (method, (get_item, _latest)), at = read.calls[0], hex(block)
        get_container = container.calls[0][1][0]
        call = {"from": self.address, "to": self.registry, "data": "0x" + data.hex()}
        answers = self.sender.rpc.batch(
            [(method, [get_item, at]), ("eth_call", [call, at]), ("eth_estimateGas", [call, at]),
             (method, [get_container, at])],
            raise_errors=False,
        )  # fmt: skip
        record = read.parse(answers[:1])
        if not record.registered and not isinstance(answers[3], RpcError):
            record = container_custody(container.parse(answers[3:]))
        for answer in answers[1:3]:
            if isinstance(answer, RpcError):
                error = refusal(answer)
                if isinstance(error, ContractRevertError):
                    raise RefusedError(self._why(action, record, error)) from None
                raise error
        return record, hex_int(answers[2])

    @staticmethod
    def _why(action: SignedAction, record: ItemRecord, error: ContractRevertError) -> str:
        if error.name == "InvalidSignature" and record.registered and action.nonce != record.custody_nonce:
            return (
                f"the {action.kind} was signed at item nonce {action.nonce}, but the item is at nonce "
                f"{record.custody_nonce} (the signature was used, or the item changed since); nothing was "
                "sent. Sign it again."
            )
        return f"{error} Nothing was sent."

    def _actor(self, request: RelayRequest, record: ItemRecord) -> str:
        """Whom the action is charged to: the key that signed it when it is the item's custodian
        (or receiver), else the custodian (receiver) itself, a contract wallet that approved it."""
        action = request.action
        expected = record.custodian if SIGNER[action.kind] == "custodian" else record.pending_receiver
        if expected is None:  # the simulation passed, so the registry found its actor
            raise ChainError("the item changed while the action was checked; send the request again.")
        recovered = _recover(action, request.signature)
        return checksum(recovered if recovered and recovered.lower() == expected.lower() else expected)


def _recover(action: SignedAction, signature: bytes) -> str | None:
    """The key that signed ``action`` (None for a signature that is not a key's)."""
    if len(signature) != 65:
        return None
    from eth_account import Account

    try:
        return str(Account.recover_message(action.signable(), signature=signature))
    except Exception:  # a malformed (r, s, v): not a key's signature
        return None
