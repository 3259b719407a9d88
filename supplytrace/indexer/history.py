"""The history port answered from the event index: :class:`IndexHistory`.

It answers every question of :class:`~supplytrace.chain.history.HistorySource` exactly as
:class:`~supplytrace.chain.history.ChainHistory` answers it from ``eth_getLogs`` (the tests ask
both on the same chains), in about a millisecond instead of a scan of the chain:

1. the index's rows and its checkpoint are read in one snapshot (:meth:`IndexReader.snapshot`):
   an indexer that writes meanwhile moves neither, so no step is counted twice or missed;
2. the checkpoint is checked against the node in one batched round trip (the node's head, and
   a state read pinned to the checkpoint's block hash with EIP-1898's ``requireCanonical``; a
   node that refuses it is asked for its block at the checkpoint's height, which must have the
   checkpoint's hash). Threads asking
   at the same time share one such round trip (never one that finished before they asked), and
   the reads of one :meth:`IndexHistory.pinned` scope (a page's request) share one; a page sends
   the probe in its own live read (:class:`~supplytrace.chain.history.NodeLook`), so an item page
   at the index's checkpoint costs the node one round trip in all;
3. the registry's events after the checkpoint (the confirmation depth, or what the indexer has
   not reached yet) come from the chain: one filtered ``eth_getLogs``, none when the index is at
   the head.

When the index cannot answer for the node's chain (another registry, its checkpoint block was
replaced, it is more than :data:`MAX_TAIL_BLOCKS` behind, or it cannot be read), that read comes
from ``ChainHistory`` instead: always the chain's current answer, never a stale or foreign one.
``indexed_block()`` is the checkpoint, so the page can say how far the index lags.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from supplytrace.chain.history import (
    ChainHistory,
    LotHistory,
    LotItem,
    NodeLook,
    NotLocalError,
    Participant,
)
from supplytrace.chain.reads import canonical_probe
from supplytrace.chain.rpc import RpcError, hex_int
from supplytrace.core.events import (
    CONTAINER_EVENTS,
    ITEM_EVENTS,
    LOT_EVENTS,
    NAMING_EVENTS,
    REGISTRATION,
    Logged,
    address_topic,
    chain_order,
    id_topic,
    subject_ids,
    topic0,
)
from supplytrace.core.hashing import checksum
from supplytrace.core.reducer import ParticipantRow, State
from supplytrace.core.story import containers_of, timeline
from supplytrace.core.text import ChainText
from supplytrace.indexer.database import first_line, read_connection
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.reader import IndexReader, IndexStatus

T = TypeVar("T")
K = TypeVar("K")

#: A checkpoint further behind the head than this is not used (the tail would be a long read).
MAX_TAIL_BLOCKS = 100_000
#: Item ids in one ``eth_getLogs`` filter (as ``ChainHistory`` asks).
_IDS_PER_FILTER = 100
#: Seconds a read waits for a look its caller takes (the caller's own deadline is shorter).
_LOOK_WAIT = 30.0


@dataclass(frozen=True)
class View:
    """The index up to ``checkpoint``, and the chain after it up to ``head``."""

    checkpoint: int
    head: int

    @property
    def current(self) -> bool:
        return self.head <= self.checkpoint


@dataclass
class _Flight(Generic[T]):
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None


class SharedCalls(Generic[K, T]):
    """Concurrent calls for the same key share one call; a call that finished before another
    asked is never reused (the answer is the node's at one moment, not a cache)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[K, _Flight[T]] = {}

    def run(self, key: K, func: Callable[[], T]) -> T:
        with self._lock:
            flight = self._running.get(key)
            leader = flight is None
            if flight is None:
                flight = self._running[key] = _Flight()
        if not leader:
            flight.done.wait()  # the leader's call has its own timeout
            if flight.error is not None:
                raise flight.error
            return flight.value  # type: ignore[return-value]
        try:
            flight.value = func()
            return flight.value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._running[key]
            flight.done.set()


def _registrations(logs: Sequence[Logged]) -> list[LotItem]:
    """The items (id and serial) that the registrations among ``logs`` bring into being."""
    items = []
    for log in logs:
        if isinstance(log.event, REGISTRATION):  # (REGISTRATION is typed as any event type)
            item_id, serial = getattr(log.event, "item_id"), getattr(log.event, "serial")  # noqa: B009
            items.append(LotItem(bytes(item_id), serial))
    return items


def lot_items_page(
    indexed: Sequence[LotItem], count: int, newer: Sequence[LotItem], limit: int, offset: int
) -> list[LotItem]:
    """Items ``offset`` to ``offset + limit`` of a lot whose first ``count`` items are in the
    index (``indexed``: the page of them read with that offset and limit) and whose later ones
    are ``newer`` (registered after the index's checkpoint)."""
    page = list(indexed[:limit])
    start = max(0, offset - count)
    return page + list(newer[start : start + max(0, limit - len(page))])


def _about(log: Logged, item_id: bytes, lot_id: int) -> bool:
    """Whether ``log`` is one of the item's own events or one of its lot's."""
    item, lot = subject_ids(log.event)
    return item == item_id if item is not None else lot == lot_id


def _participant(row: ParticipantRow) -> Participant:
    return Participant(
        row.address,
        None if row.verified_name is None else ChainText(row.verified_name),
        None if row.description is None else ChainText(row.description),
    )


class IndexHistory:
    """History from the index at ``reader`` plus the chain after its checkpoint (``chain``: the
    chain's logs of the same registry, also the fallback)."""

    def __init__(self, reader: IndexReader, chain: ChainHistory) -> None:
        self.reader = reader
        self.chain = chain
        self._looks: SharedCalls[tuple[int, str], tuple[int, bool]] = SharedCalls()
        self._pins = threading.local()
        self._checkpoint: tuple[int, str] | None = None

    def checkpoint(self) -> tuple[int, str] | None:
        """The checkpoint (number, block hash) of the index as last read, for a caller to probe."""
        return self._checkpoint

    @contextlib.contextmanager
    def pinned(self, look: NodeLook | None = None, *, local: bool = False) -> Iterator[None]:
        """This thread's reads inside share one look at the node (see the module's step 2) and
        one snapshot of the index (one read transaction, its checkpoint read once); ``look``, a
        look the caller takes in its own round trip, serves them if it is of their checkpoint.
        ``local``: a read that needs more than a SQLite file and ``look`` (already answered)
        raises :class:`NotLocalError` instead of waiting: the node asked, the chain after the
        checkpoint read, the chain instead of the index, or a database server."""
        if getattr(self._pins, "looks", None) is not None:
            yield  # already inside one
            return
        if local and self.reader.engine.dialect.name != "sqlite":
            raise NotLocalError
        self._pins.looks = {}
        self._pins.offered = look
        self._pins.local = local
        with contextlib.ExitStack() as stack:
            self._pins.stack = stack
            try:
                yield
            finally:
                self._pins.looks = self._pins.stack = self._pins.snapshot = self._pins.offered = None
                self._pins.local = False

    def _remote(self) -> ChainHistory:
        """The chain's logs, for a read the index cannot answer (:class:`NotLocalError` inside a
        local :meth:`pinned` scope)."""
        if getattr(self._pins, "local", False):
            raise NotLocalError
        return self.chain

    def _snapshot(self, read: Callable[[Connection], T]) -> tuple[IndexStatus | None, T]:
        """``reader.snapshot(read)``; inside :meth:`pinned`, every read of the scope from one."""
        stack: contextlib.ExitStack | None = getattr(self._pins, "stack", None)
        if stack is None:
            return self.reader.snapshot(read)
        pinned: tuple[Connection, IndexStatus | None] | None = getattr(self._pins, "snapshot", None)
        if pinned is None:
            conn = stack.enter_context(read_connection(self.reader.engine))
            pinned = self._pins.snapshot = (conn, self.reader.status_in(conn))
        conn, status = pinned
        return status, read(conn)

    def _look(self, number: int, block_hash: str) -> tuple[int, bool]:
        """(the node's head, whether its block at ``number`` is ``block_hash``): shared by the
        threads asking at the same time, and within a :meth:`pinned` scope."""
        looks: dict[tuple[int, str], tuple[int, bool]] | None = getattr(self._pins, "looks", None)
        key = (number, block_hash)
        if looks is not None and key in looks:
            return looks[key]
        found = self._offered(key)
        if found is None:
            self._remote()
            found = self._looks.run(key, lambda: self._ask_node(number, block_hash))
        if looks is not None:
            looks[key] = found
        return found

    def _offered(self, key: tuple[int, str]) -> tuple[int, bool] | None:
        """The look the pinned scope's caller took, if it probed checkpoint ``key`` and the node
        holds that block; else None (the node is asked here: a block it does not hold by hash
        may still be compared by number, see :meth:`_ask_node`)."""
        look: NodeLook | None = getattr(self._pins, "offered", None)
        if look is None or (look.number, look.block_hash) != key:
            return None
        if getattr(self._pins, "local", False) and not look.answer.done():
            return None  # (never waited for on an event loop)
        try:
            head, held = look.answer.result(timeout=_LOOK_WAIT)
        except Exception:  # the caller's round trip failed: ask the node here
            return None
        return (head, True) if held else None

    def _ask_node(self, number: int, block_hash: str) -> tuple[int, bool]:
        """One round trip: the head, and a state read pinned to ``block_hash`` with EIP-1898's
        ``requireCanonical`` (a few bytes, where the block itself lists every transaction hash:
        36 kB for a block of 500 transactions). A node that refuses it, for a block it dropped or
        because it does not take the form, is asked for the block at ``number`` to compare."""
        head, probe = self.chain.rpc.batch(
            [("eth_blockNumber", []), canonical_probe(block_hash)], raise_errors=False
        )
        if isinstance(head, RpcError):
            raise head
        if not isinstance(probe, RpcError):
            return hex_int(head), True
        block = self.chain.rpc.request("eth_getBlockByNumber", [hex(number), False])
        return hex_int(head), isinstance(block, dict) and str(block.get("hash", "")).lower() == block_hash

    # -- can the index answer? --------------------------------------------------------------------

    def judge(self, status: IndexStatus | None) -> tuple[View | None, str]:
        """Whether an index at ``status`` can answer for the chain now, and why: a
        :class:`View` (checkpoint and head) or None, and a short reason."""
        if status is None:
            return None, "the index holds nothing for this chain yet"
        if status.registry.lower() != self.chain.registry.lower():
            return None, f"the index holds another registry ({status.registry})"
        number = status.block_number
        self._checkpoint = (number, status.block_hash)
        head, canonical = self._look(number, status.block_hash)
        if not canonical:
            return None, f"the index's block {number} is no longer on the chain (run `supplytrace index`)"
        if head - number > MAX_TAIL_BLOCKS:
            return None, f"the index is {head - number} blocks behind (run `supplytrace index`)"
        view = View(number, max(head, number))
        return view, f"index at block {number}" + ("" if view.current else f" + chain to block {view.head}")

    def check(self) -> tuple[View | None, str]:
        """:meth:`judge` of the index as it is now (what ``open_history`` asks once)."""
        try:
            status = self.reader.status()
        except (SQLAlchemyError, IndexerError) as exc:
            return None, f"the index cannot be read ({first_line(exc)})"
        return self.judge(status)

    def _answer(self, read: Callable[[Connection], T]) -> tuple[View, T] | None:
        """``read``'s answer and the view it holds (the checkpoint read with it, checked against
        the node), or None when the index cannot answer for the chain now."""
        try:
            status, value = self._snapshot(read)
        except (SQLAlchemyError, IndexerError):
            return None  # the chain answers instead
        view, _reason = self.judge(status)
        return None if view is None else (view, value)

    def _tail(self, view: View, topics: list[object]) -> list[Logged]:
        """The registry's events matching ``topics`` after the view's checkpoint, stamped."""
        if view.current:
            return []
        return self._remote().logs(topics, view.checkpoint + 1, view.head)

    # -- the port -----------------------------------------------------------------------------------

    def item_history(self, item_id: bytes) -> list[Logged]:
        item_id = bytes(item_id)

        def read(conn: Connection) -> tuple[int | None, list[Logged], set[bytes]]:
            rows = self.reader.rows(conn, item_id)
            if rows is None:
                return None, [], set()
            return rows[0].lot_id, *self.reader.item_events_raw(conn, item_id, rows[0].lot_id)

        answered = self._answer(read)
        if answered is None:
            return self._remote().item_history(item_id)
        view, (lot_id, indexed, boxes) = answered
        if view.current:
            return timeline(item_id, indexed)
        if lot_id is not None:  # one eth_getLogs: the item's events and its lot's (ids never collide)
            both = self._tail(
                view, [topic0(*ITEM_EVENTS, *LOT_EVENTS), [id_topic(item_id), id_topic(lot_id)]]
            )
            return self._with_containers(
                view, item_id, indexed + [e for e in both if _about(e, item_id, lot_id)], boxes
            )
        own = self._tail(view, [topic0(*ITEM_EVENTS), id_topic(item_id)])
        found = next((n for e in own if (n := subject_ids(e.event)[1]) is not None), None)
        if found is None:
            return self._with_containers(view, item_id, own, boxes)
        lot = [e for e in self.reader.lot_events(found) if e.block_number <= view.checkpoint]
        history = chain_order(own + lot + self._tail(view, [topic0(*LOT_EVENTS), id_topic(found)]))
        return self._with_containers(view, item_id, history, boxes)

    def container_history(self, container_id: bytes) -> list[Logged]:
        """A container's page (as :meth:`ChainHistory.container_history`): its own events, its
        custody steps and its outer containers' events while it was in them; from the index, and
        the chain's logs after the checkpoint only (a page never scans the whole chain)."""
        box = bytes(container_id)
        answered = self._answer(lambda conn: self.reader.item_events_raw(conn, box, None))
        if answered is None:
            return self._remote().container_history(box)
        view, (indexed, boxes) = answered
        history = chain_order(
            indexed + self._tail(view, [topic0(*ITEM_EVENTS, *CONTAINER_EVENTS), id_topic(box)])
        )
        moved = self._with_containers(view, box, history, boxes)
        own = [e for e in history if isinstance(e.event, CONTAINER_EVENTS) and subject_ids(e.event)[0] == box]
        seen = {e.position for e in own}
        return chain_order(own + [e for e in moved if e.position not in seen])

    def _with_containers(
        self, view: View, item_id: bytes, history: list[Logged], boxes: set[bytes]
    ) -> list[Logged]:
        """The item's timeline from ``history`` (indexed and tail) with its containers' events."""
        return timeline(item_id, self._with_boxes(view, {item_id}, history, boxes))

    def _with_boxes(
        self, view: View, ids: set[bytes], history: list[Logged], boxes: set[bytes]
    ) -> list[Logged]:
        """``history`` (indexed and tail events of ``ids``, with the indexed events of ``boxes``,
        the containers ever packed around them) and the events of the containers that held one of
        them: those after the checkpoint, and those of the containers they were packed in after
        it (every container event of the tail is read: a packing names its contents in its data
        only), indexed and after. Containers that never held one of them are left out."""
        packings = self._tail(view, [topic0(*CONTAINER_EVENTS)])
        everything = chain_order(history + packings)
        found: set[bytes] = set().union(*(containers_of(i, everything) for i in ids))
        new = found - boxes
        extra = [e for e in packings if subject_ids(e.event)[0] in found]
        if new:  # their events before the checkpoint, from the index
            extra += [e for e in self.reader.items_events(new) if e.block_number <= view.checkpoint]
        listed = sorted(found)
        for start in range(0, len(listed), _IDS_PER_FILTER):
            part = [id_topic(i) for i in listed[start : start + _IDS_PER_FILTER]]
            extra += self._tail(view, [topic0(*ITEM_EVENTS), part])
        seen = {e.position for e in history}
        merged = chain_order(history + [e for e in extra if e.position not in seen])
        return [e for e in merged if (s := subject_ids(e.event)[0]) is None or s in ids or s in found]

    def items_events(self, item_ids: Collection[bytes]) -> list[Logged]:
        wanted = {bytes(i) for i in item_ids}
        answered = self._answer(lambda conn: self.reader.events_with_containers(conn, wanted))
        if answered is None:
            return self._remote().items_events(wanted)
        view, (indexed, boxes) = answered
        if view.current:
            return indexed
        ids = sorted(wanted)
        if len(ids) <= _IDS_PER_FILTER * 5:  # a few eth_getLogs filtered by id
            parts = [ids[n : n + _IDS_PER_FILTER] for n in range(0, len(ids), _IDS_PER_FILTER)]
            tail = chain_order(
                [
                    e
                    for part in parts
                    for e in self._tail(view, [topic0(*ITEM_EVENTS), [id_topic(i) for i in part]])
                ]
            )
        else:  # many items: one eth_getLogs of every item event after the checkpoint
            tail = self._tail(view, [topic0(*ITEM_EVENTS)])
        own = indexed + [e for e in tail if subject_ids(e.event)[0] in wanted]
        return self._with_boxes(view, wanted, own, boxes)

    def lot(
        self, lot_id: int, item_limit: int = 50, offset: int = 0, *, bounded: bool = False
    ) -> LotHistory | None:
        def read(conn: Connection) -> tuple[int, list[Logged], list[LotItem]]:
            row = self.reader.lot_row(conn, lot_id)
            if row is None:
                return 0, [], []
            events = self.reader.events_of_lot(conn, lot_id)
            return row.item_count, events, self.reader.items_of_lot(conn, lot_id, item_limit, offset)

        answered = self._answer(read)
        if answered is None:
            return self._remote().lot(lot_id, item_limit, offset, bounded=bounded)
        view, (count, events, items) = answered
        events = events + self._tail(view, [topic0(*LOT_EVENTS), id_topic(lot_id)])
        if not events:
            return None
        newer = _registrations(self._tail(view, [topic0(REGISTRATION), None, id_topic(lot_id)]))
        total = count + len(newer)
        return LotHistory(
            lot_id,
            events,
            total,
            lot_items_page(items, count, newer, item_limit, offset),
            offset + item_limit < total,
        )

    def lot_items(self, lot_id: int) -> list[LotItem]:
        answered = self._answer(lambda conn: self.reader.items_of_lot(conn, lot_id))
        if answered is None:
            return self._remote().lot_items(lot_id)
        view, items = answered
        return items + _registrations(self._tail(view, [topic0(REGISTRATION), None, id_topic(lot_id)]))

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        wanted = sorted({checksum(a) for a in addresses})
        if not wanted:
            return {}
        answered = self._answer(lambda conn: self.reader.participant_rows(conn, wanted))
        if answered is None:
            return self._remote().participants(wanted)
        view, rows = answered
        state = State(participants=rows)  # names and descriptions after the checkpoint: the chain's
        for log in self._tail(view, [topic0(*NAMING_EVENTS), [address_topic(a) for a in wanted]]):
            state.apply(log)
        named = (
            (address, row)
            for address, row in state.participants.items()
            if row.verified_name is not None or row.description is not None
        )
        asked = set(wanted)  # a node may answer logs the filter did not ask for
        return {address: _participant(row) for address, row in named if address in asked}

    def indexed_block(self) -> int | None:
        try:
            status, _ = self._snapshot(lambda _conn: None)
        except (SQLAlchemyError, IndexerError):
            return None
        if status is None or status.registry.lower() != self.chain.registry.lower():
            return None  # every answer comes from the chain
        return status.block_number
