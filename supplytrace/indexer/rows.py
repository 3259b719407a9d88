"""The indexer's rows: block headers and the events table's rows, made from raw logs.

Kept apart from :mod:`.store` (SQLAlchemy) so that the processes that fetch and split logs
(:mod:`.fetch`) start quickly: this module needs only :mod:`supplytrace.events`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from supplytrace.events import ITEM_EVENTS, LAYOUTS, LOT_EVENTS, Event, block_int, decode_args, log_parts

_blob = bytearray.fromhex
_REGISTRATION, _ITEM, _LOT, _OTHER = "registration", "item", "lot", "other"
_KIND = {
    name: _REGISTRATION
    if name == "ItemRegistered"
    else _ITEM
    if name in ITEM_EVENTS
    else _LOT
    if name in LOT_EVENTS
    else _OTHER
    for name in LAYOUTS
}


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


class RawLog(msgspec.Struct, rename="camel", gc=False):
    """An ``eth_getLogs`` entry as the indexer reads it: decoded straight from the node's JSON
    (:meth:`.rpc.HttpRpc.request` with ``result=list[RawLog]``), ~2x faster than a generic parse
    into dicts; the fields the index does not keep (address, transactionIndex) are skipped."""

    block_number: str
    log_index: str
    block_hash: str
    transaction_hash: str
    topics: list[str] = []
    data: str = "0x"
    block_timestamp: str | None = None  # anvil and geth 1.16+ include it
    removed: bool = False


def raw_logs(logs: Iterable[dict[str, Any]]) -> list[RawLog]:
    """:class:`RawLog` entries of logs already parsed into dicts (tests, other clients)."""
    return msgspec.convert(list(logs), list[RawLog])


def account_of(args: dict[str, Any]) -> str | None:
    """The participant a non-item event is about (the events table's ``account``)."""
    return args.get("brand") or args.get("participant") or args.get("account") or args.get("registrar")


#: An ``events`` row without its chain id: (block number, log index, block hash, tx hash, block
#: time, name, item key, lot id, account, topics, data); see :func:`event_rows`.
EventRow = tuple[Any, ...]


class Col:
    """Positions in an :data:`EventRow`."""

    BLOCK, LOG_INDEX, BLOCK_HASH, TX_HASH, TIME, NAME, ITEM_KEY, LOT_ID, ACCOUNT, TOPICS, DATA = range(11)


def event_rows(logs: Iterable[RawLog]) -> list[EventRow]:
    """The ``events`` rows of raw ``eth_getLogs`` entries, in their order: the registry's events
    only (other contracts' logs, malformed and removed logs are left out). The block time is None
    where the node leaves ``blockTimestamp`` out (the fetcher then takes it from the headers).

    This is the indexer's hot loop: item events (almost all of them) are not decoded at all, only
    split into their stored form; their arguments are read where they are needed. Hashes,
    topics and data are bytearrays (sqlite3 binds bytes through its adapter lookup, ~350 ns a
    value, a bytearray directly, ~80 ns); everything that reads them treats them as bytes.
    """
    rows: list[EventRow] = []
    append = rows.append
    hashes: dict[str, bytearray] = {}  # every log of a block or transaction repeats its hash
    for log in logs:
        if log.removed:
            continue
        parts = log_parts(log.topics, log.data, _blob)
        if parts is None:
            continue
        name, topics, data = parts
        block_hash = hashes.get(text := log.block_hash)
        if block_hash is None:
            block_hash = hashes[text] = _blob(text[2:])
        tx_hash = hashes.get(text := log.transaction_hash)
        if tx_hash is None:
            tx_hash = hashes[text] = _blob(text[2:])
        block = block_int(log.block_number)
        stamp = block_int(log.block_timestamp) if log.block_timestamp else None
        kind = _KIND[name]
        key: int | None = None
        lot: int | None = None
        account: str | None = None
        if kind is _REGISTRATION:  # registrations also carry their lot (see store._register_items)
            key, lot = int.from_bytes(topics[:8], "big", signed=True), int.from_bytes(topics[32:64])
        elif kind is _ITEM:
            key = int.from_bytes(topics[:8], "big", signed=True)
        else:
            args = decode_args(name, bytes(topics), bytes(data))
            lot, account = args["lotId"] if kind is _LOT else None, account_of(args)
        index = int(log.log_index, 16)
        append((block, index, block_hash, tx_hash, stamp, name, key, lot, account, topics, data))
    return rows


def row_to_event(row: EventRow) -> Event:
    """The decoded event of an :func:`event_rows` row."""
    name, topics, data = row[Col.NAME], row[Col.TOPICS], row[Col.DATA]
    tx_hash, block_hash = "0x" + row[Col.TX_HASH].hex(), "0x" + row[Col.BLOCK_HASH].hex()
    args = decode_args(name, bytes(topics), bytes(data))
    return Event(name, row[Col.BLOCK], row[Col.LOG_INDEX], tx_hash, block_hash, args, row[Col.TIME])
