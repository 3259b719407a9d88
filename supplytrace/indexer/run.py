"""The indexer: catch up from the deployment block, then (``follow``) tail new blocks.

Every poll first checks the last indexed block's hash against the node (rolling back to the
common ancestor after a reorg), then indexes up to the head minus the confirmation depth in
chunks, each stored in one transaction with its checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from supplytrace.chain.rpc import (
    FetchStats,
    RetriesExhaustedError,
    RetryPolicy,
    Rpc,
    call_with_retry,
    is_transient,
    redacted,
)
from supplytrace.core.networks import default_confirmations
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.fetch import Chunk, ChunkFetcher, FetchConfig, chain_id, head
from supplytrace.indexer.reorg import ChainMovedError, find_common_ancestor, verify_chunk
from supplytrace.indexer.store import Checkpoint, ChunkWritten, Header, IndexStore

DEFAULT_REORG_WINDOW = 128


@contextlib.contextmanager
def bulk_gc() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while indexing: a chunk allocates tens of thousands
    of dicts and events (no cycles; reference counting frees them), and the default thresholds
    would traverse them again and again (~30% of the CPU of a catch-up)."""
    old = gc.get_threshold()
    gc.set_threshold(200_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)


@dataclass(frozen=True)
class IndexerConfig:
    confirmations: int | None = None  # None: the chain's default (core.networks.default_confirmations)
    reorg_window: int = DEFAULT_REORG_WINDOW  # blocks whose hashes are kept to find a common ancestor
    poll_interval: float = 2.0  # seconds between polls when following
    max_restarts: int = 20  # polls in a row whose chunks did not form one chain
    transaction_logs: int = 40_000  # chunks already fetched are stored together up to this many logs
    fetch: FetchConfig = field(default_factory=FetchConfig)


@dataclass(frozen=True)
class Progress:
    first_block: int  # first block this run indexed
    block: int  # indexed up to here
    target: int  # the head minus the confirmation depth, when the poll began
    events: int  # events stored by this run
    seconds: float  # since the run began


@dataclass(frozen=True)
class Reorg:
    old_block: int  # the checkpoint before
    ancestor: int  # the newest block both branches share
    removed_events: int

    @property
    def depth(self) -> int:
        return self.old_block - self.ancestor


@dataclass
class RunReport:
    events: int = 0  # stored
    replayed: int = 0  # fetched again but already stored
    first_block: int | None = None
    checkpoint: int | None = None
    seconds: float = 0.0
    reorgs: list[Reorg] = field(default_factory=list)
    restarts: int = 0
    fetch: FetchStats = field(default_factory=FetchStats)  # fetch.refused_logs: logs the node made up
    stopped: bool = False  # the run was asked to stop before it reached its target

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class Indexer:
    """Indexes the registry at ``registry`` (deployed in block ``deployment_block``) into ``store``."""

    def __init__(
        self,
        store: IndexStore,
        rpc: Rpc,
        registry: str,
        deployment_block: int,
        config: IndexerConfig | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        on_reorg: Callable[[Reorg], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.store = store
        self.rpc = rpc
        self.registry = registry
        self.deployment_block = deployment_block
        self.config = config or IndexerConfig()
        self.confirmations = (
            self.config.confirmations
            if self.config.confirmations is not None
            else default_confirmations(store.chain_id)
        )
        self.fetcher = ChunkFetcher(rpc, registry, store.chain_id, self.config.fetch)
        self.on_progress = on_progress
        self.on_reorg = on_reorg
        self.on_error = on_error
        self.report = RunReport()
        self._started = time.perf_counter()
        self._stop: threading.Event | None = None
        node_chain = chain_id(rpc, self.config.fetch.retry)
        if node_chain != store.chain_id:
            raise IndexerError(
                f"the node at {redacted(rpc.url)} serves chain {node_chain}, "
                f"but the index is for chain {store.chain_id}; check --network and the RPC URL."
            )

    @property
    def retry(self) -> RetryPolicy:
        return self.config.fetch.retry

    # -- checkpoint and reorgs ------------------------------------------------------------------

    def _checkpoint(self) -> Checkpoint:
        cp = self.store.check_registry(self.registry)
        if cp is not None:
            return cp
        parent_number = max(self.deployment_block - 1, 0)
        parent = self.fetcher.headers([parent_number])[parent_number]
        return self.store.start(self.registry, self.deployment_block, parent)

    def _node_headers(self, numbers: list[int]) -> dict[int, Header | None]:
        out: dict[int, Header | None] = {}
        for start in range(0, len(numbers), self.config.fetch.header_batch):
            part = numbers[start : start + self.config.fetch.header_batch]
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in part]
            blocks = self._retrying(functools.partial(self.rpc.batch, calls))
            for number, block in zip(part, blocks, strict=True):
                out[number] = Header.from_rpc(block) if isinstance(block, dict) else None
        return out

    def _retrying(self, call: Callable[[], object]) -> list[object]:
        result = call_with_retry(lambda _m, _p: call(), "eth_getBlockByNumber", [], retry=self.retry)
        assert isinstance(result, list)
        return result

    def _check_reorg(self, cp: Checkpoint) -> Checkpoint:
        """The parent-hash check: roll back to the common ancestor if the node's block at the
        checkpoint height is not the indexed one."""
        node = self._node_headers([cp.block_number])[cp.block_number]
        if node is not None and node.hash == cp.block_hash:
            return cp
        ancestor = find_common_ancestor(
            self.store.stored_blocks(), self._node_headers, self.config.reorg_window
        )
        removed = self.store.rollback(ancestor)
        reorg = Reorg(cp.block_number, ancestor.number, removed)
        self.report.reorgs.append(reorg)
        if self.on_reorg is not None:
            self.on_reorg(reorg)
        new = self.store.checkpoint()
        assert new is not None
        return new

    # -- polling --------------------------------------------------------------------------------

    def poll(self) -> int:
        """Index up to the head minus the confirmation depth; returns the events stored."""
        restarts = 0
        while True:
            try:
                return self._poll_once()
            except ChainMovedError as exc:
                restarts += 1
                self.report.restarts += 1
                if restarts > self.config.max_restarts:
                    raise IndexerError(
                        f"the node's answers kept changing while indexing ({exc}); "
                        "is it a load balancer over nodes that disagree? Try again, or use another RPC URL."
                    ) from exc
                time.sleep(min(2.0, 0.05 * restarts))

    def _poll_once(self) -> int:
        cp = self._check_reorg(self._checkpoint())
        target = head(self.rpc, self.retry) - self.confirmations
        if self.report.first_block is None:
            self.report.first_block = cp.block_number + 1
        self.report.checkpoint = cp.block_number
        if target <= cp.block_number:
            return 0
        stored = 0
        unsafe_from = target - self.config.reorg_window + 1
        chunks = self.fetcher.chunks(
            cp.block_number + 1, target, unsafe_from, batch_logs=self.config.transaction_logs
        )
        with contextlib.closing(chunks):  # type: ignore[type-var]  # a generator has close()
            for batch in chunks:
                if self._stop is not None and self._stop.is_set():
                    self.report.stopped = True
                    break  # asked to stop: the chunks stored so far stay
                for chunk in batch:
                    verify_chunk(chunk, cp)
                    cp = dataclasses.replace(cp, block_number=chunk.end, block_hash=chunk.tip.hash)
                    self._merge(chunk.stats)
                written = self._write(Chunk.joined(batch))
                stored += written.events
                self.report.checkpoint = cp.block_number
                if self.on_progress is not None:
                    done = cp.block_number
                    self.on_progress(
                        Progress(self.report.first_block, done, target, self.report.events, self._elapsed())
                    )
        return stored

    def _write(self, chunk: Chunk) -> ChunkWritten:
        written = self.store.write_chunk(
            chunk.rows, chunk.headers.values(), chunk.tip, window=self.config.reorg_window
        )
        self.report.events += written.events
        self.report.replayed += written.replayed
        self.report.seconds = self._elapsed()
        return written

    def _merge(self, stats: FetchStats) -> None:
        total = self.report.fetch
        total.calls += stats.calls
        total.halvings += stats.halvings
        total.retries += stats.retries
        total.widest_accepted = max(total.widest_accepted, stats.widest_accepted)
        total.refused_logs += stats.refused_logs
        total.errors.extend(stats.errors[: max(0, 100 - len(total.errors))])

    def _elapsed(self) -> float:
        return time.perf_counter() - self._started

    # -- runs -----------------------------------------------------------------------------------

    def catch_up(self, stop: threading.Event | None = None) -> RunReport:
        """Index from the checkpoint (or the deployment block) to the head minus the confirmations;
        ``stop`` ends the run after the chunk being stored (``report.stopped``)."""
        self._started = time.perf_counter()
        self._stop = stop
        with bulk_gc():
            self.poll()
        self.report.seconds = self._elapsed()
        return self.report

    def follow(self, stop: threading.Event) -> RunReport:
        """Poll until ``stop`` is set; transient failures are reported (``on_error``) and retried."""
        self._started = time.perf_counter()
        self._stop = stop
        with bulk_gc():
            self._follow(stop)
        self.report.seconds = self._elapsed()
        return self.report

    def _follow(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                self.poll()
                failures = 0
            except (RetriesExhaustedError, OSError) as exc:
                failures += 1
                if self.on_error is not None:
                    self.on_error(exc)
                stop.wait(self.retry.delay(failures))
                continue
            except Exception as exc:
                if not is_transient(exc):
                    raise
                failures += 1
                if self.on_error is not None:
                    self.on_error(exc)
                stop.wait(self.retry.delay(failures))
                continue
            self.report.seconds = self._elapsed()
            stop.wait(self.config.poll_interval)

    def index_range(self, start: int, end: int) -> ChunkWritten:
        """Fetch and store blocks ``[start, end]`` again (a replay): events already stored are
        ignored, so an indexed range changes nothing; the checkpoint never moves back."""
        cp = self._checkpoint()
        if end > cp.block_number:
            raise IndexerError(
                f"blocks {start}-{end} are not all indexed yet (checkpoint {cp.block_number}); "
                "only indexed blocks can be replayed."
            )
        return self._write(self.fetcher.fetch(start, end, end + 1))
