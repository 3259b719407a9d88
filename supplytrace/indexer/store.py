"""The index database: engines (SQLite with WAL, or PostgreSQL), and every write in one place.

Each chunk of events is written in one transaction together with the derived rows and the new
checkpoint, so a crash (even ``kill -9``) leaves the index at a chunk boundary: the next run
continues from the checkpoint, with no gap and no duplicate. Inserting an event that is already
stored does nothing (the key is chain id, block number, log index), and a replayed range
changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Engine,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.schema import CreateTable

from supplytrace.events import ITEM_EVENTS, LOT_EVENTS, Event, decode_args
from supplytrace.indexer import schema
from supplytrace.indexer.errors import IndexerError, IndexMismatchError
from supplytrace.indexer.model import (
    ACTIVE,
    SOLD,
    AssignmentRow,
    CustodyRow,
    IndexCorruptError,
    ItemChange,
    LotRow,
    ParticipantRow,
    State,
    row_of,
    row_values,
)
from supplytrace.indexer.rows import (
    Col,
    EventRow,
    Header,
    account_of,
    row_to_event,
)

DB_ENV = "SUPPLYTRACE_INDEX_DB"
_Row = TypeVar("_Row")
_ITEM_EVENTS = frozenset(ITEM_EVENTS)
_LOT_EVENTS = frozenset(LOT_EVENTS)
_PARTICIPANT_EVENTS = ("BrandNamed", "ParticipantDescribed", "RoleGranted", "RoleRevoked")
_ASSIGNMENT_EVENTS = ("GtinAssigned", "GtinReleased", "CompanyPrefixAssigned", "CompanyPrefixReleased")
_IN_BATCH = 500  # ids per IN (...) clause


@dataclass(frozen=True)
class Checkpoint:
    """The registry an index holds and the last block it has indexed completely."""

    chain_id: int
    registry: str
    deployment_block: int
    block_number: int
    block_hash: bytes
    updated_at: int


# ----------------------------------------------------------------------------------------------
# Engines
# ----------------------------------------------------------------------------------------------


def resolve_url(db: str | os.PathLike[str] | None, home: Path) -> str:
    """The database URL: ``db`` (a URL or a file path), else ``$SUPPLYTRACE_INDEX_DB``, else
    ``<home>/index.db`` (SQLite). ``postgresql://`` URLs use the psycopg (3) driver."""
    value = str(db) if db else os.environ.get(DB_ENV) or str(home / "index.db")
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def display_url(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def exists(url: str) -> bool:
    """Whether an index database may exist at ``url`` (a missing SQLite file means no)."""
    path = sqlite_path(url)
    return path is None or path.exists()


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url`` with the schema created (``create``); SQLite in WAL mode."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IndexerError(
            f"{url!r} is not a database URL; use a file path, sqlite:///PATH or postgresql://USER@HOST/DB."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif backend == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, paramstyle="format")
    else:
        raise IndexerError(f"the index supports SQLite and PostgreSQL databases, not {backend!r} ({url}).")
    if create:
        try:
            schema.metadata.create_all(engine)
        except OperationalError as exc:
            raise IndexerError(
                f"cannot open the index database {display_url(url)}: {_first_line(exc)}; check --db "
                f"(or ${DB_ENV}) and that the server is running."
            ) from None
    return engine


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in (
        "page_size=32768",  # before WAL, which fixes it: bulk inserts and commits ~15% faster than 16 KiB
        "journal_mode=WAL",
        "synchronous=NORMAL",  # with WAL: a committed chunk survives a process crash
        "busy_timeout=30000",
        "temp_store=MEMORY",
        "cache_size=-65536",
        "mmap_size=268435456",
        "wal_autocheckpoint=2500",  # pages of 32 KiB: checkpoint every ~80 MB of WAL, not every 32 MB
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _insert(conn: Connection, table: Any) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_SQL: dict[tuple[Any, ...], str] = {}
#: Rows per INSERT statement at most: many rows per statement keep the GIL released while SQLite
#: works (sqlite3 releases it once per statement step, so executemany would re-acquire it per
#: row and stall behind the fetch thread). Statements hold a power of two of rows, so that a few
#: shapes serve every batch from sqlite3's statement cache: preparing a 2,000-row INSERT costs
#: ~10x running it.
ROWS_PER_STATEMENT = 2048
#: SQLite's limit on parameters per statement (32,766 since 3.32; 999 before).
_SQLITE_MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
Fixed = dict[str, int | None]


def _literal(value: int | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"only integers and None are written as SQL literals, not {value!r}")
    return str(int(value))


def _statement(conn: Connection, table: Any, mode: str, rows: int, fixed: Fixed) -> str:
    key = (conn.dialect.name, table.name, mode, rows, tuple(sorted(fixed.items())))
    sql = _SQL.get(key)
    if sql is None:
        stmt = _insert(conn, table)
        if mode == "ignore":
            stmt = stmt.on_conflict_do_nothing()
        elif mode == "upsert":
            keys = key_columns(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
            )
        names = [c.name for c in table.columns]
        compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
        if not compiled.positional or list(compiled.positiontup or ()) != names:
            raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
        text_sql = compiled.string
        start = text_sql.index(" VALUES (") + len(" VALUES ")
        end = text_sql.index(")", start) + 1
        marks = text_sql[start + 1 : end - 1].split(", ")
        if len(marks) != len(names) or set(fixed) - set(names):
            raise RuntimeError(f"unexpected VALUES clause for {table.name}: {text_sql[start:end]}")
        values = [_literal(fixed[n]) if n in fixed else m for n, m in zip(names, marks, strict=True)]
        group = "(" + ", ".join(values) + ")"
        sql = _SQL[key] = text_sql[:start] + ", ".join([group] * rows) + text_sql[end:]
    return sql


def key_columns(table: Any) -> list[str]:
    """The columns that identify a row: the primary key, else the first unique constraint."""
    keys = [c.name for c in table.primary_key.columns]
    if not keys:
        unique = next(c for c in table.constraints if isinstance(c, UniqueConstraint))
        keys = [c.name for c in unique.columns]
    return keys


def _bulk(
    conn: Connection,
    table: Any,
    rows: Sequence[tuple[Any, ...]],
    mode: str = "insert",
    *,
    chain_id: int | None = None,
    fixed: Fixed | None = None,
) -> None:
    """Insert ``rows``: values of the table's columns in column order, except ``chain_id`` and
    the ``fixed`` ones (the same integer or NULL for every row, written into the statement as
    literals: binding a value costs more than SQLite's work for it). On SQLite multi-row INSERTs
    of up to ``ROWS_PER_STATEMENT`` rows (powers of two: 2,000 rows go as 1,024 + 512 + ...),
    on PostgreSQL one pipelined executemany; ``mode`` "ignore" skips rows whose
    key exists, "upsert" overwrites them.

    The statement is built with SQLAlchemy Core, compiled once per dialect and shape, and run
    with ``exec_driver_sql``: SQLAlchemy's per-row bind processing would cost more than the
    database.
    """
    if not rows:
        return
    fixed = {**({"chain_id": chain_id} if chain_id is not None else {}), **(fixed or {})}
    if conn.dialect.name == "postgresql":  # psycopg pipelines executemany; huge statements are slow
        conn.exec_driver_sql(_statement(conn, table, mode, 1, fixed), list(rows))
        return
    bound = len(table.columns) - len(fixed)
    size = _statement_rows(min(ROWS_PER_STATEMENT, _SQLITE_MAX_PARAMETERS // max(1, bound)))
    start = 0
    while start < len(rows):
        while size > len(rows) - start:
            size //= 2
        part = rows[start : start + size]
        conn.exec_driver_sql(
            _statement(conn, table, mode, size, fixed), tuple(itertools.chain.from_iterable(part))
        )
        start += size


def _statement_rows(limit: int) -> int:
    """The largest power of two at most ``limit`` (at least 1)."""
    return 1 << (max(1, limit).bit_length() - 1)


def _chunks(values: Sequence[Any], size: int = _IN_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ----------------------------------------------------------------------------------------------
# Rows <-> events
# ----------------------------------------------------------------------------------------------


_EVENT_COLUMNS = (
    schema.events.c.name,
    schema.events.c.block_number,
    schema.events.c.log_index,
    schema.events.c.tx_hash,
    schema.events.c.block_hash,
    schema.events.c.topics,
    schema.events.c.data,
    schema.events.c.block_timestamp,
)


def row_event(row: Any) -> Event:
    name, block, log_index, tx_hash, block_hash, topics, data, stamp = row
    return Event(
        name, block, log_index, "0x" + bytes(tx_hash).hex(), "0x" + bytes(block_hash).hex(),
        decode_args(name, bytes(topics), bytes(data)), stamp,
    )  # fmt: skip


def item_events_query(chain_id: int, key: int | Sequence[int]) -> Any:
    """Events of the items with ``item_key`` ``key`` (one or several), by the ``events_by_item``
    index (the explicit IS NOT NULL is the partial index's condition, for SQLite's planner)."""
    c = schema.events.c
    match = c.item_key == key if isinstance(key, int) else c.item_key.in_(key)
    return select(*_EVENT_COLUMNS).where(and_(c.chain_id == chain_id, match, c.item_key.isnot(None)))


def lot_events_query(chain_id: int, lot_id: int | Sequence[int]) -> Any:
    """Events of the lots ``lot_id`` (one or several), by the ``events_by_lot`` index (its
    condition repeated for SQLite's planner; registrations, which also carry their lot, are not
    in it)."""
    c = schema.events.c
    match = c.lot_id == lot_id if isinstance(lot_id, int) else c.lot_id.in_(lot_id)
    return select(*_EVENT_COLUMNS).where(
        and_(c.chain_id == chain_id, match, c.lot_id.isnot(None), c.item_key.is_(None))
    )


def _order(stmt: Any) -> Any:
    return stmt.order_by(schema.events.c.block_number, schema.events.c.log_index)


# ----------------------------------------------------------------------------------------------
# The store
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkWritten:
    events: int  # events new to the index
    replayed: int  # events that were already indexed (ignored)


class IndexStore:
    """Reads and writes the index of chain ``chain_id`` in ``engine``."""

    def __init__(self, engine: Engine, chain_id: int, *, url: str | None = None) -> None:
        self.engine = engine
        self.chain_id = chain_id
        self.url = url or engine.url.render_as_string(hide_password=True)

    # -- checkpoint ----------------------------------------------------------------------------

    def checkpoint(self, conn: Connection | None = None) -> Checkpoint | None:
        if conn is None:
            with self.engine.connect() as own:
                return self.checkpoint(own)
        c = schema.checkpoint.c
        row = conn.execute(
            select(
                c.chain_id, c.registry, c.deployment_block, c.block_number, c.block_hash,
                c.updated_at, c.schema_version,
            ).where(c.chain_id == self.chain_id)
        ).first()  # fmt: skip
        if row is None:
            return None
        if row.schema_version != schema.SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the index at {self.url} has schema version {row.schema_version}, this supplytrace uses "
                f"{schema.SCHEMA_VERSION}; rebuild it with `supplytrace index --reset`."
            )
        return Checkpoint(
            row.chain_id, row.registry, row.deployment_block, row.block_number, bytes(row.block_hash),
            row.updated_at,
        )  # fmt: skip

    def start(self, registry: str, deployment_block: int, parent: Header) -> Checkpoint:
        """Begin an empty index of ``registry``: the checkpoint is the block before its deployment."""
        with self.engine.begin() as conn:
            version, now = schema.SCHEMA_VERSION, int(time.time())
            row = (registry, deployment_block, parent.number, parent.hash, version, now)
            _bulk(conn, schema.checkpoint, [row], chain_id=self.chain_id)
            self._store_blocks(conn, [parent])
        cp = self.checkpoint()
        assert cp is not None
        return cp

    def check_registry(self, registry: str) -> Checkpoint | None:
        """The checkpoint, after checking the index holds ``registry`` (None: empty index)."""
        cp = self.checkpoint()
        if cp is not None and cp.registry.lower() != registry.lower():
            raise IndexMismatchError(
                f"the index at {self.url} holds the registry at {cp.registry} on chain {self.chain_id}, "
                f"not {registry}; rebuild it with `supplytrace index --reset` (or use another --db)."
            )
        return cp

    def reset(self) -> None:
        """Forget everything indexed for this chain."""
        with self.engine.begin() as conn:
            for table in schema.ALL:
                conn.execute(delete(table).where(table.c.chain_id == self.chain_id))

    # -- blocks --------------------------------------------------------------------------------

    def _store_blocks(self, conn: Connection, headers: Iterable[Header]) -> None:
        rows = [(h.number, h.hash, h.parent_hash, h.timestamp) for h in headers]
        _bulk(conn, schema.blocks, rows, "upsert", chain_id=self.chain_id)

    def stored_blocks(self) -> list[Header]:
        """The blocks whose hashes the index keeps, newest first (the reorg window)."""
        b = schema.blocks.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(b.number, b.hash, b.parent_hash, b.timestamp)
                .where(b.chain_id == self.chain_id)
                .order_by(b.number.desc())
            ).all()
        return [Header(r.number, bytes(r.hash), bytes(r.parent_hash), r.timestamp) for r in rows]

    # -- writing a chunk -----------------------------------------------------------------------

    def write_chunk(
        self, rows: Sequence[EventRow], headers: Iterable[Header], tip: Header, *, window: int
    ) -> ChunkWritten:
        """Store the events ``rows`` (:func:`event_rows`, in chain order, block times set), their
        derived rows, the block ``headers`` of the reorg window and the new checkpoint ``tip``, in
        one transaction."""
        with self.engine.begin() as conn:
            cp = self.checkpoint(conn)
            if cp is None:
                raise IndexerError("the index has no checkpoint; start it before writing events.")
            fresh = list(rows)
            replay = bool(fresh) and fresh[0][Col.BLOCK] <= cp.block_number
            if replay:  # events inserted into indexed history: refold what they touch
                fresh = self._not_stored(conn, fresh)
                if fresh:
                    _bulk(conn, schema.events, fresh, "ignore", chain_id=self.chain_id)
                    items, lots = _touched(map(row_to_event, fresh))
                    self._refold(conn, items, lots)
            elif fresh:  # all newer than the checkpoint: a duplicate would be a broken index
                _bulk(conn, schema.events, fresh, chain_id=self.chain_id)
                self._fold(conn, fresh)
            if tip.number > cp.block_number:  # (a replay of indexed blocks stores no headers)
                self._store_blocks(conn, {h.number: h for h in [*headers, tip]}.values())
                b = schema.blocks.c
                conn.execute(
                    delete(schema.blocks).where(
                        and_(b.chain_id == self.chain_id, b.number < tip.number - window)
                    )
                )
                self._move_checkpoint(conn, tip)
        return ChunkWritten(len(fresh), len(rows) - len(fresh))

    def _move_checkpoint(self, conn: Connection, tip: Header) -> None:
        c = schema.checkpoint.c
        conn.execute(
            update(schema.checkpoint)
            .where(c.chain_id == self.chain_id)
            .values(block_number=tip.number, block_hash=tip.hash, updated_at=int(time.time()))
        )

    def _not_stored(self, conn: Connection, rows: list[EventRow]) -> list[EventRow]:
        e = schema.events.c
        stored = set(
            conn.execute(
                select(e.block_number, e.log_index).where(
                    and_(
                        e.chain_id == self.chain_id,
                        e.block_number.between(rows[0][Col.BLOCK], rows[-1][Col.BLOCK]),
                    )
                )
            )
        )
        return [r for r in rows if (r[Col.BLOCK], r[Col.LOG_INDEX]) not in stored]

    def _fold(self, conn: Connection, rows: list[EventRow]) -> None:
        """Apply new events (all newer than the checkpoint, just inserted) to the derived rows.

        Registrations, almost all of a busy chain's events, are derived by the database in one
        statement (:func:`_register_items`) and never become Python objects. Lot, participant
        and assignment events go through :meth:`State.apply` in chain order. The other item
        events are folded per item into :class:`ItemChange` values and applied by two set-based
        statements (:meth:`_apply_changes`), after the registrations. That gives the chain's
        rows: an item's row depends on no other item's events, nor on its lot's events after the
        lot's creation, and each of its events comes after its registration.
        """
        registered = 0
        others: list[EventRow] = []  # lot, participant and assignment events
        item_events: list[EventRow] = []  # item events after registration
        for row in rows:
            name = row[Col.NAME]
            if name == "ItemRegistered":
                registered += 1
            elif name in _ITEM_EVENTS:
                item_events.append(row)
            else:
                others.append(row)
        first, last = rows[0][Col.BLOCK], rows[-1][Col.BLOCK]
        counts = self._registrations_by_lot(conn, first, last) if registered else {}
        events = [row_to_event(row) for row in others]
        lot_ids = {ev.args["lotId"] for ev in events if ev.name in _LOT_EVENTS}
        addresses = {account_of(ev.args) for ev in events if ev.name in _PARTICIPANT_EVENTS}
        state = State(
            lots=self._load_lots(conn, lot_ids | counts.keys()),
            participants=self._load_participants(conn, {a for a in addresses if a}),
        )
        for ev in events:
            state.apply(ev, _stamp(ev))
        for lot_id, count in counts.items():
            state.lot(lot_id).item_count += count
            state.changed_lots.add(lot_id)
        self._save(conn, state)  # lots first: new items take their first holder from them
        if registered:
            inserted = _register_items(conn, self.chain_id, first, last)
            if inserted != registered:
                raise IndexCorruptError(
                    f"{registered - inserted} registrations in blocks {first}-{last} name a lot the "
                    "index does not hold"
                )
        if item_events:
            self._apply_changes(conn, item_changes(item_events))

    def _apply_changes(self, conn: Connection, changes: dict[bytes, ItemChange]) -> None:
        """Apply item changes to ``items`` and ``custody`` without loading the rows: the changes
        go to staging tables, then one INSERT ... SELECT adds the custody rows (each transfer's
        ``seq`` from the item's custody nonce) and one UPDATE ... FROM changes the items, as
        :meth:`ItemChange.apply` changes a row."""
        changes = {i: c for i, c in changes.items() if c.changes_row}
        if not changes:
            return
        _staging(conn)
        chain = self.chain_id
        transfers = [
            (item_id, k, t.holder, t.previous, t.block_number, t.log_index, t.tx_hash, t.since)
            for item_id, change in changes.items()
            for k, t in enumerate(change.transfers, 1)
        ]
        if transfers:
            _bulk(conn, schema.transfer_changes, transfers)
            added = conn.execute(text(_ADD_CUSTODY.format(chain=chain))).rowcount
            conn.execute(delete(schema.transfer_changes))
            if added != len(transfers):
                raise IndexCorruptError(
                    f"{len(transfers) - added} transfers name items the index does not hold"
                )
        rows = [
            (i, c.custodian, int(c.pending_set), c.pending, len(c.transfers), int(c.sold), c.updated_at)
            for i, c in changes.items()
        ]
        _bulk(conn, schema.item_changes, rows)
        changed = conn.execute(text(_CHANGE_ITEMS.format(chain=chain, sold=SOLD))).rowcount
        conn.execute(delete(schema.item_changes))
        if changed != len(changes):
            raise IndexCorruptError(f"events name {len(changes) - changed} items the index does not hold")

    def _registrations_by_lot(self, conn: Connection, first: int, last: int) -> dict[int, int]:
        e = schema.events.c
        stmt = (
            select(e.lot_id, func.count())
            .where(
                and_(
                    e.chain_id == self.chain_id,
                    e.block_number.between(first, last),
                    e.name == "ItemRegistered",
                )
            )
            .group_by(e.lot_id)
        )
        return {int(lot_id): int(count) for lot_id, count in conn.execute(stmt)}

    def _save(self, conn: Connection, state: State, *, lots: bool = True) -> None:
        chain = self.chain_id
        items = state.items
        _bulk(conn, schema.items, [row_values(items[i]) for i in state.new_items], chain_id=chain)
        changed = state.changed_items - state.new_items
        _bulk(conn, schema.items, [row_values(items[i]) for i in changed], "upsert", chain_id=chain)
        _bulk(conn, schema.custody, [row_values(r) for r in state.custody], chain_id=chain)
        if lots:
            changed_lots = [row_values(state.lots[i]) for i in state.changed_lots]
            _bulk(conn, schema.lots, changed_lots, "upsert", chain_id=chain)
        people = [row_values(state.participants[a]) for a in state.changed_participants]
        _bulk(conn, schema.participants, people, "upsert", chain_id=chain)
        a = schema.assignments.c
        for key in state.changed_assignments:
            value = state.assignments[key]
            if value is None:
                kind, number, length = key
                conn.execute(
                    delete(schema.assignments).where(
                        and_(a.chain_id == chain, a.kind == kind, a.value == number, a.length == length)
                    )
                )
            else:
                _bulk(conn, schema.assignments, [row_values(value)], "upsert", chain_id=chain)

    # -- loading rows --------------------------------------------------------------------------

    def _load_lots(self, conn: Connection, ids: set[int]) -> dict[int, LotRow]:
        return self._load(conn, schema.lots, LotRow, "lot_id", ids)

    def _load_participants(self, conn: Connection, addresses: set[str]) -> dict[str, ParticipantRow]:
        return self._load(conn, schema.participants, ParticipantRow, "address", addresses)

    def _load(
        self, conn: Connection, table: Any, row_type: type[_Row], key: str, keys: set[Any]
    ) -> dict[Any, _Row]:
        """The ``row_type`` rows (its fields are ``table``'s columns) whose ``key`` is in ``keys``."""
        cols = [table.c[f] for f in row_type.__dataclass_fields__]  # type: ignore[attr-defined]
        out: dict[Any, _Row] = {}
        for part in _chunks(sorted(keys)):
            stmt = select(*cols).where(and_(table.c.chain_id == self.chain_id, table.c[key].in_(part)))
            for values in conn.execute(stmt):
                row = row_of(row_type, values)
                out[getattr(row, key)] = row
        return out

    def _events_where(self, conn: Connection, *conditions: Any) -> list[Event]:
        e = schema.events.c
        stmt = _order(select(*_EVENT_COLUMNS).where(and_(e.chain_id == self.chain_id, *conditions)))
        return [row_event(r) for r in conn.execute(stmt)]

    # -- reorgs and replays --------------------------------------------------------------------

    def rollback(self, ancestor: Header) -> int:
        """Remove everything after block ``ancestor`` (the newest block the chain still has) and
        refold the derived rows it touched; the checkpoint becomes ``ancestor``. Returns the
        number of events removed."""
        e = schema.events.c
        with self.engine.begin() as conn:
            removed = self._events_where(conn, e.block_number > ancestor.number)
            conn.execute(
                delete(schema.events).where(
                    and_(e.chain_id == self.chain_id, e.block_number > ancestor.number)
                )
            )
            b = schema.blocks.c
            conn.execute(
                delete(schema.blocks).where(and_(b.chain_id == self.chain_id, b.number > ancestor.number))
            )
            items, lots = _touched(removed)
            self._refold(conn, items, lots)
            self._store_blocks(conn, [ancestor])
            self._move_checkpoint(conn, ancestor)
        return len(removed)

    def _refold(self, conn: Connection, item_ids: set[bytes], lot_ids: set[int]) -> None:
        """Rebuild the derived rows of ``item_ids`` and ``lot_ids`` (and all participants and
        assignments, which are few) from the events table."""
        chain = self.chain_id
        e = schema.events.c
        # Lots first: items take their first custodian from the lot's registrar.
        lt = schema.lots.c
        for part in _chunks(sorted(lot_ids)):
            conn.execute(delete(schema.lots).where(and_(lt.chain_id == chain, lt.lot_id.in_(part))))
        lot_state = State()
        for part in _chunks(sorted(lot_ids)):
            for ev in map(row_event, conn.execute(_order(lot_events_query(chain, part)))):
                lot_state.apply(ev, _stamp(ev))
        self._save(conn, lot_state)
        # Items.
        it, ct = schema.items.c, schema.custody.c
        for part in _chunks(sorted(item_ids)):
            conn.execute(delete(schema.items).where(and_(it.chain_id == chain, it.item_id.in_(part))))
            conn.execute(delete(schema.custody).where(and_(ct.chain_id == chain, ct.item_id.in_(part))))
        item_events: list[Event] = []
        for part in _chunks(sorted({schema.item_key(i) for i in item_ids})):
            found = [row_event(r) for r in conn.execute(item_events_query(chain, part))]
            item_events.extend(ev for ev in found if ev.args["itemId"] in item_ids)
        item_events.sort(key=lambda ev: (ev.block_number, ev.log_index))
        needed = {ev.args["lotId"] for ev in item_events if ev.name == "ItemRegistered"}
        item_state = State(lots=self._load_lots(conn, needed))
        for ev in item_events:
            item_state.apply(ev, _stamp(ev))
        self._save(conn, item_state, lots=False)
        # Item counts of the lots whose registrations changed.
        counted = lot_ids | needed
        for part in _chunks(sorted(counted)):
            count = (
                select(func.count())
                .select_from(schema.items)
                .where(and_(it.chain_id == chain, it.lot_id == lt.lot_id))
                .scalar_subquery()
            )
            conn.execute(
                update(schema.lots)
                .where(and_(lt.chain_id == chain, lt.lot_id.in_(part)))
                .values(item_count=count)
            )
        # Participants and assignments: small, rebuilt whole.
        conn.execute(delete(schema.participants).where(schema.participants.c.chain_id == chain))
        conn.execute(delete(schema.assignments).where(schema.assignments.c.chain_id == chain))
        small = State()
        for ev in self._events_where(conn, e.name.in_(_PARTICIPANT_EVENTS + _ASSIGNMENT_EVENTS)):
            small.apply(ev, _stamp(ev))
        self._save(conn, small)

    def rebuild(self) -> None:
        """Rebuild every derived row from the events table."""
        e = schema.events.c
        with self.engine.begin() as conn:
            items = {
                bytes(r[0])[:32]
                for r in conn.execute(
                    select(e.topics).where(and_(e.chain_id == self.chain_id, e.item_key.isnot(None)))
                )
            }
            lots = {
                r[0]
                for r in conn.execute(
                    select(e.lot_id).where(and_(e.chain_id == self.chain_id, e.lot_id.isnot(None))).distinct()
                )
            }
            self._refold(conn, items, lots)

    # -- exclusive writer ----------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the index's writer lock (one indexer per index and chain at a time)."""
        path = sqlite_path(str(self.engine.url))
        if path is not None:
            lock_path = path.with_name(path.name + ".lock")
            with open(lock_path, "a+") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise IndexerError(
                        f"another indexer is writing {path} (lock {lock_path}); "
                        "stop it or wait for it to finish."
                    ) from None
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                key = 0x5A7E0000 ^ self.chain_id
                if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                    raise IndexerError(
                        f"another indexer is writing chain {self.chain_id} in {self.url}; "
                        "stop it or wait for it to finish."
                    )
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            return
        yield

    # -- for tests and checks ------------------------------------------------------------------

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of this chain, table by table, sorted (to compare two indexes)."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in schema.ALL:
                if table is schema.checkpoint:
                    cols = [c for c in table.columns if c.name != "updated_at"]
                else:
                    cols = list(table.columns)
                rows = conn.execute(select(*cols).where(table.c.chain_id == self.chain_id)).all()
                out[table.name] = sorted(
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows
                )
        return out


def item_changes(rows: Iterable[EventRow]) -> dict[bytes, ItemChange]:
    """The :class:`ItemChange` of each item the events ``rows`` (in chain order) change after
    its registration; other events are left out."""
    changes: dict[bytes, ItemChange] = {}
    for row in rows:
        name = row[Col.NAME]
        if name not in _ITEM_EVENTS or name == "ItemRegistered":
            continue
        args = decode_args(name, bytes(row[Col.TOPICS]), bytes(row[Col.DATA]))
        item_id = args["itemId"]
        change = changes.get(item_id)
        if change is None:
            change = changes[item_id] = ItemChange(item_id)
        stamp = row[Col.TIME]
        if stamp is None:
            raise IndexCorruptError(f"event {name} at block {row[Col.BLOCK]} has no block time")
        change.add(name, args, row[Col.BLOCK], row[Col.LOG_INDEX], bytes(row[Col.TX_HASH]), stamp)
    return changes


def _staging(conn: Connection) -> None:
    """Create this connection's staging tables (temporary) if they are not there: every time,
    since a rolled-back transaction takes their creation with it."""
    for table in schema.staging.sorted_tables:
        key = (conn.dialect.name, "create", table.name)
        sql = _SQL.get(key)
        if sql is None:
            sql = _SQL[key] = str(CreateTable(table, if_not_exists=True).compile(dialect=conn.dialect))
        conn.exec_driver_sql(sql)


# Both statements are written so that SQLite's planner, which has no statistics, looks items up
# by their key for each staged row instead of scanning the chain's items: CROSS JOIN keeps the
# staging table outside, the IN (...) gives the UPDATE its key lookups. PostgreSQL plans them
# as it likes.

#: Custody rows of staged transfers: the k-th transfer of an item in a chunk begins custody
#: period ``custody_nonce + k`` (``items`` still holds the nonce before the chunk).
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
        custody_nonce = items.custody_nonce + c.transfers,
        status = CASE WHEN c.sold = 1 THEN {sold} ELSE items.status END,
        updated_at = COALESCE(c.updated_at, items.updated_at)
    FROM item_changes AS c
    WHERE items.chain_id = {chain} AND items.item_id = c.item_id
      AND items.item_id IN (SELECT item_id FROM item_changes)
"""


#: The serial's text: the bytes before its first NUL (the contract keeps at least the last 12
#: bytes zero), as State.apply derives it.
_SERIAL_SQL = {
    "sqlite": "CAST(substr(e.data, 1, instr(e.data, x'00') - 1) AS TEXT)",
    "postgresql": "convert_from(substr(e.data, 1, position('\\x00'::bytea IN e.data) - 1), 'UTF8')",
}


def _register_items(conn: Connection, chain_id: int, first: int, last: int) -> int:
    """Insert the ``items`` rows of the ItemRegistered events stored for blocks ``[first, last]``
    (first holder: the lot's registrar; active, no offer, custody nonce 0, as ``State.apply``
    makes them), in chain order (sorting them by id first costs more than it saves the unique
    index); returns how many."""
    serial = _SERIAL_SQL[conn.dialect.name]
    sql = f"""
        INSERT INTO items (chain_id, item_id, lot_id, serial, custodian, pending_receiver, status,
                           custody_nonce, updated_at, registered_block, registered_log_index)
        SELECT e.chain_id, substr(e.topics, 1, 32), e.lot_id, {serial}, l.registrar, NULL, {ACTIVE},
               0, e.block_timestamp, e.block_number, e.log_index
        FROM events AS e JOIN lots AS l ON l.chain_id = e.chain_id AND l.lot_id = e.lot_id
        WHERE e.chain_id = :chain AND e.block_number BETWEEN :first AND :last
          AND e.name = 'ItemRegistered'
    """
    result = conn.execute(text(sql), {"chain": chain_id, "first": first, "last": last})
    return int(result.rowcount)


def _stamp(ev: Event) -> int:
    if ev.block_timestamp is None:
        raise IndexCorruptError(f"event {ev.name} at block {ev.block_number} has no block time")
    return ev.block_timestamp


def _touched(events: Iterable[Event]) -> tuple[set[bytes], set[int]]:
    items: set[bytes] = set()
    lots: set[int] = set()
    for ev in events:
        if ev.name in _ITEM_EVENTS:
            items.add(bytes(ev.args["itemId"]))
            if ev.name == "ItemRegistered":
                lots.add(ev.args["lotId"])
        elif ev.name in _LOT_EVENTS:
            lots.add(ev.args["lotId"])
    return items, lots


__all__ = [
    "DB_ENV",
    "AssignmentRow",
    "Checkpoint",
    "ChunkWritten",
    "CustodyRow",
    "Header",
    "IndexStore",
    "display_url",
    "exists",
    "make_engine",
    "resolve_url",
]
