"""Reads of the events table by its indexes, shared by the store (rollbacks, rebuilds) and the
reader: an item's events, a lot's events, and stored rows as :class:`Logged` events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select

from supplytrace.core.events import Logged, decode
from supplytrace.indexer import schema

EVENT_COLUMNS = (
    schema.events.c.name,
    schema.events.c.block_number,
    schema.events.c.log_index,
    schema.events.c.tx_hash,
    schema.events.c.block_hash,
    schema.events.c.topics,
    schema.events.c.data,
    schema.events.c.block_timestamp,
)


def stored_logged(row: Any) -> Logged:
    """An events-table row (:data:`EVENT_COLUMNS`) as its decoded event."""
    name, block, log_index, tx_hash, block_hash, topics, data, stamp = row
    return Logged(
        decode(name, bytes(topics), bytes(data)), block, log_index, "0x" + bytes(tx_hash).hex(),
        "0x" + bytes(block_hash).hex(), stamp,
    )  # fmt: skip


def item_events_query(chain_id: Any, key: Any) -> Any:
    """Events of the items with ``item_key`` ``key`` (one, several in a sequence, or a bind
    parameter; likewise ``chain_id``), by the ``events_by_item``
    index (the explicit IS NOT NULL is the partial index's condition, for SQLite's planner).
    Another item's id may share the key: the caller keeps the events of the ids it wants."""
    c = schema.events.c
    match = c.item_key.in_(key) if isinstance(key, Sequence) else c.item_key == key
    return select(*EVENT_COLUMNS).where(and_(c.chain_id == chain_id, match, c.item_key.isnot(None)))


def lot_events_query(chain_id: Any, lot_id: Any) -> Any:
    """Events of the lots ``lot_id`` (one, several in a sequence, or a bind parameter), by the
    ``events_by_lot`` index (its
    condition repeated for SQLite's planner; registrations, which also carry their lot, are not
    in it)."""
    c = schema.events.c
    match = c.lot_id.in_(lot_id) if isinstance(lot_id, Sequence) else c.lot_id == lot_id
    return select(*EVENT_COLUMNS).where(
        and_(c.chain_id == chain_id, match, c.lot_id.isnot(None), c.item_key.is_(None))
    )


def in_chain_order(stmt: Any) -> Any:
    return stmt.order_by(schema.events.c.block_number, schema.events.c.log_index)
