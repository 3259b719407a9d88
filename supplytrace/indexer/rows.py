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
#: How each event type's row is keyed: by item or container (registrations also by lot), by lot,
#: or by account.
_KIND: dict[type[RegistryEvent], int] = {
    t: _REGISTRATION
    if t is REGISTRATION
    else _ITEM
    if s.subject in ("item", "container")  # a container's events are keyed by its id, as an item's
    else _LOT
    if s.subject == "lot"
    else _OTHER
    for t, s in SPECS.items()
}
#: topic 0 (as nodes write it, lowercase hex) -> (spec, topics with topic 0, has data, kind).
_SHAPES: dict[str, tuple[Any, int, bool, int]] = {
    spec.topic0: (spec, spec.topics + 1, spec.has_data, _KIND[t]) for t, spec in SPECS.items()
}
_SHAPE_OF = {shape[0].name: shape for shape in _SHAPES.values()}
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
    shapes = _SHAPES
    blob = _blob
    from_bytes = int.from_bytes
    hashes: dict[str, bytearray] = {}  # every log of a block or transaction repeats its hash
    for log in logs:
        if log.removed:
            continue
        # core.events.split_log, inlined: this loop runs once per log of the chain
        topics_text = log.topics
        shape = shapes.get(topics_text[0]) if topics_text else None
        if shape is None:
            parts = split_log(topics_text, log.data, blob)  # other spellings, or not ours
            if parts is None:
                continue
            shape = _SHAPE_OF[parts[0].name]
        spec, count, has_data, kind = shape
        if len(topics_text) != count:
            continue
        topics = blob("".join([t[2:] for t in topics_text[1:]]))
        data = blob(log.data[2:]) if has_data else blob("")
        block_hash = hashes.get(text := log.block_hash)
        if block_hash is None:
            block_hash = hashes[text] = blob(text[2:])
        tx_hash = hashes.get(text := log.transaction_hash)
        if tx_hash is None:
            tx_hash = hashes[text] = blob(text[2:])
        block = block_int(log.block_number)
        stamp = block_int(log.block_timestamp) if log.block_timestamp else None
        key: int | None = None
        lot: int | None = None
        account: str | None = None
        if kind == _ITEM:
            key = from_bytes(topics[:8], "big", signed=True)
        elif kind == _REGISTRATION:  # registrations also carry their lot (see bulk.register_items)
            key, lot = from_bytes(topics[:8], "big", signed=True), from_bytes(topics[32:64])
        elif kind == _LOT:
            lot = from_bytes(topics[:32])
        else:
            account = account_of(spec.decode(bytes(topics), bytes(data)))
        append(
            (
                block,
                int(log.log_index, 16),
                block_hash,
                tx_hash,
                stamp,
                spec.name,
                key,
                lot,
                account,
                topics,
                data,
            )
        )
    return rows


def row_logged(row: EventRow) -> Logged:
    """The decoded event of an :func:`event_rows` row (its block time set)."""
    name, topics, data = row[Col.NAME], row[Col.TOPICS], row[Col.DATA]
    return Logged(
        decode(name, topics, data), row[Col.BLOCK], row[Col.LOG_INDEX], "0x" + row[Col.TX_HASH].hex(),
        "0x" + row[Col.BLOCK_HASH].hex(), row[Col.TIME],
    )  # fmt: skip
