"""The page's state, shared by every route: its configuration, the live reads (one batched
JSON-RPC request per read, over a pool of keep-alive connections), the history source, the
templates and the lot metadata store. :func:`create_app` keeps one :class:`Page` in
``app.state``; a route asks for it with the :data:`PageDep` dependency.

The history source is asked from a worker thread (its drivers may block) and is never needed
for a status: when it fails the page goes on without it and says so (:meth:`Page.item_history`,
:meth:`Page.lot_history`, :meth:`Page.names`). An item page's history and scan count are read on
the event loop instead when nothing in them waits (an index in a SQLite file at the node's head,
its look at the node already taken; a count no other process is writing meanwhile): a thread
hand-off costs more than such a read, and under load the threads' turns at the GIL cost more
still (the history source raises ``NotLocalError`` for a read that would wait; then a thread).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request

from supplytrace.chain.history import (
    ContainerHistory,
    HistorySource,
    LotHistory,
    NodeLook,
    NotLocalError,
    Participant,
)
from supplytrace.chain.reads import AsyncRegistryReads
from supplytrace.chain.rpc import AsyncRpc
from supplytrace.core.deployments import Deployment
from supplytrace.core.errors import ChainError
from supplytrace.core.events import Logged
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.core.hashing import checksum
from supplytrace.core.networks import LOCAL_NETWORK, default_confirmations
from supplytrace.core.records import REGISTRAR_ROLE, ContainerRecord, LotRecord
from supplytrace.core.rows import MAX_NESTING
from supplytrace.core.story import addresses, relayable, relayed_by
from supplytrace.core.text import Msg
from supplytrace.web.claims import BUSY_DAY, Claims, day_of
from supplytrace.web.lineage import LineageRead, lot_facts, read_lineage
from supplytrace.web.lotdata import MetadataStore
from supplytrace.web.render import Templates
from supplytrace.web.resolver_links import NO_LINKS, ResolverLinks
from supplytrace.web.views.common import Context, Contract, source_sentence
from supplytrace.web.views.lineage import Lineage, lineage_view
from supplytrace.web.views.lot import ITEMS_PER_PAGE

T = TypeVar("T")
#: Seconds a request may spend on the chain (its live reads and its history) before the page says
#: it cannot check: every chain call of a request is cancelled at this deadline.
LIVE_READ_TIMEOUT = 5.0
#: The history gives up this long before the request's deadline, so that a slow history never
#: costs the live status (the page goes on without history and says so).
HISTORY_MARGIN = 1.0
#: Transaction senders a page keeps (for the payers of relayed steps), and reads at most per request.
SENDERS_KEPT = 100_000
SENDERS_PER_REQUEST = 64
#: History reads running at once in worker threads (their drivers block). Beyond this, requests
#: wait for a thread within their deadline, never behind a queue that outlives it; a stalled node
#: holds at most this many threads, each until its own timeout (the deadline).
HISTORY_THREADS = 16
logger = logging.getLogger("supplytrace.web")


@dataclass(frozen=True)
class PageConfig:
    """What the page needs at start-up; nothing here touches ape."""

    rpc_url: str
    registry: str
    chain_id: int
    ecosystem: str
    network: str
    resolver: str
    metadata_folder: Path
    links: ExplorerLinks
    deployment: Deployment | None = None
    rpc_timeout: float = LIVE_READ_TIMEOUT
    #: A brand's own links per GTIN or lot, read and checked at start (``web.resolver_links``).
    resolver_links: ResolverLinks = NO_LINKS

    @classmethod
    def of(
        cls,
        deployment: Deployment,
        *,
        rpc_url: str,
        resolver: str,
        metadata_folder: Path,
        links: ExplorerLinks | None = None,
        resolver_links: ResolverLinks = NO_LINKS,
    ) -> PageConfig:
        """The page of ``deployment``'s registry, read from ``rpc_url``."""
        ecosystem, network = deployment.ecosystem, deployment.network
        return cls(
            rpc_url=rpc_url,
            registry=checksum(deployment.address),
            chain_id=deployment.chain_id,
            ecosystem=ecosystem,
            network=network,
            resolver=resolver,
            metadata_folder=metadata_folder,
            links=links or ExplorerLinks.for_network(ecosystem, network, resolver=resolver),
            deployment=deployment,
            resolver_links=resolver_links,
        )

    @property
    def network_label(self) -> Msg:
        """How the page names the network (a :class:`Msg`: said in the reader's language)."""
        if self.network == LOCAL_NETWORK:
            return Msg("local test network")
        return Msg("%(ecosystem)s %(network)s network", ecosystem=self.ecosystem, network=self.network)

    @property
    def rpc_hint(self) -> str:
        return self.rpc_url if self.network == LOCAL_NETWORK else "<RPC URL>"


def item_url(item_id: str) -> str:
    return f"/item/{item_id}"


def lot_url(lot_id: int) -> str:
    return f"/lot/{lot_id}"


class Page:
    """Everything a route reads: one per app, in ``app.state.page``."""

    def __init__(self, config: PageConfig, source: HistorySource, claims: Claims | None = None) -> None:
        self.config = config
        self.source = source
        #: Hidden-code claims and scan history (``web.claims``); None: the page has neither.
        self.claims = claims
        #: The wall clock of scan days and attempt windows (tests move it).
        self.clock: Callable[[], float] = time.time
        self.metadata = MetadataStore(config.metadata_folder)
        self.context = Context(
            links=config.links,
            registry=Contract(
                address=checksum(config.registry),
                url=config.links.address(config.registry),
                chain_id=config.chain_id,
                network=config.network_label,
            ).model_copy(  # kept Msgs (validation would make them plain str): said in the reader's language
                update={
                    "network": config.network_label,
                    "source": source_sentence(config.deployment.source_check if config.deployment else None),
                }
            ),
            item_url=item_url,
            lot_url=lot_url,
            confirmations=default_confirmations(config.chain_id),
        )
        self.templates = Templates(self.context.registry)
        self.stale(None)
        self._rpc: AsyncRpc | None = None
        self._reads: AsyncRegistryReads | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self._roles: dict[tuple[str, int], asyncio.Future[bool]] = {}
        self._senders: dict[str, str] = {}  # transaction hash -> its sender (a hash names it for good)

    def recorded(self, deployment: Deployment) -> None:
        """Take a newer record of the same registry (``web.follow``): what it says of the source."""
        registry = self.context.registry.model_copy(
            update={"source": source_sentence(deployment.source_check)}
        )
        self.config = replace(self.config, deployment=deployment)
        self.context = replace(self.context, registry=registry)
        self.templates.env.globals["registry"] = registry

    def stale(self, notice: str | None) -> None:
        """Say ``notice`` on every page (the registry this page reads is no longer the one the
        deployment record names: ``web.follow``), or nothing with None."""
        self.templates.env.globals["stale_notice"] = notice

    # -- the live reads (opened and closed with the app: see web.app's lifespan) ----------------

    def open(self) -> None:
        self._rpc = AsyncRpc(self.config.rpc_url, timeout=self.config.rpc_timeout)
        self._reads = AsyncRegistryReads(self._rpc, self.config.registry)
        self._threads = anyio.CapacityLimiter(HISTORY_THREADS)

    async def holds_role(self, address: str, role: bytes, block: int) -> bool:
        """Whether ``address`` holds ``role`` at ``block`` (``hasRole`` pinned to it): one read
        per address and block, shared by the requests that ask for it (a role only changes in a
        block; a read is never shared across blocks)."""
        key = (address.lower() + role.hex(), block)
        found = self._roles.get(key)
        if found is None:
            if self._roles and next(iter(self._roles))[1] != block:
                self._roles = {k: f for k, f in self._roles.items() if k[1] == block}  # a new block
            found = asyncio.ensure_future(self.reads.run(self.reads.role_read(address, role, block)))
            self._roles[key] = found
            found.add_done_callback(lambda done: self._forget_failed(key, done))
        return await asyncio.shield(found)

    async def registrar_at(self, brand: str | None, block: int) -> bool | None:
        """Whether ``brand`` holds REGISTRAR_ROLE at ``block`` (:meth:`holds_role`); None without
        a brand."""
        return None if brand is None else await self.holds_role(brand, REGISTRAR_ROLE, block)

    def _forget_failed(self, key: tuple[str, int], done: asyncio.Future[bool]) -> None:
        if done.cancelled() or done.exception() is not None:
            self._roles.pop(key, None)  # the next request asks again

    @asynccontextmanager
    async def deadline(self) -> AsyncIterator[float]:
        """The request's chain work, cancelled at its deadline (``config.rpc_timeout`` from now):
        then the page says it cannot check (503), never waits on. Yields the deadline (loop time)."""
        at = asyncio.get_running_loop().time() + self.config.rpc_timeout
        try:
            async with asyncio.timeout_at(at):
                yield at
        except TimeoutError:
            raise ChainError(f"the node did not answer within {self.config.rpc_timeout:g} s") from None

    async def close(self) -> None:
        rpc, self._rpc, self._reads = self._rpc, None, None
        if rpc is not None:
            await rpc.aclose()

    @property
    def rpc(self) -> AsyncRpc:
        if self._rpc is None:
            raise RuntimeError("the page's live reads are not open (the app was not started)")
        return self._rpc

    @property
    def reads(self) -> AsyncRegistryReads:
        if self._reads is None:
            raise RuntimeError("the page's live reads are not open (the app was not started)")
        return self._reads

    # -- the history ---------------------------------------------------------------------------

    async def _ask(self, deadline: float, func: Callable[..., T], *args: Any, default: T) -> tuple[T, bool]:
        """``func(*args)`` of the history source in a worker thread, given up
        :data:`HISTORY_MARGIN` before the request's ``deadline`` (loop time); if it fails or is
        given up, ``default`` and False (the status never depends on it; the page says the
        history is unavailable). A thread given up is abandoned, not waited for: it ends at its
        own timeout, holding one of :data:`HISTORY_THREADS` meanwhile."""
        if self._threads is None:
            raise RuntimeError("the page's history threads are not open (the app was not started)")
        try:
            async with asyncio.timeout_at(deadline - HISTORY_MARGIN):
                found = await anyio.to_thread.run_sync(
                    functools.partial(func, *args), abandon_on_cancel=True, limiter=self._threads
                )
            return found, True
        except TimeoutError:
            logger.warning("the history source did not answer in time; serving the live record without it")
            return default, False
        except Exception:
            logger.exception("the history source failed; serving the live record without history")
            return default, False

    async def item_history(
        self, item_id: bytes, deadline: float, look: NodeLook | None = None
    ) -> ItemHistory:
        """The item's history, the names of the addresses in it and the index's mark, read in one
        worker thread at one look at the node (``look``: the one the caller takes, if it takes
        one); ``answered`` False when the source failed."""
        nothing = ItemHistory([], {}, None, answered=False)
        if look is not None and look.answer.done():  # on the loop, if nothing in it waits
            try:
                return self._item_names_and_mark(item_id, look, local=True)
            except NotLocalError:
                pass  # the node or a database server is needed: from a thread
            except Exception:
                logger.exception("the history source failed; serving the live record without history")
                return nothing
        found, _answered = await self._ask(
            deadline, self._item_names_and_mark, item_id, look, default=nothing
        )
        return found

    async def lot_history(
        self, lot_id: int, deadline: float, page: int = 1
    ) -> tuple[LotHistory | None, int | None, bool]:
        """(the lot's history and its items on ``page``, the index's mark, whether the source
        answered)."""
        nothing: tuple[LotHistory | None, int | None] = (None, None)
        (found, indexed), answered = await self._ask(
            deadline, self._lot_and_mark, lot_id, page, default=nothing
        )
        return found, indexed, answered

    async def lineage(
        self, lot_id: int, deadline: float, own_events: list[Logged] | None = None
    ) -> Lineage | None:
        """What lot ``lot_id`` was made from, its origin label and the recalls reaching it
        (``web.lineage``: the graph from the history, at most ``MAX_PAGE_LOTS`` lots; every lot
        of it read live, one batch). ``own_events``: the lot's events the page holds already (an
        item's history): a lot they show was not made by a blend costs nothing more. None for a
        lot not made by a blend, or when the history fails."""
        if own_events is not None and lot_facts(lot_id, own_events).made is None:
            return None
        nothing: LineageRead | None = None
        read, _answered = await self._ask(
            deadline, read_lineage, self.source, lot_id, own_events, default=nothing
        )
        if read is None or not read.made:  # no blend (or a lot the history does not show: it says so)
            return None
        ids = list(read.lots)
        found: list[LotRecord | None] = await self.reads.run(self.reads.lots_read(ids))
        records = dict(zip(ids, found, strict=True))
        return lineage_view(self.context, read, records, self.metadata.get)

    async def outer_containers(self, container: bytes | None) -> list[ContainerRecord]:
        """The containers an item or container is packed in, from ``container`` (its own) out,
        read live one after the other (at most ``MAX_NESTING``: the contract nests no deeper)."""
        chain: list[ContainerRecord] = []
        while container is not None and len(chain) < MAX_NESTING:
            record = await self.reads.run(self.reads.container_read(container))
            if not record.exists or any(r.container_id == record.container_id for r in chain):
                break
            chain.append(record)
            container = record.container
        return chain

    async def container_history(self, container_id: bytes, deadline: float) -> ItemHistory:
        """A container's history (``ChainHistory.container_history``) and the names in it, read in
        one worker thread; ``answered`` False when the source cannot answer it."""
        nothing = ItemHistory([], {}, None, answered=False)
        found, _answered = await self._ask(
            deadline, self._container_names_and_mark, container_id, default=nothing
        )
        return found

    def _container_names_and_mark(self, container_id: bytes) -> ItemHistory:
        source: object = self.source
        if not isinstance(source, ContainerHistory):  # a source of another kind (a test's stand-in)
            return ItemHistory([], {}, None, answered=False)
        with self.source.pinned():
            indexed = self.source.indexed_block()
            events = source.container_history(container_id)
            wanted = addresses(e.event for e in events)
            names = self.source.participants(wanted) if wanted else {}
        return ItemHistory(events, names, indexed)

    async def names(self, addresses: Collection[str | None], deadline: float) -> dict[str, Participant]:
        """Verified names and self-descriptions of ``addresses`` ({} when the source fails)."""
        wanted = {a for a in addresses if a}
        if not wanted:
            return {}
        nobody: dict[str, Participant] = {}
        found, _answered = await self._ask(deadline, self.source.participants, wanted, default=nobody)
        return found

    async def payers(self, events: Sequence[Logged], deadline: float) -> dict[str, str]:
        """The payer of each relayed custody step among ``events``, by transaction hash
        (:func:`core.story.relayed_by`). Senders are read in one batch and kept (at most
        :data:`SENDERS_KEPT`); {} when the node does not answer in time (the page goes on)."""
        steps = [e for e in events if relayable(e.event)]
        missing = list(dict.fromkeys(e.tx_hash for e in steps if e.tx_hash not in self._senders))
        if missing:
            calls = [("eth_getTransactionByHash", [h]) for h in missing[:SENDERS_PER_REQUEST]]
            try:
                async with asyncio.timeout_at(deadline - HISTORY_MARGIN):
                    answers = await self.rpc.batch(calls, raise_errors=False)
            except Exception:
                return {}
            if len(self._senders) > SENDERS_KEPT:
                self._senders.clear()
            for (_method, (tx_hash,)), answer in zip(calls, answers, strict=True):
                sender = answer.get("from") if isinstance(answer, dict) else None
                if isinstance(sender, str) and len(sender) == 42:
                    self._senders[tx_hash] = sender
        return {
            e.tx_hash: payer
            for e in steps
            if (payer := relayed_by(e.event, self._senders.get(e.tx_hash, "")))
        }

    async def scan_tally(
        self, item_id: bytes, *, count: bool, claimed_at: int | None, deadline: float
    ) -> tuple[int, int | None, int, int] | None:
        """Count one check of the item today (``count``), then its tally
        (``web.claims.Book.scanned``); None without a book or when it fails (the page goes on)."""
        book = self.claims.book if self.claims is not None else None
        if book is None:
            return None
        day = day_of(self.clock()) if count else None
        after = day_of(claimed_at) if claimed_at else None
        try:  # on the loop, if no other writer holds the book now
            quick = book.try_scanned(item_id, day, busy=BUSY_DAY, after_day=after)
        except Exception:
            logger.exception("the scan count failed; serving the page without it")
            return None
        if quick is not None:
            return quick
        read = functools.partial(book.scanned, item_id, day, busy=BUSY_DAY, after_day=after)
        nothing: tuple[int, int | None, int, int] | None = None
        found, _answered = await self._ask(deadline, read, default=nothing)
        return found

    # The index's mark is read *before* the history, so the lag shown is never smaller than the truth.

    def _item_names_and_mark(
        self, item_id: bytes, look: NodeLook | None = None, *, local: bool = False
    ) -> ItemHistory:
        with self.source.pinned(look, local=local):
            indexed = self.source.indexed_block()
            events = self.source.item_history(item_id)
            try:
                wanted = addresses(e.event for e in events)
            except Exception:  # rows that are no registry events: the page fails on them, as a 500
                wanted = set()
            names = self.source.participants(wanted) if wanted else {}
        return ItemHistory(events, names, indexed)

    def _lot_and_mark(self, lot_id: int, page: int) -> tuple[LotHistory | None, int | None]:
        indexed = self.source.indexed_block()
        offset = (page - 1) * ITEMS_PER_PAGE
        return self.source.lot(lot_id, ITEMS_PER_PAGE, offset, bounded=True), indexed


@dataclass(frozen=True)
class ItemHistory:
    """What an item page reads from the history source in one go."""

    events: list[Logged]
    #: Names of the addresses in ``events`` (a page asks separately for any others it shows).
    names: dict[str, Participant]
    indexed: int | None
    answered: bool = True


async def page_of(request: Request) -> Page:
    """The page to serve now: the app's, or the one following the deployment record
    (``web.follow``)."""
    follower = getattr(request.app.state, "follower", None)
    if follower is not None:
        current: Page = await follower.current()
        return current
    page: Page = request.app.state.page
    return page


#: A route's parameter for the page's state.
PageDep = Annotated[Page, Depends(page_of)]
