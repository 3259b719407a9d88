"""Running the index as one job: open the database, take the writer lock, optionally forget
what it holds, catch up (and with ``follow`` keep going until ``stop`` is set), and say where
it ended. What ``supplytrace index`` and the demo run; they only show what it reports.

Progress, reorgs and node failures (retried) are reported through callbacks; nothing here
prints, handles signals or asks anything: a front end sets ``stop`` (on Ctrl-C, SIGTERM, ...)
and the job ends after the chunk it is storing, leaving the index at a chunk boundary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from supplytrace.chain.rpc import Rpc
from supplytrace.core.deployments import Deployment
from supplytrace.core.errors import InterruptedRunError
from supplytrace.indexer.database import display_url, make_engine, resolve_url
from supplytrace.indexer.run import Indexer, IndexerConfig, Progress, Reorg, RunReport
from supplytrace.indexer.store import IndexStore


@dataclass(frozen=True)
class IndexRun:
    """What a job did: the run's report, and the index's URL (without its password)."""

    report: RunReport
    url: str


def run_index(
    rpc: Rpc,
    deployment: Deployment,
    *,
    db: str | None,
    home: Path,
    follow: bool = False,
    reset: bool = False,
    config: IndexerConfig | None = None,
    stop: threading.Event | None = None,
    on_start: Callable[[str], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_reorg: Callable[[Reorg], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> IndexRun:
    """Index ``deployment``'s registry from the node at ``rpc`` into the index at ``db`` (a path
    or URL; default ``$SUPPLYTRACE_INDEX_DB``, else ``<home>/index.db``).

    ``reset`` forgets this chain's index first (and rebuilds tables an older version made);
    ``follow`` keeps polling until ``stop`` is set, otherwise the job catches up to the head
    minus the confirmations. ``on_start`` gets the index's URL once it holds the writer lock.
    A catch-up stopped before its end raises :class:`InterruptedRunError` (the index is intact:
    running the job again continues it); so does Ctrl-C (``KeyboardInterrupt``).
    """
    url = resolve_url(db, home)
    shown = display_url(url)
    engine = make_engine(url)
    store = IndexStore(engine, deployment.chain_id, url=shown)
    stop = stop or threading.Event()
    try:
        with store.writer():
            if reset:
                store.reset()
            indexer = Indexer(
                store, rpc, deployment.address, deployment.block, config,
                on_progress=on_progress, on_reorg=on_reorg, on_error=on_error,
            )  # fmt: skip
            if on_start is not None:
                on_start(shown)
            try:
                report = indexer.follow(stop) if follow else indexer.catch_up(stop)
            except KeyboardInterrupt:
                raise _interrupted(store) from None
            if report.stopped and not follow:
                raise _interrupted(store)
    finally:
        engine.dispose()
    return IndexRun(report, shown)


def _interrupted(store: IndexStore) -> InterruptedRunError:
    cp = store.checkpoint()
    where = f"block {cp.block_number}" if cp else "its start"
    return InterruptedRunError(
        f"interrupted; the index is intact at {where}: run the command again to continue."
    )
