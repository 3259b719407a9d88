"""Reading the index: an item's history and record, lots, participants, the index's checkpoint.

Every method is one short read transaction (one snapshot, consistent even while an indexer
writes), safe to call from several threads, and answers in about a millisecond at a million
events::

    from supplytrace.indexer.reader import IndexReader

    reader = IndexReader.open("sqlite:///.supplytrace/index.db", chain_id=1337)  # or a postgresql:// URL
    status = reader.status()                  # IndexStatus | None: registry, last indexed block
    record = reader.item_record(item_id)      # core.records.ItemRecord | None (as getItem)
    story = reader.item_history(item_id)      # ItemHistory | None: record, serial, custody, events
    lot = reader.lot(lot_id)                  # LotSummary | None; reader.lot_items(lot_id, limit=50)
    who = reader.participants([address, ...]) # rows: names (verified), descriptions, roles

Item ids are 32 ``bytes``; addresses are checksummed ``0x`` text; events are
:class:`~supplytrace.core.events.Logged` with their block time; every string the chain holds is
a :class:`~supplytrace.core.text.ChainText` (the index keeps its raw bytes).
:class:`~supplytrace.indexer.history.IndexHistory` answers the history port from it, with the
chain after its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, and_, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from supplytrace.chain.history import LotItem
from supplytrace.core.events import REGISTRATION, Logged, chain_order, subject_ids
from supplytrace.core.hashing import checksum
from supplytrace.core.lineage import MAX_LOTS, RecallCause, recall_causes
from supplytrace.core.records import ItemRecord, LotRecord
from supplytrace.core.reducer import (
    ContainerRow,
    ItemRow,
    LotInputRow,
    LotRow,
    ParticipantRow,
    lot_record_of,
    record_of,
    row_of,
    transformations_of,
)
from supplytrace.core.rows import MAX_NESTING
from supplytrace.core.story import containers_of, handovers, timeline
from supplytrace.core.text import ChainText
from supplytrace.indexer import schema
from supplytrace.indexer.database import chunks, exists, fetch, make_engine, read_connection, resolve_url
from supplytrace.indexer.errors import IndexerError, IndexMismatchError
from supplytrace.indexer.queries import item_events_query, lot_events_query, stored_logged

T = TypeVar("T")


@dataclass(frozen=True)
class IndexStatus:
    """What an index holds: the registry, and the last block indexed completely."""

    chain_id: int
    registry: str
    deployment_block: int
    block_number: int
    block_hash: str
    updated_at: int  # wall clock of the last write (seconds)

    def lag(self, head: int) -> int:
        """Blocks between the index and ``head`` (the node's latest block)."""
        return max(0, head - self.block_number)


@dataclass(frozen=True)
class CustodyPeriod:
    """One holder of an item, from the block that gave it custody."""

    seq: int  # the item's custody nonce it began with (0: registration; a pallet's move keeps it)
    holder: str
    previous: str | None
    since: int  # block time
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class ItemHistory:
    """Everything the index knows about an item."""

    record: ItemRecord
    serial: ChainText
    custody: list[CustodyPeriod]
    events: list[Logged]  # the item's events and its lot's, in chain order


@dataclass(frozen=True)
class LotSummary:
    record: LotRecord
    item_count: int
    recall_reason: ChainText | None
    recalled_by: str | None
    registered_at: int
    registered_block: int
    registered_tx: str


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


_ITEM_COLUMNS = [schema.items.c[f] for f in ItemRow.__dataclass_fields__]
_LOT_COLUMNS = [schema.lots.c[f] for f in LotRow.__dataclass_fields__]
_PARTICIPANT_COLUMNS = [schema.participants.c[f] for f in ParticipantRow.__dataclass_fields__]
_CONTAINER_COLUMNS = [schema.containers.c[f] for f in ContainerRow.__dataclass_fields__]


#: The item page's statements, built once (SQLAlchemy's statement construction cost more than
#: SQLite's answers): each read binds ``chain`` and its key.
_CHAIN: BindParameter[int] = bindparam("chain")
_STATUS = select(schema.checkpoint).where(schema.checkpoint.c.chain_id == _CHAIN)
_ITEM_AND_LOT = (
    select(*_ITEM_COLUMNS, *_LOT_COLUMNS)
    .join(schema.lots, and_(schema.lots.c.chain_id == schema.items.c.chain_id,
                            schema.lots.c.lot_id == schema.items.c.lot_id))
    .where(and_(schema.items.c.chain_id == _CHAIN, schema.items.c.item_id == bindparam("item")))
)  # fmt: skip
_OWN_EVENTS = item_events_query(_CHAIN, bindparam("key"))
_CONTAINER = select(*_CONTAINER_COLUMNS).where(
    and_(schema.containers.c.chain_id == _CHAIN, schema.containers.c.container_id == bindparam("box"))
)
_LOT_EVENTS = lot_events_query(_CHAIN, bindparam("lot"))
_CONTAINERS_OF = select(schema.packings.c.container_id).where(
    and_(
        schema.packings.c.chain_id == _CHAIN,
        schema.packings.c.member.in_(bindparam("members", expanding=True)),
    )
)
_PARTICIPANTS = select(*_PARTICIPANT_COLUMNS).where(
    and_(
        schema.participants.c.chain_id == _CHAIN,
        schema.participants.c.address.in_(bindparam("addresses", expanding=True)),
    )
)
_CUSTODY = (
    select(*(schema.custody.c[n] for n in ("seq", "holder", "previous", "since", "block_number", "tx_hash")))
    .where(and_(schema.custody.c.chain_id == _CHAIN, schema.custody.c.item_id == bindparam("item")))
    .order_by(schema.custody.c.seq)
)


class IndexReader:
    """Read access to the index of chain ``chain_id`` in ``engine``."""

    def __init__(self, engine: Engine, chain_id: int) -> None:
        self.engine = engine
        self.chain_id = chain_id

    @classmethod
    def open(cls, db: str | Path | None = None, *, chain_id: int, home: Path | None = None) -> IndexReader:
        """The index at ``db`` (URL or path; default ``$SUPPLYTRACE_INDEX_DB`` or
        ``<home>/index.db``). Raises :class:`IndexerError` when there is none."""
        url = resolve_url(db, home or Path(".supplytrace").resolve())
        if not exists(url):
            raise IndexerError(f"there is no index at {url}; build it with `supplytrace index`.")
        return cls(make_engine(url, create=False), chain_id)

    def snapshot(self, read: Callable[[Connection], T]) -> tuple[IndexStatus | None, T]:
        """The checkpoint and ``read``'s answer, from one snapshot of the index: whatever an
        indexer writes meanwhile, the answer holds exactly the events up to that checkpoint."""
        with read_connection(self.engine) as conn:
            status = self._status(conn)
            return status, read(conn)

    def status_in(self, conn: Connection) -> IndexStatus | None:
        """The checkpoint as the read transaction of ``conn`` sees it."""
        return self._status(conn)

    def _status(self, conn: Connection) -> IndexStatus | None:
        found = fetch(conn, _STATUS, {"chain": self.chain_id})
        if not found:
            return None
        chain_id, registry, deployment_block, block_number, block_hash, version, updated_at = found[0]
        if version != schema.SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the index has schema version {version}, this supplytrace reads "
                f"{schema.SCHEMA_VERSION}; rebuild it with `supplytrace index --reset`"
            )
        return IndexStatus(chain_id, registry, deployment_block, block_number, _hex(block_hash), updated_at)

    def status(self) -> IndexStatus | None:
        return self.snapshot(lambda _conn: None)[0]

    # -- rows (each read takes the snapshot's connection) -----------------------------------------

    def rows(self, conn: Connection, item_id: bytes) -> tuple[ItemRow, LotRow] | None:
        """The derived rows of an item and its lot."""
        found = fetch(conn, _ITEM_AND_LOT, {"chain": self.chain_id, "item": bytes(item_id)})
        if not found:
            return None
        row, n = found[0], len(_ITEM_COLUMNS)
        return row_of(ItemRow, row[:n]), row_of(LotRow, row[n:])

    def lot_row(self, conn: Connection, lot_id: int) -> LotRow | None:
        lt = schema.lots.c
        row = conn.execute(
            select(*_LOT_COLUMNS).where(and_(lt.chain_id == self.chain_id, lt.lot_id == lot_id))
        ).first()
        return None if row is None else row_of(LotRow, row)

    def container_rows(self, conn: Connection, container_id: bytes | None) -> dict[bytes, ContainerRow]:
        """The container ``container_id`` and those it is packed in, outwards (what
        :func:`~supplytrace.core.reducer.record_of` needs of a packed item)."""
        found: dict[bytes, ContainerRow] = {}
        current = container_id
        for _ in range(MAX_NESTING):
            if current is None or current in found:
                break
            rows = fetch(conn, _CONTAINER, {"chain": self.chain_id, "box": bytes(current)})
            if not rows:
                break
            box = found[bytes(current)] = row_of(ContainerRow, rows[0])
            current = box.parent
        return found

    def containers_ever(self, conn: Connection, *members: bytes) -> set[bytes]:
        """Every container one of ``members`` was ever packed in, and every container those were,
        at any depth (the ``packings`` table; which of their events fall while the member was
        inside is for :func:`~supplytrace.core.story.timeline` to say)."""
        found: set[bytes] = set()
        fresh = {bytes(m) for m in members}
        for _ in range(MAX_NESTING):
            if not fresh:
                break
            more: set[bytes] = set()
            for part in chunks(sorted(fresh)):
                rows = fetch(conn, _CONTAINERS_OF, {"chain": self.chain_id, "members": part})
                more |= {bytes(r[0]) for r in rows}
            fresh = more - found
            found |= fresh
        return found

    def events_of_item(self, conn: Connection, item_id: bytes, lot_id: int | None) -> list[Logged]:
        """The item's timeline (:func:`~supplytrace.core.story.timeline`): its own events,
        (``lot_id``) its lot's, and its containers' while it was in them, in chain order."""
        return timeline(item_id, self.item_events_raw(conn, item_id, lot_id)[0])

    def item_events_raw(
        self, conn: Connection, item_id: bytes, lot_id: int | None
    ) -> tuple[list[Logged], set[bytes]]:
        """The item's own events, its lot's and every event of every container it was ever in
        (not yet cut to its timeline), in chain order; and those containers."""
        rows = fetch(conn, _OWN_EVENTS, {"chain": self.chain_id, "key": schema.item_key(item_id)})
        if lot_id is not None:
            # Two queries, merged here: in one UNION ... ORDER BY, SQLite walks the primary key in
            # order instead of using the two indexes.
            rows += fetch(conn, _LOT_EVENTS, {"chain": self.chain_id, "lot": lot_id})
        boxes = self.containers_ever(conn, item_id)
        for box in sorted(boxes):
            rows += fetch(conn, _OWN_EVENTS, {"chain": self.chain_id, "key": schema.item_key(box)})
        events = chain_order([stored_logged(r) for r in rows])
        # Another item's id may share the first 8 bytes: keep this item's events only.
        wanted = {None, item_id, *boxes}
        return [ev for ev in events if subject_ids(ev.event)[0] in wanted], boxes

    def events_of_items(self, conn: Connection, item_ids: Collection[bytes]) -> list[Logged]:
        """The own events (not the lots') of all ``item_ids``, in chain order."""
        wanted = {bytes(i) for i in item_ids}
        out: list[Logged] = []
        for part in chunks(sorted({schema.item_key(i) for i in wanted})):
            found = map(stored_logged, conn.execute(item_events_query(self.chain_id, part)))
            out.extend(ev for ev in found if subject_ids(ev.event)[0] in wanted)
        return chain_order(out)

    def events_with_containers(
        self, conn: Connection, item_ids: Collection[bytes]
    ) -> tuple[list[Logged], set[bytes]]:
        """The own events of all ``item_ids`` and every event of every container that held one of
        them (by their packings), in chain order; and those containers."""
        wanted = {bytes(i) for i in item_ids}
        boxes = self.containers_ever(conn, *wanted)
        events = self.events_of_items(conn, wanted | boxes)
        held = set().union(*(containers_of(i, events) for i in wanted)) if boxes else set()
        return [ev for ev in events if (s := subject_ids(ev.event)[0]) in wanted or s in held], held

    def events_of_lot(self, conn: Connection, lot_id: int) -> list[Logged]:
        e = schema.events.c
        query = lot_events_query(self.chain_id, lot_id).order_by(e.block_number, e.log_index)
        return [stored_logged(r) for r in conn.execute(query)]

    def items_of_lot(
        self, conn: Connection, lot_id: int, limit: int | None = None, offset: int = 0
    ) -> list[LotItem]:
        """The lot's items (id and serial) in registration order, ``limit`` of them from ``offset``
        (by the ``items_by_lot`` index: no more rows are read than returned)."""
        i = schema.items.c
        query = (
            select(i.item_id, i.serial)
            .where(and_(i.chain_id == self.chain_id, i.lot_id == lot_id))
            .order_by(i.registered_block, i.registered_log_index)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [LotItem(bytes(r.item_id), ChainText.from_word(bytes(r.serial))) for r in conn.execute(query)]

    def participant_rows(self, conn: Connection, addresses: Collection[str]) -> dict[str, ParticipantRow]:
        """Verified names, self-descriptions and roles of the addresses the index knows."""
        wanted = sorted({checksum(a) for a in addresses})
        out: dict[str, ParticipantRow] = {}
        for part in chunks(wanted):
            for r in fetch(conn, _PARTICIPANTS, {"chain": self.chain_id, "addresses": part}):
                row = row_of(ParticipantRow, r)
                out[row.address] = row
        return out

    def custody_of(self, conn: Connection, item_id: bytes) -> list[CustodyPeriod]:
        """The custody periods after registration (``seq`` 1, 2, ...)."""
        return [
            CustodyPeriod(r.seq, r.holder, r.previous, r.since, r.block_number, _hex(r.tx_hash))
            for r in conn.execute(_CUSTODY, {"chain": self.chain_id, "item": bytes(item_id)})
        ]

    # -- answers, each from one snapshot ----------------------------------------------------------

    def _read(self, read: Callable[[Connection], T]) -> T:
        return self.snapshot(read)[1]

    def item_record(self, item_id: bytes) -> ItemRecord | None:
        """The item's current record as the index knows it; None if it never saw it registered."""

        def read(conn: Connection) -> ItemRecord | None:
            rows = self.rows(conn, item_id)
            if rows is None:
                return None
            return record_of(*rows, self.container_rows(conn, rows[0].container))

        return self._read(read)

    def item_events(self, item_id: bytes) -> list[Logged]:
        """The item's own events and its lot's, in chain order (empty for an unknown item)."""

        def read(conn: Connection) -> list[Logged]:
            rows = self.rows(conn, bytes(item_id))
            return self.events_of_item(conn, bytes(item_id), rows[0].lot_id) if rows else []

        return self._read(read)

    def items_events(self, item_ids: Collection[bytes]) -> list[Logged]:
        """The own events (not the lots') of all ``item_ids``, in chain order."""
        return self._read(lambda conn: self.events_of_items(conn, item_ids))

    def item_history(self, item_id: bytes) -> ItemHistory | None:
        """Record, serial, custody periods and every event of the item (and its lot); None if unknown."""
        item_id = bytes(item_id)

        def read(conn: Connection) -> ItemHistory | None:
            rows = self.rows(conn, item_id)
            if rows is None:
                return None
            item, lot = rows
            events = self.events_of_item(conn, item_id, item.lot_id)
            registered = next(e for e in events if isinstance(e.event, REGISTRATION))
            first = CustodyPeriod(
                0, lot.registrar, None, registered.timestamp or 0, registered.block_number, registered.tx_hash
            )
            custody = [first] + [
                CustodyPeriod(
                    h.seq, h.holder, h.previous, h.log.timestamp or 0, h.log.block_number, h.log.tx_hash
                )
                for h in handovers(item_id, events)  # its own transfers, and its pallets' while inside
            ]
            record = record_of(item, lot, self.container_rows(conn, item.container))
            return ItemHistory(record, ChainText.from_word(item.serial), custody, events)

        return self._read(read)

    def recall_causes(self, lot_id: int) -> tuple[RecallCause, ...]:
        """Why lot ``lot_id`` reads as recalled: itself, or a lot it was blended from at any depth
        (nearest first; :func:`~supplytrace.core.lineage.recall_causes`); empty when none is."""

        def read(conn: Connection) -> tuple[RecallCause, ...]:
            li, lt = schema.lot_inputs.c, schema.lots.c
            inputs: list[LotInputRow] = []
            seen, fresh = {lot_id}, {lot_id}
            while fresh and len(seen) <= MAX_LOTS:
                found: list[LotInputRow] = []
                for part in chunks(sorted(fresh)):
                    query = select(li.output_lot_id, li.position, li.input_lot_id, li.quantity).where(
                        and_(li.chain_id == self.chain_id, li.output_lot_id.in_(part))
                    )
                    found += [row_of(LotInputRow, r) for r in conn.execute(query)]
                inputs += found
                fresh = {r.input_lot_id for r in found} - seen
                seen |= fresh
            lots: dict[int, LotRow] = {}
            for part in chunks(sorted(seen)):
                query = select(*_LOT_COLUMNS).where(and_(lt.chain_id == self.chain_id, lt.lot_id.in_(part)))
                lots.update((row.lot_id, row) for row in (row_of(LotRow, r) for r in conn.execute(query)))
            recalled = {n: lot.recall_reason or b"" for n, lot in lots.items() if lot.recalled_at}
            return recall_causes(lot_id, recalled, transformations_of(inputs, lots))

        return self._read(read)

    def lot(self, lot_id: int) -> LotSummary | None:
        lot = self._read(lambda conn: self.lot_row(conn, lot_id))
        if lot is None:
            return None
        reason = None if lot.recall_reason is None else ChainText(lot.recall_reason)
        return LotSummary(
            lot_record_of(lot), lot.item_count, reason, lot.recalled_by, lot.registered_at,
            lot.registered_block, _hex(lot.registered_tx),
        )  # fmt: skip

    def lot_events(self, lot_id: int) -> list[Logged]:
        return self._read(lambda conn: self.events_of_lot(conn, lot_id))

    def lot_items(self, lot_id: int, *, limit: int | None = None, offset: int = 0) -> list[LotItem]:
        """(item id, serial) of the lot's items in registration order."""
        return self._read(lambda conn: self.items_of_lot(conn, lot_id, limit, offset))

    def participants(self, addresses: Collection[str]) -> dict[str, ParticipantRow]:
        """Verified names, self-descriptions and roles of the addresses the index knows."""
        return self._read(lambda conn: self.participant_rows(conn, addresses))
