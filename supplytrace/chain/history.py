"""History, as one port (:class:`HistorySource`) with two adapters: :class:`ChainHistory` here
(the chain's logs) and ``supplytrace.indexer.history.IndexHistory`` (the event index plus the
chain after its checkpoint). ``supplytrace.service.history.open_history`` decides which one a
command or the page uses, and says why.

A history source never gives an item's *status*: every reader takes that from the live record
(``getItem``). It gives what only logs hold: the custody timeline, observations, recall
reasons, participant names, a lot's items. Every method may be called from several threads at
once; events come in chain order, each with its block's time.

``item_history(item_id)``
    The item's timeline: its own events, its lot's, and its containers' while it was in them
    (``core.story.timeline``). Empty for an item the source has never seen.
``items_events(item_ids)``
    The own events (not the lots') of several items, and every event of every container that held
    one of them (an EPCIS export cuts each item's timeline from them).
``lot(lot_id, item_limit, offset, bounded=False)``
    The lot's events, how many items were registered into it, and ``item_limit`` of them from
    ``offset`` (id and serial) in registration order; None for a lot the source has never seen.
    ``bounded`` (a page's request): never read more than about one page of items from the chain
    (the first page only, without an index); the count may then be unknown (None) and
    ``listed`` False for a page the source cannot list.
``lot_items(lot_id)``
    Every item of the lot (id and serial), in registration order.
``participants(addresses)``
    For each address that has one: the latest verified name (published by the admin) and the
    latest self-description (unverified).
``indexed_block()``
    The highest block the source has indexed completely, or None when it reads the chain live
    (then it never lags).
``pinned(look=None, local=False)``
    A context in which this thread's reads share one look at the node (its head, and whether
    the index's checkpoint is still on the chain): what a page's request reads together.
    ``look``: that look, taken by the caller in a round trip of its own (:class:`NodeLook`).
    ``local``: the reads must not wait on the node or a database server (the caller runs them on
    its event loop); one that would raises :class:`NotLocalError` (entering it, for a source that
    cannot answer so), and the caller asks again from a thread.
``checkpoint()``
    The index's checkpoint as last read (block number and hash), for a caller to probe in its
    own round trip; None for a source that reads the chain live.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from supplytrace.chain.logs import get_logs, stamp
from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.core.events import (
    CONTAINER_EVENTS,
    ITEM_EVENTS,
    LOT_EVENTS,
    LOT_REGISTRATION,
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
from supplytrace.core.reducer import State
from supplytrace.core.story import containers_of, timeline
from supplytrace.core.text import ChainText

#: ``eth_getLogs`` calls a bounded lot read makes at most (see :meth:`ChainHistory.lot`).
MAX_PAGE_READS = 64
#: The widest block range a bounded lot read asks for at once, across blocks without registrations.
MAX_EMPTY_RANGE = 10_000


@dataclass(frozen=True)
class LotItem:
    item_id: bytes
    serial: ChainText


@dataclass(frozen=True)
class LotHistory:
    lot_id: int
    events: list[Logged]
    #: Items registered into the lot; None when a bounded read did not count them all.
    item_count: int | None
    items: list[LotItem]
    #: Whether more items follow this page.
    more: bool = False
    #: False when the source cannot list this page (the chain without an index, beyond the first).
    listed: bool = True


@dataclass(frozen=True)
class Participant:
    """What an address says about itself (unverified) and what the admin says (verified)."""

    address: str
    verified_name: ChainText | None = None
    description: ChainText | None = None


@dataclass(frozen=True)
class NodeLook:
    """A look at the node that a caller takes in a round trip of its own (the page's live read,
    with :func:`~supplytrace.chain.reads.probed`): the node's head, and whether it holds block
    ``block_hash`` at ``number`` on its chain. ``answer`` gets (head, held) once the caller has
    it, or an exception if it failed; a source that finds another checkpoint, or the block not
    held, asks the node itself."""

    number: int
    block_hash: str
    answer: Future[tuple[int, bool]] = field(default_factory=Future)

    def give(self, head: int, held: bool) -> None:
        if not self.answer.done():
            self.answer.set_result((head, held))

    def fail(self) -> None:
        """The caller's round trip failed or was given up: the source asks the node itself."""
        if not self.answer.done():
            self.answer.set_exception(LookUnavailableError())


class LookUnavailableError(Exception):
    """The caller's look at the node did not come."""


class NotLocalError(Exception):
    """A read inside ``pinned(local=True)`` would wait on the node or a database server."""


@runtime_checkable
class HistorySource(Protocol):
    def item_history(self, item_id: bytes) -> list[Logged]: ...

    def items_events(self, item_ids: Collection[bytes]) -> list[Logged]: ...

    def lot(
        self, lot_id: int, item_limit: int = 50, offset: int = 0, *, bounded: bool = False
    ) -> LotHistory | None: ...

    def lot_items(self, lot_id: int) -> list[LotItem]: ...

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]: ...

    def indexed_block(self) -> int | None: ...

    def checkpoint(self) -> tuple[int, str] | None: ...

    def pinned(
        self, look: NodeLook | None = None, *, local: bool = False
    ) -> contextlib.AbstractContextManager[None]: ...


@runtime_checkable
class ContainerHistory(Protocol):
    """A history source that answers a container's page (:meth:`ChainHistory.container_history`)."""

    def container_history(self, container_id: bytes) -> list[Logged]: ...


def participants_of(logs: list[Logged], addresses: Collection[str]) -> dict[str, Participant]:
    """Names and descriptions of ``addresses`` from participant events, folded by the reducer."""
    state = State()
    for log in logs:
        state.apply(log if log.timestamp is not None else log.stamped(0))
    wanted = {checksum(a) for a in addresses}
    return {
        address: Participant(
            address,
            ChainText(row.verified_name) if row.verified_name is not None else None,
            ChainText(row.description) if row.description is not None else None,
        )
        for address, row in state.participants.items()
        if address in wanted and (row.verified_name is not None or row.description is not None)
    }


class ChainHistory:
    """History read from the chain's logs (``eth_getLogs``) from the deployment block: always
    current, but its cost grows with the chain (the devnet, small deployments, the fallback)."""

    def __init__(self, rpc: Rpc, registry: str, from_block: int) -> None:
        self.rpc = rpc
        self.registry = checksum(registry)
        self.from_block = from_block
        self._times: dict[str, int] = {}
        self._lock = threading.Lock()

    def logs(
        self, topics: list[object], from_block: int | None = None, to_block: int | None = None
    ) -> list[Logged]:
        """The registry's events matching ``topics``, stamped with their block times."""
        found = get_logs(
            self.rpc.request,
            self.registry,
            topics,
            self.from_block if from_block is None else from_block,
            to_block,
        )
        with self._lock:
            times = dict(self._times)
        stamped = stamp(self.rpc.batch, found, times)
        with self._lock:
            if len(self._times) > 100_000:
                self._times.clear()
            self._times.update(times)
        return stamped

    def lot_events(self, lot_id: int) -> list[Logged]:
        return self.logs([topic0(*LOT_EVENTS), id_topic(lot_id)])

    def item_history(self, item_id: bytes) -> list[Logged]:
        own = self.logs([topic0(*ITEM_EVENTS), id_topic(item_id)])
        lot_id = next(
            (getattr(e.event, "lot_id", None) for e in own if isinstance(e.event, REGISTRATION)), None
        )
        lot = self.lot_events(lot_id) if lot_id is not None else []
        return timeline(item_id, chain_order(own + lot + self.containers_events([item_id])))

    def containers_events(self, item_ids: Collection[bytes]) -> list[Logged]:
        """Every event of every container that held one of the items. A packing names its contents
        in its data only, so every container event is read, and the custody steps of the items'
        containers by their ids."""
        boxes_events = self.logs([topic0(*CONTAINER_EVENTS)])
        boxes = set().union(*(containers_of(bytes(i), boxes_events) for i in item_ids))
        if not boxes:
            return []
        mine = [e for e in boxes_events if subject_ids(e.event)[0] in boxes]
        ids = sorted(boxes)
        for start in range(0, len(ids), 100):
            mine += self.logs([topic0(*ITEM_EVENTS), [id_topic(i) for i in ids[start : start + 100]]])
        return chain_order(mine)

    def container_history(self, container_id: bytes) -> list[Logged]:
        """A container's page: its own events (its creation, what was packed into it and taken
        out), its custody steps, and its outer containers' events while it was in them
        (:func:`~supplytrace.core.story.timeline`), in chain order."""
        box = bytes(container_id)
        own = self.logs([topic0(*CONTAINER_EVENTS), id_topic(box)])
        steps = self.logs([topic0(*ITEM_EVENTS), id_topic(box)])
        moved = timeline(box, chain_order(steps + self.containers_events([box])))
        seen = {e.position for e in own}
        return chain_order(own + [e for e in moved if e.position not in seen])

    def items_events(self, item_ids: Collection[bytes]) -> list[Logged]:
        ids = list(dict.fromkeys(bytes(i) for i in item_ids))
        out: list[Logged] = []
        for start in range(0, len(ids), 100):
            out += self.logs([topic0(*ITEM_EVENTS), [id_topic(i) for i in ids[start : start + 100]]])
        theirs = {e.position for e in out}
        return chain_order(out + [e for e in self.containers_events(ids) if e.position not in theirs])

    def _registrations(self, lot_id: int) -> list[LotItem]:
        found = self.logs([topic0(REGISTRATION), None, id_topic(lot_id)])
        return [LotItem(e.event.item_id, e.event.serial) for e in found if isinstance(e.event, REGISTRATION)]

    def lot(
        self, lot_id: int, item_limit: int = 50, offset: int = 0, *, bounded: bool = False
    ) -> LotHistory | None:
        events = self.lot_events(lot_id)
        if not events:
            return None
        if bounded:
            return self._first_page(lot_id, events, item_limit, offset)
        items = self._registrations(lot_id)
        return LotHistory(
            lot_id, events, len(items), items[offset : offset + item_limit], offset + item_limit < len(items)
        )

    def _first_page(self, lot_id: int, events: list[Logged], limit: int, offset: int) -> LotHistory:
        """The lot's first ``limit`` items, read block by block from its first event: at most
        ``limit`` items and one block's registrations more (a block is bounded by its gas), in at
        most :data:`MAX_PAGE_READS` ``eth_getLogs``. Later pages need an index."""
        if offset:
            return LotHistory(lot_id, events, None, [], more=True, listed=False)
        head = hex_int(self.rpc.request("eth_blockNumber", []))
        topics: list[object] = [topic0(REGISTRATION), None, id_topic(lot_id)]
        found: list[LotItem] = []
        start, width = events[0].block_number, 1
        for _ in range(MAX_PAGE_READS):
            if start > head or len(found) > limit:
                break
            end = min(head, start + width - 1)
            logs = get_logs(self.rpc.request, self.registry, topics, start, end)
            found += [
                LotItem(e.event.item_id, e.event.serial) for e in logs if isinstance(e.event, REGISTRATION)
            ]
            # Dense blocks are read one at a time; empty stretches in ever wider ranges.
            start, width = end + 1, 1 if logs else min(width * 2, MAX_EMPTY_RANGE)
        complete = start > head and len(found) <= limit
        return LotHistory(lot_id, events, len(found) if complete else None, found[:limit], not complete)

    def lot_items(self, lot_id: int) -> list[LotItem]:
        return self._registrations(lot_id)

    def lots_of(self, registrar: str) -> list[int]:
        """Ids of every lot ``registrar`` registered."""
        found = self.logs([topic0(LOT_REGISTRATION), None, None, address_topic(registrar)])
        return [e.event.lot_id for e in found if isinstance(e.event, LOT_REGISTRATION)]

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        wanted = sorted({checksum(a) for a in addresses})
        if not wanted:
            return {}
        found = self.logs([topic0(*NAMING_EVENTS), [address_topic(a) for a in wanted]])
        return participants_of(found, wanted)

    def indexed_block(self) -> int | None:
        return None

    def checkpoint(self) -> tuple[int, str] | None:
        return None

    @contextlib.contextmanager
    def pinned(self, look: NodeLook | None = None, *, local: bool = False) -> Iterator[None]:
        if local:
            raise NotLocalError  # every read asks the chain itself
        yield
