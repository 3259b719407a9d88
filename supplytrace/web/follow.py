"""A running page follows its network's deployment record: after a redeploy (``supplytrace
deploy --force``, or the README's walk-through after ``make demo``) the next request reads the
new registry, never the old one, which would call every new label "not registered".

The record file is looked at (one ``stat``) at most once a second. When it changed, the page of
the record as it is now is built in a worker thread by the ``rebuild`` the service gave
(``supplytrace.service.page.build_page``: the record, the check that the node holds its code,
the history source). If that fails (the record names code the node does not hold, the node is
down), the page keeps reading the registry it has and says on every page that it is stale, and
why. The old page's connections are closed a minute later, after the requests still using it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from supplytrace.chain.history import HistorySource
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.text import Msg
from supplytrace.web.deps import Page, PageConfig

logger = logging.getLogger("supplytrace.web")
#: Seconds between two looks at the record file.
LOOK_EVERY = 1.0
#: Seconds an old page's connections stay open for the requests still using it.
CLOSE_AFTER = 60.0


@dataclass(frozen=True)
class Follow:
    """What to follow: the record file, and how to build the page of the record as it is now."""

    record: Path
    rebuild: Callable[[], tuple[PageConfig, HistorySource]]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class Follower:
    """The page to serve now: ``page``, replaced when the deployment record names another registry."""

    def __init__(self, page: Page, follow: Follow) -> None:
        self.page = page
        self.follow = follow
        self._stamp = _stamp(follow.record)
        self._looked = time.monotonic()
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def current(self) -> Page:
        now = time.monotonic()
        if now - self._looked < LOOK_EVERY:
            return self.page
        self._looked = now
        if _stamp(self.follow.record) == self._stamp:
            return self.page
        async with self._lock:
            stamp = _stamp(self.follow.record)
            if stamp != self._stamp:
                self._stamp = stamp
                await self._rebuild()
        return self.page

    async def _rebuild(self) -> None:
        old = self.page
        try:
            config, source = await run_in_threadpool(self.follow.rebuild)
        except SupplytraceError as exc:
            old.stale(
                Msg(
                    "The deployment record for this network has changed, but this page cannot read the "
                    "registry it names (%(error)s). It still shows the registry at %(registry)s.",
                    error=str(exc),
                    registry=old.config.registry,
                )
            )
            logger.warning("the deployment record changed, but the page cannot follow it: %s", exc)
            return
        if config.registry.lower() == old.config.registry.lower():
            old.stale(None)
            if config.deployment is not None:  # e.g. `verify-deployment` recorded a source check
                old.recorded(config.deployment)
            return
        page = Page(config, source, old.claims)
        page.clock = old.clock
        page.open()
        self.page = page
        logger.warning("the deployment record now names %s: the page reads it", config.registry)
        task = asyncio.get_running_loop().create_task(self._close_later(old))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close_later(page: Page) -> None:
        await asyncio.sleep(CLOSE_AFTER)
        await page.close()

    async def close(self) -> None:
        for task in list(self._closing):
            task.cancel()
        await self.page.close()
