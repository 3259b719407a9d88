"""Reads of the registry's views, encoded and decoded from its ABI, as the package's records.

Each read is a :class:`Read`: the JSON-RPC calls it needs (sent as one batch) and how to turn
their answers into a value. :class:`RegistryReads` runs them on the synchronous :class:`Rpc`
(command line, batches, indexer), :class:`AsyncRegistryReads` on :class:`AsyncRpc` (the page):
one definition of every read, two transports.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from supplytrace.chain.codec import function, revert_error
from supplytrace.chain.rpc import AsyncRpc, Rpc, RpcError, hex_int
from supplytrace.core.hashing import ZERO_ADDRESS, checksum
from supplytrace.core.records import ContainerRecord, ItemRecord, ItemStatus, LotRecord, QuantityUnit
from supplytrace.core.text import ChainText

T = TypeVar("T")
Call = tuple[str, list[Any]]
#: Item ids per ``itemStatuses`` eth_call.
STATUS_CALL_SIZE = 1000


@functools.cache
def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


_FIELDS: dict[type[Any], tuple[tuple[str, Any, bool], ...]] = {}


def _record_fields(record_type: type[Any]) -> tuple[tuple[str, Any, bool], ...]:
    """(field name, its type without ``| None``, whether it may be None) of a record dataclass,
    in order: worked out once per type (``typing.get_type_hints`` costs more than decoding a
    whole answer)."""
    found = _FIELDS.get(record_type)
    if found is None:
        hints = typing.get_type_hints(record_type)
        found = _FIELDS[record_type] = tuple(
            (
                f.name,
                next((a for a in typing.get_args(hints[f.name]) if a is not type(None)), hints[f.name]),
                type(None) in typing.get_args(hints[f.name]),
            )
            for f in dataclasses.fields(record_type)
        )
    return found


_ZERO_WORD = b"\0" * 32


def _field_value(annotation: Any, value: Any, optional: bool = False) -> Any:
    if annotation is ChainText:
        return ChainText.from_word(value)
    if annotation is ItemStatus:
        return ItemStatus(value) if value in ItemStatus._value2member_map_ else ItemStatus.UNKNOWN
    if annotation is QuantityUnit:
        return QuantityUnit.of(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return None if value == ZERO_ADDRESS else checksum(value)
    if optional and annotation is bytes:
        return None if bytes(value) == _ZERO_WORD else bytes(value)  # an id, or none (0)
    return value


def as_record(record_type: type[T], struct: dict[str, Any], **given: Any) -> T:
    """A record dataclass from a decoded ABI struct: each field from the component of the same
    name (camelCase in the ABI), address(0) and an optional zero id as None, bytes32 codes as
    ChainText, enums as their types."""
    by_snake = {_snake(k): v for k, v in struct.items()}
    values = {}
    for name, base, optional in _record_fields(record_type):
        values[name] = given[name] if name in given else _field_value(base, by_snake[name], optional)
    return record_type(**values)


def _call(to: str, name: str, *args: Any, block: int | None = None) -> Call:
    at = "latest" if block is None else hex(block)
    return "eth_call", [{"to": to, "data": "0x" + function(name).calldata(*args).hex()}, at]


#: Views whose record grew at the end (issue #14: an item's container, a lot's quantities): a
#: registry deployed before answers with the shorter record, read with the new fields zero
#: (no container, no declared quantity), which is what that registry holds.
_GROWN_RECORDS = ("getItem", "getLot")


def _returned(name: str, answer: Any) -> Any:
    """The decoded answer of an eth_call of ``name``; a revert raises the registry's error."""
    if isinstance(answer, RpcError):
        error = revert_error(answer.data) if answer.data else None
        raise error or answer
    if not isinstance(answer, str) or not answer.startswith("0x"):
        raise RpcError(
            None, f"the node answered {name} with {str(answer)[:60]!r} instead of data.", transport=True
        )
    data = bytes.fromhex(answer[2:])
    if name in _GROWN_RECORDS and data:  # a static struct: one word per field
        data = data.ljust(32 * len(function(name).outputs[0]["components"]), b"\0")
    return function(name).result(data)


@dataclass(frozen=True)
class Read(Generic[T]):
    """JSON-RPC calls and how to read their answers."""

    calls: list[Call]
    parse: Callable[[list[Any]], T]


def canonical_probe(block_hash: str) -> Call:
    """A state read pinned to ``block_hash`` with EIP-1898's ``requireCanonical``: the node answers
    it only while that block is on its chain (a few bytes, where the block itself lists every
    transaction hash: 36 kB for a block of 500 transactions)."""
    return "eth_getBalance", [ZERO_ADDRESS, {"blockHash": block_hash, "requireCanonical": True}]


def probed(read: Read[T], block_hash: str) -> Read[tuple[T, bool]]:
    """``read`` with :func:`canonical_probe` of ``block_hash`` in the same round trip: (its answer,
    whether the node answered the probe, i.e. holds that block on its chain)."""

    def parse(results: list[Any]) -> tuple[T, bool]:
        return read.parse(results[:-1]), not isinstance(results[-1], RpcError)

    return Read([*read.calls, canonical_probe(block_hash)], parse)


class _Reads:
    """The reads of the registry at ``address`` (checksummed)."""

    def __init__(self, address: str) -> None:
        self.address = checksum(address)

    def _view(self, name: str, *args: Any) -> Read[Any]:
        return Read([_call(self.address, name, *args)], lambda r: _returned(name, r[0]))

    def item_read(self, item_id: bytes) -> Read[ItemRecord]:
        def parse(results: list[Any]) -> ItemRecord:
            return as_record(ItemRecord, _returned("getItem", results[0]), item_id=bytes(item_id))

        return Read([_call(self.address, "getItem", bytes(item_id))], parse)

    def item_at_head_read(
        self, item_id: bytes, gtin: int | None = None
    ) -> Read[tuple[ItemRecord, int, str | None]]:
        """(the item's record, the chain head, the owner of ``gtin`` if asked): one round trip."""
        calls = [("eth_blockNumber", []), _call(self.address, "getItem", bytes(item_id))]
        if gtin is not None:
            calls.append(_call(self.address, "gtinOwner", gtin))

        def parse(results: list[Any]) -> tuple[ItemRecord, int, str | None]:
            record = as_record(ItemRecord, _returned("getItem", results[1]), item_id=bytes(item_id))
            owner = _returned("gtinOwner", results[2]) if gtin is not None else None
            return record, _quantity(results[0]), None if owner in (None, ZERO_ADDRESS) else owner

        return Read(calls, parse)

    def lot_at_head_read(self, lot_id: int) -> Read[tuple[LotRecord | None, int]]:
        """(the lot's record or None if there is no such lot, the chain head)."""
        calls = [
            ("eth_blockNumber", []),
            _call(self.address, "lotCount"),
            _call(self.address, "getLot", lot_id),
        ]

        def parse(results: list[Any]) -> tuple[LotRecord | None, int]:
            head, count = _quantity(results[0]), _returned("lotCount", results[1])
            if not 0 < lot_id <= count:
                return None, head
            return as_record(LotRecord, _returned("getLot", results[2]), lot_id=lot_id), head

        return Read(calls, parse)

    def lots_read(self, lot_ids: Sequence[int]) -> Read[list[LotRecord | None]]:
        """The records of ``lot_ids`` (``getLot`` each, in one batch): a page's ingredient lots.
        None for a lot the registry refuses (no such lot: the ids came from a history source);
        a failure of the node raises."""
        ids = list(lot_ids)

        def parse(results: list[Any]) -> list[LotRecord | None]:
            out: list[LotRecord | None] = []
            for lot_id, answer in zip(ids, results, strict=True):
                if isinstance(answer, RpcError) and answer.data:  # a revert: UnknownLot
                    out.append(None)
                    continue
                record = as_record(LotRecord, _returned("getLot", answer), lot_id=lot_id)
                out.append(record if record.registrar is not None else None)
            return out

        return Read([_call(self.address, "getLot", lot_id) for lot_id in ids], parse)

    def lot_id_read(self, gtin: int, lot_code_word: bytes) -> Read[int]:
        """The id of the lot of ``gtin`` with that code (``lotIdOf``), 0 if none."""
        return Read(
            [_call(self.address, "lotIdOf", gtin, lot_code_word)], lambda r: int(_returned("lotIdOf", r[0]))
        )

    def container_read(self, container_id: bytes) -> Read[ContainerRecord]:
        """A container's record (``getContainer``: all zero for an id never packed into)."""

        def parse(results: list[Any]) -> ContainerRecord:
            struct = _returned("getContainer", results[0])
            return as_record(ContainerRecord, struct, container_id=bytes(container_id))

        return Read([_call(self.address, "getContainer", bytes(container_id))], parse)

    def statuses_read(self, item_ids: Sequence[bytes]) -> Read[list[tuple[ItemStatus, int]]]:
        """(status, lot id) of each item (``itemStatuses``), :data:`STATUS_CALL_SIZE` per eth_call."""
        parts = [list(item_ids[i : i + STATUS_CALL_SIZE]) for i in range(0, len(item_ids), STATUS_CALL_SIZE)]

        def parse(results: list[Any]) -> list[tuple[ItemStatus, int]]:
            out: list[tuple[ItemStatus, int]] = []
            for answer in results:
                statuses, lots = _returned("itemStatuses", answer)
                out.extend((_field_value(ItemStatus, s), int(n)) for s, n in zip(statuses, lots, strict=True))
            return out

        return Read([_call(self.address, "itemStatuses", [bytes(i) for i in p]) for p in parts], parse)

    def role_read(self, address: str, role: bytes, block: int | None = None) -> Read[bool]:
        """Whether ``address`` holds ``role`` (``hasRole``) now, or at ``block``."""
        return Read(
            [_call(self.address, "hasRole", role, address, block=block)],
            lambda results: bool(_returned("hasRole", results[0])),
        )

    def account_read(self, address: str, role: bytes) -> Read[tuple[bytes, bool, int]]:
        """(code at ``address``, whether it holds ``role``, the chain head)."""
        calls = [
            ("eth_blockNumber", []),
            ("eth_getCode", [address, "latest"]),
            _call(self.address, "hasRole", role, address),
        ]

        def parse(results: list[Any]) -> tuple[bytes, bool, int]:
            code = results[1]
            if isinstance(code, RpcError):
                raise code
            return bytes.fromhex(str(code)[2:]), bool(_returned("hasRole", results[2])), _quantity(results[0])

        return Read(calls, parse)


def packed_in_read(address: str, item_id: bytes) -> Read[bytes]:
    """The container an item or container is packed in (32 zero bytes: none), from ``getItem``
    and ``getContainer`` (an id is one or the other)."""
    calls = [_call(address, "getItem", bytes(item_id)), _call(address, "getContainer", bytes(item_id))]

    def parse(results: list[Any]) -> bytes:
        item = _returned("getItem", results[0])
        outer = (
            item["container"] if int(item["status"]) else _returned("getContainer", results[1])["container"]
        )
        return bytes(outer)

    return Read(calls, parse)


def container_custody(container: ContainerRecord) -> ItemRecord:
    """A container's custody as an item record (active, no lot): what the custody use cases and
    the relayer read of what they move (custodian, open offer, custody nonce)."""
    return dataclasses.replace(
        ItemRecord.unknown(container.container_id),
        status=ItemStatus.ACTIVE if container.exists else ItemStatus.UNKNOWN,
        custodian=container.custodian,
        pending_receiver=container.pending_receiver,
        custody_nonce=container.custody_nonce,
        updated_at=container.updated_at,
    )


def _quantity(value: Any) -> int:
    if isinstance(value, RpcError):
        raise value
    return hex_int(value)


class RegistryReads(_Reads):
    """The registry's views over a synchronous :class:`Rpc`."""

    def __init__(self, rpc: Rpc, address: str) -> None:
        super().__init__(address)
        self.rpc = rpc

    def run(self, read: Read[T]) -> T:
        return read.parse(self.rpc.batch(read.calls, raise_errors=False)) if read.calls else read.parse([])

    def view(self, name: str, *args: Any) -> Any:
        """Any view function of the registry by its ABI name."""
        return self.run(self._view(name, *args))

    def item(self, item_id: bytes) -> ItemRecord:
        return self.run(self.item_read(item_id))

    def lot(self, lot_id: int) -> LotRecord | None:
        return self.run(self.lot_at_head_read(lot_id))[0]

    def container(self, container_id: bytes) -> ContainerRecord:
        return self.run(self.container_read(container_id))

    def lot_count(self) -> int:
        return int(self.view("lotCount"))

    def lot_id_of(self, gtin: int, lot_code_word: bytes) -> int:
        return int(self.view("lotIdOf", gtin, lot_code_word))

    def gtin_owner(self, gtin: int) -> str | None:
        owner = self.view("gtinOwner", gtin)
        return None if owner == ZERO_ADDRESS else str(owner)

    def has_role(self, role: bytes, account: str) -> bool:
        return bool(self.view("hasRole", role, account))

    def item_statuses(self, item_ids: Sequence[bytes]) -> list[tuple[ItemStatus, int]]:
        return self.run(self.statuses_read(item_ids))

    def head(self) -> int:
        return hex_int(self.rpc.request("eth_blockNumber", []))

    def senders(self, tx_hashes: Iterable[str]) -> dict[str, str]:
        """The sender (``from``) of each transaction, in one batch; a transaction the node does not
        know, or answers oddly, is left out."""
        hashes = list(dict.fromkeys(tx_hashes))
        answers = self.rpc.batch([("eth_getTransactionByHash", [h]) for h in hashes], raise_errors=False)
        found = {}
        for tx_hash, answer in zip(hashes, answers, strict=True):
            sender = answer.get("from") if isinstance(answer, dict) else None
            if isinstance(sender, str) and len(sender) == 42:
                found[tx_hash] = checksum(sender)
        return found


class AsyncRegistryReads(_Reads):
    """The registry's views over :class:`AsyncRpc` (the page)."""

    def __init__(self, rpc: AsyncRpc, address: str) -> None:
        super().__init__(address)
        self.rpc = rpc

    async def run(self, read: Read[T]) -> T:
        return (
            read.parse(await self.rpc.batch(read.calls, raise_errors=False)) if read.calls else read.parse([])
        )
