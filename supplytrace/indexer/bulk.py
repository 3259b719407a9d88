"""The set-based half of folding a chunk: new items and item changes applied by the database.

Registrations, almost all of a busy chain's events, become ``items`` rows in one
INSERT ... SELECT from the events just stored (:func:`register_items`), never Python objects.
The other item events are folded per item into :class:`~supplytrace.core.reducer.ItemChange`
values (:func:`item_changes`) and applied by two statements (:func:`apply_changes`): one
INSERT ... SELECT adds the custody rows, one UPDATE ... FROM changes the items, as
:meth:`ItemChange.apply` changes a loaded row. The registration event is named here, once, as a
bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable

from supplytrace.core.events import REGISTRATION, decode
from supplytrace.core.records import ItemStatus
from supplytrace.core.reducer import IndexCorruptError, ItemChange, item_event
from supplytrace.indexer import schema
from supplytrace.indexer.database import SQL, bulk
from supplytrace.indexer.rows import Col, EventRow

#: The stored name of the event that brings an item into being (bound as a parameter).
REGISTRATION_NAME = REGISTRATION.__name__


def item_changes(rows: Iterable[EventRow]) -> dict[bytes, ItemChange]:
    """The :class:`ItemChange` of each item the events ``rows`` (item events after registration,
    in chain order) change."""
    changes: dict[bytes, ItemChange] = {}
    for row in rows:
        event = item_event(decode(row[Col.NAME], row[Col.TOPICS], row[Col.DATA]))
        if event is None:
            continue
        item_id = event.item_id
        change = changes.get(item_id)
        if change is None:
            change = changes[item_id] = ItemChange(item_id)
        stamp = row[Col.TIME]
        if stamp is None:
            raise IndexCorruptError(f"event {row[Col.NAME]} at block {row[Col.BLOCK]} has no block time")
        change.add(event, row[Col.BLOCK], row[Col.LOG_INDEX], bytes(row[Col.TX_HASH]), stamp)
    return changes


def _staging(conn: Connection) -> None:
    """Create this connection's staging tables (temporary) if they are not there: every time,
    since a rolled-back transaction takes their creation with it."""
    for table in schema.staging.sorted_tables:
        key = (conn.dialect.name, "create", table.name)
        sql = SQL.get(key)
        if sql is None:
            sql = SQL[key] = str(CreateTable(table, if_not_exists=True).compile(dialect=conn.dialect))
        conn.exec_driver_sql(sql)


# Both statements are written so that SQLite's planner, which has no statistics, looks items up
# by their key for each staged row instead of scanning the chain's items: CROSS JOIN keeps the
# staging table outside, the IN (...) gives the UPDATE its key lookups. PostgreSQL plans them
# as it likes.

#: Custody rows of staged transfers: a transfer after which the item's nonce has advanced k
#: steps in the chunk begins custody period ``custody_nonce + k`` (``items`` still holds the
#: nonce before the chunk).
_ADD_CUSTODY = """
    INSERT INTO custody (chain_id, item_id, seq, holder, previous, block_number, log_index, tx_hash, since)
    SELECT {chain}, t.item_id, i.custody_nonce + t.k, t.holder, t.previous, t.block_number, t.log_index,
           t.tx_hash, t.since
    FROM transfer_changes AS t CROSS JOIN items AS i
    WHERE i.chain_id = {chain} AND i.item_id = t.item_id
"""
#: Staged item changes applied to their rows (what ItemChange.apply does to a loaded row).
_CHANGE_ITEMS = """
    UPDATE items SET
        custodian = COALESCE(c.custodian, items.custodian),
        pending_receiver = CASE WHEN c.pending_set = 1 THEN c.pending ELSE items.pending_receiver END,
        custody_nonce = items.custody_nonce + c.steps,
        status = CASE WHEN c.status > 0 THEN c.status ELSE items.status END,
        updated_at = COALESCE(c.updated_at, items.updated_at)
    FROM item_changes AS c
    WHERE items.chain_id = {chain} AND items.item_id = c.item_id
      AND items.item_id IN (SELECT item_id FROM item_changes)
"""


def apply_changes(conn: Connection, chain_id: int, changes: dict[bytes, ItemChange]) -> None:
    """Apply item changes to ``items`` and ``custody`` without loading the rows: the changes
    go to staging tables, then one INSERT ... SELECT adds the custody rows (each transfer's
    ``seq`` from the item's custody nonce) and one UPDATE ... FROM changes the items."""
    changes = {i: c for i, c in changes.items() if c.changes_row}
    if not changes:
        return
    _staging(conn)
    transfers = [
        (item_id, t.step, t.holder, t.previous, t.block_number, t.log_index, t.tx_hash, t.since)
        for item_id, change in changes.items()
        for t in change.transfers
    ]
    if transfers:
        bulk(conn, schema.transfer_changes, transfers)
        added = conn.execute(text(_ADD_CUSTODY.format(chain=chain_id))).rowcount
        conn.execute(delete(schema.transfer_changes))
        if added != len(transfers):
            raise IndexCorruptError(f"{len(transfers) - added} transfers name items the index does not hold")
    rows = [
        (i, c.custodian, int(c.pending_set), c.pending, c.steps, int(c.status or 0), c.updated_at)
        for i, c in changes.items()
    ]
    bulk(conn, schema.item_changes, rows)
    changed = conn.execute(text(_CHANGE_ITEMS.format(chain=chain_id))).rowcount
    conn.execute(delete(schema.item_changes))
    if changed != len(changes):
        raise IndexCorruptError(f"events name {len(changes) - changed} items the index does not hold")


def register_items(conn: Connection, chain_id: int, first: int, last: int) -> int:
    """Insert the ``items`` rows of the registrations stored for blocks ``[first, last]`` (first
    holder: the lot's registrar; active, no offer, custody nonce 0; the serial is the event's
    data word, as :meth:`State.apply` makes them), in chain order (sorting them by id first
    costs more than it saves the unique index); returns how many."""
    sql = f"""
        INSERT INTO items (chain_id, item_id, lot_id, serial, custodian, pending_receiver, status,
                           custody_nonce, updated_at, registered_block, registered_log_index)
        SELECT e.chain_id, substr(e.topics, 1, 32), e.lot_id, substr(e.data, 1, 32), l.registrar, NULL,
               {int(ItemStatus.ACTIVE)}, 0, e.block_timestamp, e.block_number, e.log_index
        FROM events AS e JOIN lots AS l ON l.chain_id = e.chain_id AND l.lot_id = e.lot_id
        WHERE e.chain_id = :chain AND e.block_number BETWEEN :first AND :last AND e.name = :registration
    """
    params = {"chain": chain_id, "first": first, "last": last, "registration": REGISTRATION_NAME}
    return int(conn.execute(text(sql), params).rowcount)


def registrations_by_lot(conn: Connection, chain_id: int, first: int, last: int) -> dict[int, int]:
    """How many items the registrations stored for blocks ``[first, last]`` add to each lot."""
    e = schema.events.c
    stmt = (
        select(e.lot_id, func.count())
        .where(and_(e.chain_id == chain_id, e.block_number.between(first, last), e.name == REGISTRATION_NAME))
        .group_by(e.lot_id)
    )
    return {int(lot_id): int(count) for lot_id, count in conn.execute(stmt)}
