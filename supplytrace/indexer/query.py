"""Reading the index: an item's history and current state, lots, participants, the index's lag.

This is the API for the CLI and the verification page. Every method is one short read
transaction (consistent even while an indexer writes), safe to call from several threads, and
answers in about a millisecond at a million events::

    from supplytrace.indexer.query import IndexReader

    reader = IndexReader.open("sqlite:///.supplytrace/index.db", chain_id=1337)  # or a postgresql:// URL
    status = reader.status()                  # IndexStatus | None: registry, last indexed block
    lag = status.lag(head_block)              # blocks the index is behind the node's head
    state = reader.item_state(item_id)        # supplytrace.registry.ItemState | None (as getItem)
    story = reader.item_history(item_id)      # ItemHistory | None: state, custody, events, timeline
    lot = reader.lot(lot_id)                  # LotSummary | None; reader.lot_items(lot_id, limit=50)
    who = reader.participants([address, ...]) # names (verified) and descriptions (unverified)

Item ids are 32 ``bytes``; addresses are checksummed ``0x`` text; events are
:class:`supplytrace.events.Event` with ``block_timestamp`` set.

:class:`LiveView` adds the chain after the index's checkpoint (the few blocks the index has not
reached, e.g. its confirmation depth), so the CLI's ``status`` and ``history`` and the
verification page answer from the index whenever it is on the node's chain, and otherwise from
the chain alone (:func:`open_view` once, :func:`live_view` again for every read of a
long-running reader).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Engine, and_, select
from sqlalchemy.exc import SQLAlchemyError

from supplytrace.events import ITEM_EVENTS, LOT_EVENTS, TOPIC0, Event, get_logs, topic_for_id
from supplytrace.history import TimelineEntry, stamped, timeline_entries
from supplytrace.indexer import schema
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.model import ItemRow, LotRow, ParticipantRow, State, row_of
from supplytrace.indexer.store import (
    exists,
    item_events_query,
    lot_events_query,
    make_engine,
    resolve_url,
    row_event,
)
from supplytrace.registry import ItemState, ItemStatus, LotState

_LOT_EVENT_NAMES = frozenset(LOT_EVENTS)


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

    seq: int  # the custody nonce it began with (0: registration)
    holder: str
    previous: str | None
    since: int  # block time
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class ItemHistory:
    """Everything the index knows about an item."""

    state: ItemState
    serial: str
    custody: list[CustodyPeriod]
    events: list[Event]  # the item's events and its lot's, in chain order

    @property
    def timeline(self) -> list[TimelineEntry]:
        return timeline_entries(self.events)


@dataclass(frozen=True)
class LotSummary:
    state: LotState
    item_count: int
    recall_reason: str | None
    recalled_by: str | None
    registered_at: int
    registered_block: int
    registered_tx: str


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def item_state_of(row: ItemRow, lot: LotRow) -> ItemState:
    """An indexed item as :class:`supplytrace.registry.ItemState` (what ``getItem`` returns)."""
    return ItemState(
        item_id=_hex(row.item_id),
        status=ItemStatus(row.status),
        custodian=row.custodian,
        pending_receiver=row.pending_receiver,
        brand=lot.registrar,
        lot_id=row.lot_id,
        gtin=str(lot.gtin).zfill(14),
        lot_code=lot.lot_code,
        lot_metadata_hash=_hex(lot.metadata_hash),
        custody_nonce=row.custody_nonce,
        updated_at=row.updated_at,
        recalled=lot.recalled_at != 0,
        recalled_at=lot.recalled_at,
        lot_closed=lot.closed,
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
        return cls(make_engine(url), chain_id)

    def _connect(self) -> Any:
        conn = self.engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn

    def status(self) -> IndexStatus | None:
        c = schema.checkpoint.c
        with self._connect() as conn:
            row = conn.execute(select(schema.checkpoint).where(c.chain_id == self.chain_id)).first()
        if row is None:
            return None
        return IndexStatus(
            row.chain_id,
            row.registry,
            row.deployment_block,
            row.block_number,
            _hex(row.block_hash),
            row.updated_at,
        )

    # -- rows -----------------------------------------------------------------------------------

    def _rows(self, conn: Any, item_id: bytes) -> tuple[ItemRow, LotRow] | None:
        i, lt = schema.items, schema.lots
        cols = [i.c[f] for f in ItemRow.__dataclass_fields__] + [lt.c[f] for f in LotRow.__dataclass_fields__]
        row = conn.execute(
            select(*cols)
            .join(lt, and_(lt.c.chain_id == i.c.chain_id, lt.c.lot_id == i.c.lot_id))
            .where(and_(i.c.chain_id == self.chain_id, i.c.item_id == item_id))
        ).first()
        if row is None:
            return None
        n = len(ItemRow.__dataclass_fields__)
        return row_of(ItemRow, row[:n]), row_of(LotRow, row[n:])

    def _lot_row(self, conn: Any, lot_id: int) -> LotRow | None:
        lt = schema.lots
        row = conn.execute(
            select(*[lt.c[f] for f in LotRow.__dataclass_fields__]).where(
                and_(lt.c.chain_id == self.chain_id, lt.c.lot_id == lot_id)
            )
        ).first()
        if row is None:
            return None
        return row_of(LotRow, row)

    def item_rows(self, item_id: bytes) -> tuple[ItemRow, LotRow] | None:
        """The raw derived rows of an item and its lot (for folding newer events on top)."""
        with self._connect() as conn:
            return self._rows(conn, bytes(item_id))

    def item_rows_at(self, item_id: bytes) -> tuple[tuple[ItemRow, LotRow] | None, tuple[int, str] | None]:
        """:meth:`item_rows` and the checkpoint (block number and hash) they are current at, read
        in one transaction: an indexer writing meanwhile changes neither."""
        c = schema.checkpoint.c
        with self._connect() as conn:
            checkpoint = conn.execute(
                select(c.block_number, c.block_hash).where(c.chain_id == self.chain_id)
            ).first()
            rows = self._rows(conn, bytes(item_id))
        return rows, (checkpoint[0], _hex(checkpoint[1])) if checkpoint is not None else None

    def lot_row(self, lot_id: int) -> LotRow | None:
        with self._connect() as conn:
            return self._lot_row(conn, lot_id)

    # -- items ----------------------------------------------------------------------------------

    def item_state(self, item_id: bytes) -> ItemState | None:
        """The item's current state as the index knows it; None if it never saw it registered."""
        rows = self.item_rows(item_id)
        return item_state_of(*rows) if rows else None

    def _item_events(self, conn: Any, item_id: bytes, lot_id: int) -> list[Event]:
        key = schema.item_key(item_id)
        own = item_events_query(self.chain_id, key)
        lot = lot_events_query(self.chain_id, lot_id)
        # Two queries, merged here: in one UNION ... ORDER BY, SQLite walks the primary key in
        # order instead of using the two indexes.
        rows = [*conn.execute(own), *conn.execute(lot)]
        events = sorted(map(row_event, rows), key=lambda ev: (ev.block_number, ev.log_index))
        # Another item's id may share the first 8 bytes: keep this item's events only.
        return [ev for ev in events if ev.name in _LOT_EVENT_NAMES or ev.args["itemId"] == item_id]

    def item_events(self, item_id: bytes) -> list[Event]:
        """The item's own events and its lot's, in chain order (empty for an unknown item)."""
        with self._connect() as conn:
            rows = self._rows(conn, bytes(item_id))
            return self._item_events(conn, bytes(item_id), rows[0].lot_id) if rows else []

    def items_events(self, item_ids: Collection[bytes]) -> list[Event]:
        """The own events (not the lots') of all ``item_ids``, in chain order."""
        wanted = {bytes(i) for i in item_ids}
        out: list[Event] = []
        keys = sorted({schema.item_key(i) for i in wanted})
        with self._connect() as conn:
            for start in range(0, len(keys), 500):
                query = item_events_query(self.chain_id, keys[start : start + 500])
                out.extend(ev for ev in map(row_event, conn.execute(query)) if ev.args["itemId"] in wanted)
        out.sort(key=lambda ev: (ev.block_number, ev.log_index))
        return out

    def item_history(self, item_id: bytes) -> ItemHistory | None:
        """State, custody periods and every event of the item (and its lot); None if unknown."""
        item_id = bytes(item_id)
        c = schema.custody.c
        with self._connect() as conn:
            rows = self._rows(conn, item_id)
            if rows is None:
                return None
            events = self._item_events(conn, item_id, rows[0].lot_id)
            registered = next(e for e in events if e.name == "ItemRegistered")
            first = CustodyPeriod(
                0,
                rows[1].registrar,
                None,
                registered.block_timestamp or 0,
                registered.block_number,
                registered.tx_hash,
            )
            custody = [first] + [
                CustodyPeriod(r.seq, r.holder, r.previous, r.since, r.block_number, _hex(r.tx_hash))
                for r in conn.execute(
                    select(c.seq, c.holder, c.previous, c.since, c.block_number, c.tx_hash)
                    .where(and_(c.chain_id == self.chain_id, c.item_id == item_id))
                    .order_by(c.seq)
                )
            ]
        return ItemHistory(item_state_of(*rows), rows[0].serial, custody, events)

    # -- lots -----------------------------------------------------------------------------------

    def lot(self, lot_id: int) -> LotSummary | None:
        with self._connect() as conn:
            lot = self._lot_row(conn, lot_id)
        if lot is None:
            return None
        state = LotState(
            lot_id=lot.lot_id,
            registrar=lot.registrar,
            gtin=str(lot.gtin).zfill(14),
            lot_code=lot.lot_code,
            metadata_hash=_hex(lot.metadata_hash),
            recalled_at=lot.recalled_at,
            closed=lot.closed,
        )
        return LotSummary(
            state, lot.item_count, lot.recall_reason, lot.recalled_by, lot.registered_at,
            lot.registered_block, _hex(lot.registered_tx),
        )  # fmt: skip

    def lot_events(self, lot_id: int) -> list[Event]:
        e = schema.events.c
        with self._connect() as conn:
            query = lot_events_query(self.chain_id, lot_id)
            return [row_event(r) for r in conn.execute(query.order_by(e.block_number, e.log_index))]

    def lot_items(self, lot_id: int, *, limit: int | None = None, offset: int = 0) -> list[tuple[bytes, str]]:
        """(item id, serial) of the lot's items in registration order."""
        i = schema.items.c
        query = (
            select(i.item_id, i.serial)
            .where(and_(i.chain_id == self.chain_id, i.lot_id == lot_id))
            .order_by(i.registered_block, i.registered_log_index)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            return [(bytes(r.item_id), r.serial) for r in conn.execute(query)]

    # -- participants ---------------------------------------------------------------------------

    def participants(self, addresses: Collection[str]) -> dict[str, ParticipantRow]:
        """Verified names, self-descriptions and roles of the addresses the index knows."""
        wanted = sorted({to_checksum_address(a) for a in addresses})
        p = schema.participants
        cols = [p.c[f] for f in ParticipantRow.__dataclass_fields__]
        with self._connect() as conn:
            rows = conn.execute(
                select(*cols).where(and_(p.c.chain_id == self.chain_id, p.c.address.in_(wanted)))
            ).all()
        return {r.address: ParticipantRow(*r) for r in rows}


# ----------------------------------------------------------------------------------------------
# The index plus the chain after it (CLI reads)
# ----------------------------------------------------------------------------------------------

#: A checkpoint further behind the head than this is not used (the tail would be a long read).
MAX_TAIL_BLOCKS = 100_000
#: Times an item is read again when an indexer moves the checkpoint while it is read.
_MOVES = 5


class LiveView:
    """The index up to its checkpoint plus the registry's events after it, read from the node
    (``provider.make_request``): always the chain's current answer.

    Index rows newer than ``status`` (an indexer may write while the view reads) are left out
    of the events: blocks after the checkpoint come from the node only."""

    def __init__(self, reader: IndexReader, status: IndexStatus, provider: Any, head: int) -> None:
        self.reader = reader
        self.status = status
        self.provider = provider
        self.head = head

    def _tail(self, topics: list[Any]) -> list[Event]:
        if self.head <= self.status.block_number:
            return []
        events = get_logs(
            self.provider, self.status.registry, topics, self.status.block_number + 1, self.head
        )
        return stamped(self.provider, events)

    def _indexed(self, events: list[Event]) -> list[Event]:
        return [e for e in events if e.block_number <= self.status.block_number]

    def tail_registrations(self, lot_id: int) -> list[Event]:
        """``ItemRegistered`` events of the lot after the checkpoint."""
        return self._tail([TOPIC0["ItemRegistered"], None, topic_for_id(lot_id)])

    def items_events(self, item_ids: Collection[bytes]) -> list[Event]:
        """The own events of all ``item_ids`` (index, then the chain after it), in chain order."""
        wanted = {bytes(i) for i in item_ids}
        tail = [e for e in self._tail([[TOPIC0[n] for n in ITEM_EVENTS]]) if e.args["itemId"] in wanted]
        return self._indexed(self.reader.items_events(wanted)) + tail

    def lot_events(self, lot_id: int) -> list[Event]:
        """The lot's events (registration, recall, closing), in chain order."""
        tail = self._tail([[TOPIC0[n] for n in LOT_EVENTS], topic_for_id(lot_id)])
        return self._indexed(self.reader.lot_events(lot_id)) + tail

    def _item_tail(self, item_id: bytes, lot_id: int | None) -> list[Event]:
        """The item's events after the checkpoint and, when its lot is known, the lot's: one
        ``eth_getLogs`` (an item id and a lot id never share a topic)."""
        if lot_id is None:
            return self._tail([[TOPIC0[n] for n in ITEM_EVENTS], topic_for_id(item_id)])
        names = (*ITEM_EVENTS, *LOT_EVENTS)
        events = self._tail([[TOPIC0[n] for n in names], [topic_for_id(item_id), topic_for_id(lot_id)]])
        return [
            e
            for e in events
            if (e.args["lotId"] == lot_id if e.name in _LOT_EVENT_NAMES else e.args["itemId"] == item_id)
        ]

    def item_events(self, item_id: bytes) -> list[Event]:
        """The item's events and its lot's, in chain order (what :meth:`item` returns, without
        the state; from the index alone when it is at the head)."""
        if self.head <= self.status.block_number:
            return self._indexed(self.reader.item_events(item_id))
        return self.item(item_id)[1]

    def item(self, item_id: bytes) -> tuple[ItemState | None, list[Event]]:
        """The item's current state and all its events (and its lot's), in chain order.

        The item's row is read with the checkpoint it is current at; when an indexer has moved
        the checkpoint since this view began, the answer comes from a view at that checkpoint
        (the chain's events after it folded on top), so no step counts twice."""
        item_id = bytes(item_id)
        view: LiveView = self
        for _ in range(_MOVES):
            rows, checkpoint = view.reader.item_rows_at(item_id)
            if checkpoint is None or checkpoint[0] == view.status.block_number:
                return view._item(item_id, rows)
            number, block_hash = checkpoint
            view = LiveView(
                view.reader,
                dataclasses.replace(view.status, block_number=number, block_hash=block_hash),
                view.provider,
                max(view.head, number),
            )
        raise IndexerError(
            "the index kept changing while it was read (is an indexer rolling it back and forth?); try again."
        )

    def _item(
        self, item_id: bytes, rows: tuple[ItemRow, LotRow] | None
    ) -> tuple[ItemState | None, list[Event]]:
        if rows is not None and rows[0].registered_block > self.status.block_number:
            rows = None  # indexed after this view's checkpoint: the tail holds its registration
        if rows is not None:
            lot_id = rows[0].lot_id
            tail = self._item_tail(item_id, lot_id)
        else:
            tail = self._item_tail(item_id, None)
            found = next((e.args["lotId"] for e in tail if e.name == "ItemRegistered"), None)
            if found is None:
                return None, []
            lot_id = int(found)
            tail += self._tail([[TOPIC0[n] for n in LOT_EVENTS], topic_for_id(lot_id)])
            tail.sort(key=lambda e: (e.block_number, e.log_index))
        state = State()
        indexed: list[Event] = []
        if rows is not None:
            state.items[item_id], state.lots[lot_id] = rows
            indexed = self._indexed(self.reader.item_events(item_id))
        else:
            lot = self.reader.lot_row(lot_id)
            if lot is not None and lot.registered_block <= self.status.block_number:
                state.lots[lot_id] = lot
                indexed = self._indexed(self.reader.lot_events(lot_id))
        for event in tail:
            assert event.block_timestamp is not None
            state.apply(event, event.block_timestamp)
        item = state.items.get(item_id)
        if item is None:
            return None, []
        return item_state_of(item, state.lots[lot_id]), indexed + tail


def _head_and_block(provider: Any, number: int) -> tuple[int, Any]:
    """The node's head and its block ``number``: one round trip when ``provider`` batches
    (``SyncRpc``, ``HttpRpc``), else two ``make_request`` calls (ape's provider)."""
    calls: list[tuple[str, list[Any]]] = [
        ("eth_blockNumber", []),
        ("eth_getBlockByNumber", [hex(number), False]),
    ]
    batch = getattr(provider, "batch", None)
    if callable(batch):
        results = list(batch(calls))
        for result in results:
            if isinstance(result, Exception):
                raise result
    else:
        results = [provider.make_request(method, params) for method, params in calls]
    return int(results[0], 16), results[1]


def live_view(reader: IndexReader, provider: Any, registry: str) -> tuple[LiveView | None, str]:
    """``reader``'s index as a :class:`LiveView` when it can answer for ``registry`` on the node's
    current chain (its checkpoint block is still the node's block at that height, and the chain
    after it is short), else None; with a short reason either way."""
    try:
        status = reader.status()
    except (SQLAlchemyError, IndexerError) as exc:
        return None, f"the index cannot be read ({str(exc).splitlines()[0]})"
    if status is None:
        return None, "the index holds nothing for this chain yet"
    if status.registry.lower() != registry.lower():
        return None, f"the index holds another registry ({status.registry})"
    head, block = _head_and_block(provider, status.block_number)
    if not isinstance(block, dict) or block.get("hash") != status.block_hash:
        return (
            None,
            f"the index's block {status.block_number} is no longer on the chain (run `supplytrace index`)",
        )
    if head - status.block_number > MAX_TAIL_BLOCKS:
        return None, f"the index is {head - status.block_number} blocks behind (run `supplytrace index`)"
    return LiveView(reader, status, provider, head), (
        f"index at block {status.block_number}"
        + (f" + chain to block {head}" if head > status.block_number else "")
    )


def open_view(
    provider: Any, registry: str, chain_id: int, *, db: str | Path | None, home: Path
) -> tuple[LiveView | None, str]:
    """The index at ``db`` (default ``$SUPPLYTRACE_INDEX_DB``, else ``<home>/index.db``) as a
    :class:`LiveView` when it can answer for ``registry`` on the node's current chain, else None;
    with a short reason either way (for the CLI and the page to show)."""
    url = resolve_url(db, home)
    if not exists(url):
        return None, "no index (build one with `supplytrace index`)"
    try:
        reader = IndexReader(make_engine(url, create=False), chain_id)
    except (SQLAlchemyError, IndexerError) as exc:
        return None, f"the index cannot be read ({str(exc).splitlines()[0]})"
    return live_view(reader, provider, registry)
