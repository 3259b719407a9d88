"""Every write to the index: the checkpoint, chunks of events with their derived rows, block
hashes, reorg rollbacks and rebuilds.

Each chunk of events is written in one transaction together with the derived rows and the new
checkpoint, so a crash (even ``kill -9``) leaves the index at a chunk boundary: the next run
continues from the checkpoint, with no gap and no duplicate. Inserting an event that is already
stored does nothing (the key is chain id, block number, log index), and a replayed range
changes nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, delete, func, select, update
from sqlalchemy.engine import Connection

from supplytrace.core.events import Logged, spec_of, subject_ids
from supplytrace.core.reducer import (
    ContainerRow,
    IndexCorruptError,
    ItemRow,
    LotRow,
    ParticipantRow,
    State,
    container_ids,
    lots_changed,
    row_of,
    row_values,
)
from supplytrace.indexer import bulk, schema
from supplytrace.indexer.database import bulk as bulk_insert
from supplytrace.indexer.database import chunks, make_engine, recreate_tables, tables_current, writer_lock
from supplytrace.indexer.errors import IndexerError, IndexMismatchError
from supplytrace.indexer.queries import (
    EVENT_COLUMNS,
    in_chain_order,
    item_events_query,
    lot_events_query,
    stored_logged,
)
from supplytrace.indexer.rows import OTHER_EVENT_NAMES, Col, EventRow, Header, row_logged

_Row = TypeVar("_Row")


@dataclass(frozen=True)
class Checkpoint:
    """The registry an index holds and the last block it has indexed completely."""

    chain_id: int
    registry: str
    deployment_block: int
    block_number: int
    block_hash: bytes
    updated_at: int


@dataclass(frozen=True)
class ChunkWritten:
    events: int  # events new to the index
    replayed: int  # events that were already indexed (ignored)


def _reset_hint(url: str) -> str:
    return f"rebuild it with `supplytrace index --reset` (or use another --db than {url})"


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
                f"{schema.SCHEMA_VERSION}; {_reset_hint(self.url)}."
            )
        return Checkpoint(
            row.chain_id, row.registry, row.deployment_block, row.block_number, bytes(row.block_hash),
            row.updated_at,
        )  # fmt: skip

    def start(self, registry: str, deployment_block: int, parent: Header) -> Checkpoint:
        """Begin an empty index of ``registry``: the checkpoint is the block before its deployment."""
        with self.engine.begin() as conn:
            if not tables_current(conn):
                raise IndexMismatchError(
                    f"the index at {self.url} was made by an older supplytrace (schema version below "
                    f"{schema.SCHEMA_VERSION}); {_reset_hint(self.url)}."
                )
            version, now = schema.SCHEMA_VERSION, int(time.time())
            row = (registry, deployment_block, parent.number, parent.hash, version, now)
            bulk_insert(conn, schema.checkpoint, [row], chain_id=self.chain_id)
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
                f"not {registry}; {_reset_hint(self.url)}."
            )
        return cp

    def reset(self) -> None:
        """Forget everything indexed for this chain; tables an older supplytrace made (whose rows
        no reader of this version can use) are dropped and made again."""
        with self.engine.connect() as conn:
            current = tables_current(conn)
        if not current:
            self.engine.dispose()  # no pooled connection may hold the old tables' definitions
            recreate_tables(self.engine)
            return
        with self.engine.begin() as conn:
            for table in schema.ALL:
                conn.execute(delete(table).where(table.c.chain_id == self.chain_id))

    # -- blocks --------------------------------------------------------------------------------

    def _store_blocks(self, conn: Connection, headers: Iterable[Header]) -> None:
        rows = [(h.number, h.hash, h.parent_hash, h.timestamp) for h in headers]
        bulk_insert(conn, schema.blocks, rows, "upsert", chain_id=self.chain_id)

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
        """Store the events ``rows`` (``rows.event_rows``, in chain order, block times set), their
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
                    bulk_insert(conn, schema.events, fresh, "ignore", chain_id=self.chain_id)
                    items, lots = _touched(map(row_logged, fresh))
                    self._refold(conn, items, lots)
            elif fresh:  # all newer than the checkpoint: a duplicate would be a broken index
                bulk_insert(conn, schema.events, fresh, chain_id=self.chain_id)
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
        between = e.block_number.between(rows[0][Col.BLOCK], rows[-1][Col.BLOCK])
        stored = set(
            conn.execute(
                select(e.block_number, e.log_index).where(and_(e.chain_id == self.chain_id, between))
            )
        )
        return [r for r in rows if (r[Col.BLOCK], r[Col.LOG_INDEX]) not in stored]

    def _fold(self, conn: Connection, rows: list[EventRow]) -> None:
        """Apply new events (all newer than the checkpoint, just inserted) to the derived rows.

        Lot, participant and assignment events go through :meth:`State.apply` in chain order;
        registrations and the other item events are applied set-based (:mod:`.bulk`), after
        them. That gives the chain's rows: an item's row depends on no other item's events, nor
        on its lot's events after the lot's creation, and each of its events comes after its
        registration.
        """
        registered = 0
        others: list[EventRow] = []  # lot, participant and assignment events
        item_events: list[EventRow] = []  # item events after registration
        for row in rows:
            if row[Col.ITEM_KEY] is None:
                others.append(row)
            elif row[Col.LOT_ID] is not None:  # only registrations name both an item and a lot
                registered += 1
            else:
                item_events.append(row)
        first, last = rows[0][Col.BLOCK], rows[-1][Col.BLOCK]
        counts = bulk.registrations_by_lot(conn, self.chain_id, first, last) if registered else {}
        events = [row_logged(row) for row in others]
        lot_ids = {lot for ev in events for lot in lots_changed(ev.event)}
        accounts = {row[Col.ACCOUNT] for row in others if row[Col.ACCOUNT] is not None}
        state = State(
            lots=self._load(conn, schema.lots, LotRow, "lot_id", lot_ids | counts.keys()),
            participants=self._load(conn, schema.participants, ParticipantRow, "address", accounts),
        )
        for ev in events:
            state.apply(ev)
        for lot_id, count in counts.items():
            state.registered(lot_id, count)
        self._save(conn, state)  # lots first: new items take their first holder from them
        if registered:
            inserted = bulk.register_items(conn, self.chain_id, first, last)
            if inserted != registered:
                raise IndexCorruptError(
                    f"{registered - inserted} registrations in blocks {first}-{last} name a lot "
                    "the index does not hold"
                )
        if item_events:
            boxed, plain = self._boxed(conn, item_events)
            bulk.apply_changes(conn, self.chain_id, bulk.item_changes(plain))
            if boxed:
                self._fold_boxed(conn, boxed)

    def _boxed(self, conn: Connection, rows: list[EventRow]) -> tuple[list[Logged], list[EventRow]]:
        """The chunk's item events split: those of containers and of what the chunk packs or
        unpacks (decoded, folded by :meth:`State.apply` in chain order: a packing changes rows
        the set-based statements would change in the wrong order), and the others."""
        containers = [row for row in rows if spec_of(row[Col.NAME]).subject == "container"]
        if not containers and not self._has_containers(conn):
            return [], rows
        ids = {bytes(row[Col.TOPICS][:32]) for row in rows}
        boxed = {i for row in containers for i in container_ids(row_logged(row).event)}
        boxed |= self._load(conn, schema.containers, ContainerRow, "container_id", ids).keys()
        mine = [row for row in rows if bytes(row[Col.TOPICS][:32]) in boxed]
        if not mine:
            return [], rows
        return [row_logged(row) for row in mine], [
            row for row in rows if bytes(row[Col.TOPICS][:32]) not in boxed
        ]

    def _has_containers(self, conn: Connection) -> bool:
        c = schema.containers.c
        return (
            conn.execute(select(c.container_id).where(c.chain_id == self.chain_id).limit(1)).first()
            is not None
        )

    def _fold_boxed(self, conn: Connection, events: list[Logged]) -> None:
        """Fold containers' events and their contents' (their rows loaded, changed, written back)."""
        ids = {bytes(i) for ev in events if (i := subject_ids(ev.event)[0]) is not None}
        ids |= {i for ev in events for i in container_ids(ev.event)}
        state = State(
            items=self._load(conn, schema.items, ItemRow, "item_id", ids),
            containers=self._load(conn, schema.containers, ContainerRow, "container_id", ids),
        )
        for ev in events:
            state.apply(ev)
        self._save(conn, state, lots=False)

    def _save(self, conn: Connection, state: State, *, lots: bool = True) -> None:
        chain = self.chain_id
        items = state.items
        bulk_insert(conn, schema.items, [row_values(items[i]) for i in state.new_items], chain_id=chain)
        changed = state.changed_items - state.new_items
        bulk_insert(conn, schema.items, [row_values(items[i]) for i in changed], "upsert", chain_id=chain)
        bulk_insert(conn, schema.custody, [row_values(r) for r in state.custody], chain_id=chain)
        if lots:
            changed_lots = [row_values(state.lots[i]) for i in state.changed_lots]
            bulk_insert(conn, schema.lots, changed_lots, "upsert", chain_id=chain)
        bulk_insert(conn, schema.lot_inputs, [row_values(r) for r in state.lot_inputs], chain_id=chain)
        boxes = [row_values(state.containers[i]) for i in state.changed_containers]
        bulk_insert(conn, schema.containers, boxes, "upsert", chain_id=chain)
        bulk_insert(conn, schema.packings, [row_values(r) for r in state.packings], "ignore", chain_id=chain)
        people = [row_values(state.participants[a]) for a in state.changed_participants]
        bulk_insert(conn, schema.participants, people, "upsert", chain_id=chain)
        a = schema.assignments.c
        for key in state.changed_assignments:
            value = state.assignments[key]
            if value is None:
                kind, number, length = key
                where = and_(a.chain_id == chain, a.kind == kind, a.value == number, a.length == length)
                conn.execute(delete(schema.assignments).where(where))
            else:
                bulk_insert(conn, schema.assignments, [row_values(value)], "upsert", chain_id=chain)

    def _load(
        self, conn: Connection, table: Any, row_type: type[_Row], key: str, keys: set[Any]
    ) -> dict[Any, _Row]:
        """The ``row_type`` rows (its fields are ``table``'s columns) whose ``key`` is in ``keys``."""
        cols = [table.c[f] for f in row_type.__dataclass_fields__]  # type: ignore[attr-defined]
        out: dict[Any, _Row] = {}
        for part in chunks(sorted(keys)):
            stmt = select(*cols).where(and_(table.c.chain_id == self.chain_id, table.c[key].in_(part)))
            for values in conn.execute(stmt):
                row = row_of(row_type, values)
                out[getattr(row, key)] = row
        return out

    def _events_where(self, conn: Connection, *conditions: Any) -> list[Logged]:
        e = schema.events.c
        stmt = in_chain_order(select(*EVENT_COLUMNS).where(and_(e.chain_id == self.chain_id, *conditions)))
        return [stored_logged(r) for r in conn.execute(stmt)]

    # -- reorgs and replays --------------------------------------------------------------------

    def rollback(self, ancestor: Header) -> int:
        """Remove everything after block ``ancestor`` (the newest block the chain still has) and
        refold the derived rows it touched; the checkpoint becomes ``ancestor``. Returns the
        number of events removed."""
        e, b = schema.events.c, schema.blocks.c
        with self.engine.begin() as conn:
            removed = self._events_where(conn, e.block_number > ancestor.number)
            conn.execute(
                delete(schema.events).where(
                    and_(e.chain_id == self.chain_id, e.block_number > ancestor.number)
                )
            )
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
        assignments, which are few) from the events table, by the reducer alone."""
        chain = self.chain_id
        # Lots first: items take their first custodian from the lot's registrar.
        lt, li = schema.lots.c, schema.lot_inputs.c
        for part in chunks(sorted(lot_ids)):
            conn.execute(delete(schema.lots).where(and_(lt.chain_id == chain, lt.lot_id.in_(part))))
            conn.execute(
                delete(schema.lot_inputs).where(and_(li.chain_id == chain, li.output_lot_id.in_(part)))
            )
        lot_state = State()
        for part in chunks(sorted(lot_ids)):
            for ev in map(stored_logged, conn.execute(in_chain_order(lot_events_query(chain, part)))):
                lot_state.apply(ev)
        self._save(conn, lot_state)
        # Items and containers: a container's with everything ever packed in it, and theirs.
        item_ids = self._packed_together(conn, item_ids)
        it, ct, bt, pt = schema.items.c, schema.custody.c, schema.containers.c, schema.packings.c
        for part in chunks(sorted(item_ids)):
            conn.execute(delete(schema.items).where(and_(it.chain_id == chain, it.item_id.in_(part))))
            conn.execute(delete(schema.custody).where(and_(ct.chain_id == chain, ct.item_id.in_(part))))
            conn.execute(
                delete(schema.containers).where(and_(bt.chain_id == chain, bt.container_id.in_(part)))
            )
            conn.execute(delete(schema.packings).where(and_(pt.chain_id == chain, pt.container_id.in_(part))))
        item_events: list[Logged] = []
        for part in chunks(sorted({schema.item_key(i) for i in item_ids})):
            found = map(stored_logged, conn.execute(item_events_query(chain, part)))
            item_events.extend(ev for ev in found if subject_ids(ev.event)[0] in item_ids)
        item_events.sort(key=lambda ev: ev.position)
        needed = {lot for ev in item_events if (lot := subject_ids(ev.event)[1]) is not None}
        item_state = State(lots=self._load(conn, schema.lots, LotRow, "lot_id", needed))
        item_state.containers = {}  # rebuilt from their events, which are among the items'
        for ev in item_events:
            item_state.apply(ev)
        self._save(conn, item_state, lots=False)
        # Item counts of the lots whose registrations changed, and the stock of those and of the
        # lots blends drew on: what was declared, less each item's quantity, less the blends'.
        drawn = {row.input_lot_id for row in lot_state.lot_inputs}
        for part in chunks(sorted(lot_ids | needed | drawn)):
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
            consumed = (
                select(func.coalesce(func.sum(li.quantity), 0))
                .where(and_(li.chain_id == chain, li.input_lot_id == lt.lot_id))
                .scalar_subquery()
            )
            conn.execute(
                update(schema.lots)
                .where(and_(lt.chain_id == chain, lt.lot_id.in_(part)))
                .values(stock=lt.quantity - lt.item_count * lt.item_quantity - consumed)
            )
        # Participants and assignments: small, rebuilt whole.
        conn.execute(delete(schema.participants).where(schema.participants.c.chain_id == chain))
        conn.execute(delete(schema.assignments).where(schema.assignments.c.chain_id == chain))
        small = State()
        for ev in self._events_where(conn, schema.events.c.name.in_(OTHER_EVENT_NAMES)):
            small.apply(ev)
        self._save(conn, small)

    def _packed_together(self, conn: Connection, ids: set[bytes]) -> set[bytes]:
        """``ids`` with, for each container among them, everything ever packed in it, and for each
        of them, every container it was ever packed in, until nothing is added: the rows that
        a refold of their events must rebuild together (a packing changes its contents' rows)."""
        p = schema.packings.c
        found = set(ids)
        fresh = set(ids)
        while fresh:
            more: set[bytes] = set()
            for part in chunks(sorted(fresh)):
                pairs = conn.execute(
                    select(p.member, p.container_id).where(
                        and_(p.chain_id == self.chain_id, p.member.in_(part) | p.container_id.in_(part))
                    )
                )
                more |= {bytes(v) for pair in pairs for v in pair}
            fresh = more - found
            found |= fresh
        return found

    def rebuild(self) -> None:
        """Rebuild every derived row from the events table."""
        e = schema.events.c
        mine = e.chain_id == self.chain_id
        with self.engine.begin() as conn:
            items = {
                bytes(r[0])[:32]
                for r in conn.execute(select(e.topics).where(and_(mine, e.item_key.isnot(None))))
            }
            lots = {
                r[0]
                for r in conn.execute(select(e.lot_id).where(and_(mine, e.lot_id.isnot(None))).distinct())
            }
            self._refold(conn, items, lots)

    # -- exclusive writer ----------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the index's writer lock (one indexer per index and chain at a time)."""
        with writer_lock(self.engine, self.chain_id, self.url):
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


def _touched(events: Iterable[Logged]) -> tuple[set[bytes], set[int]]:
    """The items (and containers) and lots the events are about or change."""
    items: set[bytes] = set()
    lots: set[int] = set()
    for ev in events:
        item, _lot = subject_ids(ev.event)
        if item is not None:
            items.add(bytes(item))
        items |= container_ids(ev.event)
        lots |= lots_changed(ev.event)
    return items, lots


__all__ = ["Checkpoint", "ChunkWritten", "Header", "IndexStore", "make_engine"]
