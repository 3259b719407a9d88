"""The indexer's rows: block headers and the events table's rows, made from raw logs.

Kept apart from :mod:`.store` (SQLAlchemy) so that the threads that fetch and split logs
(:mod:`.fetch`) need only :mod:`supplytrace.core.events`: each log is split by the one decoder's
:func:`~supplytrace.core.events.split_log` and classified by its spec's subject (an item's
event, the registration that brings an item into being, a lot's event, or another event).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from supplytrace.chain.logs import RawLog
from supplytrace.core.events import REGISTRATION, SPECS, Logged, RegistryEvent, block_int, decode, split_log

_blob = bytearray.fromhex
_REGISTRATION: Final = 0
_ITEM: Final = 1
_LOT: Final = 2
_OTHER: Final = 3
#: How each event type's row is keyed: by item (registrations also by lot), by lot, or by account.
_KIND: dict[type[RegistryEvent], int] = {
    t: _REGISTRATION
    if t is REGISTRATION
    else _ITEM
    if s.subject == "item"
    else _LOT
    if s.subject == "lot"
    else _OTHER
    for t, s in SPECS.items()
}
#: Names of the events that are neither an item's nor a lot's (participants, roles, GTIN and
#: prefix assignments): few, and rebuilt whole by a rollback.
OTHER_EVENT_NAMES: tuple[str, ...] = tuple(s.name for s in SPECS.values() if s.subject == "other")
#: The fields that name the participant of such an event (the events table's ``account``).
_ACCOUNT_FIELDS = ("brand", "participant", "account", "registrar")


@dataclass(frozen=True)
class Header:
    """A block as the index knows it."""

    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int

    @classmethod
    def from_rpc(cls, block: dict[str, Any]) -> Header:
        return cls(
            int(block["number"], 16),
            bytes.fromhex(block["hash"][2:]),
            bytes.fromhex(block["parentHash"][2:]),
            int(block["timestamp"], 16),
        )


def account_of(event: RegistryEvent) -> str | None:
    """The participant an event that is neither an item's nor a lot's is about."""
    for name in _ACCOUNT_FIELDS:
        value = getattr(event, name, None)
        if value is not None:
            return str(value)
    return None


#: An ``events`` row without its chain id: (block number, log index, block hash, tx hash, block
#: time, name, item key, lot id, account, topics, data); see :func:`event_rows`.
EventRow = tuple[Any, ...]


class Col:
    """Positions in an :data:`EventRow`."""

    BLOCK, LOG_INDEX, BLOCK_HASH, TX_HASH, TIME, NAME, ITEM_KEY, LOT_ID, ACCOUNT, TOPICS, DATA = range(11)


def event_rows(logs: Iterable[RawLog]) -> list[EventRow]:
    """The ``events`` rows of raw ``eth_getLogs`` entries, in their order: the registry's events
    only (other events, malformed and removed logs are left out; logs of other contracts or
    blocks were refused by ``fetch_logs``). The block time is None where the node leaves
    ``blockTimestamp`` out (the fetcher then takes it from the headers).

    This is the indexer's hot loop: item and lot events (almost all of them) are not decoded at
    all, only split into their stored form; their arguments are read where they are needed.
    Hashes, topics and data are bytearrays (sqlite3 binds bytes through its adapter lookup,
    ~350 ns a value, a bytearray directly, ~80 ns); everything that reads them treats them as
    bytes.
    """
    rows: list[EventRow] = []
    append = rows.append
    kinds = _KIND
    hashes: dict[str, bytearray] = {}  # every log of a block or transaction repeats its hash
    for log in logs:
        if log.removed:
            continue
        parts = split_log(log.topics, log.data, _blob)
        if parts is None:
            continue
        spec, topics, data = parts
        block_hash = hashes.get(text := log.block_hash)
        if block_hash is None:
            block_hash = hashes[text] = _blob(text[2:])
        tx_hash = hashes.get(text := log.transaction_hash)
        if tx_hash is None:
            tx_hash = hashes[text] = _blob(text[2:])
        block = block_int(log.block_number)
        stamp = block_int(log.block_timestamp) if log.block_timestamp else None
        kind = kinds[spec.type]
        key: int | None = None
        lot: int | None = None
        account: str | None = None
        if kind == _REGISTRATION:  # registrations also carry their lot (see bulk.register_items)
            key, lot = int.from_bytes(topics[:8], "big", signed=True), int.from_bytes(topics[32:64])
        elif kind == _ITEM:
            key = int.from_bytes(topics[:8], "big", signed=True)
        elif kind == _LOT:
            lot = int.from_bytes(topics[:32])
        else:
            account = account_of(spec.decode(bytes(topics), bytes(data)))
        index = int(log.log_index, 16)
        append((block, index, block_hash, tx_hash, stamp, spec.name, key, lot, account, topics, data))
    return rows


def row_logged(row: EventRow) -> Logged:
    """The decoded event of an :func:`event_rows` row (its block time set)."""
    name, topics, data = row[Col.NAME], row[Col.TOPICS], row[Col.DATA]
    return Logged(
        decode(name, topics, data), row[Col.BLOCK], row[Col.LOG_INDEX], "0x" + row[Col.TX_HASH].hex(),
        "0x" + row[Col.BLOCK_HASH].hex(), row[Col.TIME],
    )  # fmt: skip
