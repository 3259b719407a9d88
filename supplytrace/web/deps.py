"""The page's state, shared by every route: its configuration, the live reads (one batched
JSON-RPC request per read, over a pool of keep-alive connections), the history source, the
templates and the lot metadata store. :func:`create_app` keeps one :class:`Page` in
``app.state``; a route asks for it with the :data:`PageDep` dependency.

The history source is asked from a worker thread (its drivers may block) and is never needed
for a status: when it fails the page goes on without it and says so (:meth:`Page.item_history`,
:meth:`Page.lot_history`, :meth:`Page.names`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from supplytrace.chain.history import HistorySource, LotHistory, Participant
from supplytrace.chain.reads import AsyncRegistryReads
from supplytrace.chain.rpc import AsyncRpc
from supplytrace.core.deployments import Deployment
from supplytrace.core.events import Logged
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.core.hashing import checksum
from supplytrace.core.networks import LOCAL_NETWORK, default_confirmations
from supplytrace.web.lotdata import MetadataStore
from supplytrace.web.render import Templates
from supplytrace.web.views.common import Context, Contract

T = TypeVar("T")
#: Items a lot page lists.
LOT_ITEMS_SHOWN = 50
#: Seconds a live read may take before the page says it cannot check.
LIVE_READ_TIMEOUT = 5.0
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

    @classmethod
    def of(
        cls,
        deployment: Deployment,
        *,
        rpc_url: str,
        resolver: str,
        metadata_folder: Path,
        links: ExplorerLinks | None = None,
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
        )

    @property
    def network_label(self) -> str:
        if self.network == LOCAL_NETWORK:
            return "local test network"
        return f"{self.ecosystem} {self.network} network"

    @property
    def rpc_hint(self) -> str:
        return self.rpc_url if self.network == LOCAL_NETWORK else "<RPC URL>"


def item_url(item_id: str) -> str:
    return f"/item/{item_id}"


def lot_url(lot_id: int) -> str:
    return f"/lot/{lot_id}"


class Page:
    """Everything a route reads: one per app, in ``app.state.page``."""

    def __init__(self, config: PageConfig, source: HistorySource) -> None:
        self.config = config
        self.source = source
        self.metadata = MetadataStore(config.metadata_folder)
        self.context = Context(
            links=config.links,
            registry=Contract(
                address=checksum(config.registry),
                url=config.links.address(config.registry),
                chain_id=config.chain_id,
                network=config.network_label,
            ),
            item_url=item_url,
            lot_url=lot_url,
            confirmations=default_confirmations(config.chain_id),
        )
        self.templates = Templates(self.context.registry)
        self._rpc: AsyncRpc | None = None
        self._reads: AsyncRegistryReads | None = None

    # -- the live reads (opened and closed with the app: see web.app's lifespan) ----------------

    def open(self) -> None:
        self._rpc = AsyncRpc(self.config.rpc_url, timeout=self.config.rpc_timeout)
        self._reads = AsyncRegistryReads(self._rpc, self.config.registry)

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

    async def _ask(self, func: Callable[..., T], *args: Any, default: T) -> tuple[T, bool]:
        """``func(*args)`` of the history source in a worker thread; if it fails, ``default`` and
        False (the status never depends on it; the page says the history is unavailable)."""
        try:
            return await run_in_threadpool(func, *args), True
        except Exception:
            logger.exception("the history source failed; serving the live record without history")
            return default, False

    async def item_history(self, item_id: bytes) -> tuple[list[Logged], int | None, bool]:
        """(the item's history, the index's mark, whether the source answered)."""
        nothing: tuple[list[Logged], int | None] = ([], None)
        (events, indexed), answered = await self._ask(self._item_and_mark, item_id, default=nothing)
        return events, indexed, answered

    async def lot_history(self, lot_id: int) -> tuple[LotHistory | None, int | None, bool]:
        """(the lot's history and first items, the index's mark, whether the source answered)."""
        nothing: tuple[LotHistory | None, int | None] = (None, None)
        (found, indexed), answered = await self._ask(self._lot_and_mark, lot_id, default=nothing)
        return found, indexed, answered

    async def names(self, addresses: Collection[str | None]) -> dict[str, Participant]:
        """Verified names and self-descriptions of ``addresses`` ({} when the source fails)."""
        wanted = {a for a in addresses if a}
        if not wanted:
            return {}
        nobody: dict[str, Participant] = {}
        found, _answered = await self._ask(self.source.participants, wanted, default=nobody)
        return found

    # The index's mark is read *before* the history, so the lag shown is never smaller than the truth.

    def _item_and_mark(self, item_id: bytes) -> tuple[list[Logged], int | None]:
        indexed = self.source.indexed_block()
        return self.source.item_history(item_id), indexed

    def _lot_and_mark(self, lot_id: int) -> tuple[LotHistory | None, int | None]:
        indexed = self.source.indexed_block()
        return self.source.lot(lot_id, LOT_ITEMS_SHOWN), indexed


def page_of(request: Request) -> Page:
    page: Page = request.app.state.page
    return page


#: A route's parameter for the page's state.
PageDep = Annotated[Page, Depends(page_of)]
