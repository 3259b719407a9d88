"""Fetching the registry's logs in chunks: adaptive block ranges, requests overlapped with
decoding and storage, and the block headers the reorg checks need.

A chunk is one block range fetched completely (:func:`supplytrace.chain.logs.fetch_logs` halves
what the node refuses, retries what fails transiently, and refuses logs of another contract or
outside the range, counting them in ``FetchStats.refused_logs``). The span of the next range adapts: it
scales with ``target_logs`` / logs returned (at most x2 or /4 at a time), and drops to the widest
span the node accepted after a refusal or a timeout, which then also caps later growth for a
while. ``concurrency`` threads fetch ranges while the caller stores earlier chunks, up to
``ahead`` chunks ahead of it; chunks are always delivered in block order, those already fetched
together (the caller stores them in one transaction).

The answers are decoded straight into :class:`~supplytrace.chain.logs.RawLog` structs (msgspec) and split into
rows in the fetching threads; storage (sqlite3) releases the interpreter lock while SQLite works,
so fetching, parsing and storing overlap on two cores.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from supplytrace.chain.logs import RawLog, fetch_logs
from supplytrace.chain.rpc import FetchStats, RetryPolicy, Rpc, call_with_retry, hex_int
from supplytrace.core.events import ALL_TOPICS
from supplytrace.indexer.rows import Col, EventRow, Header, event_rows

#: How much wider the next range may be than the last one fetched: at most x2, so that after a
#: stretch of sparse blocks the first dense range is at most twice the target (a wider one would
#: leave storage waiting for it while the pipeline starts).
GROWTH = 2.0


@dataclass(frozen=True)
class FetchConfig:
    initial_span: int = 16  # blocks in the first request
    max_span: int = 200_000
    target_logs: int = 10_000  # logs per request the span aims at
    concurrency: int = 2  # ranges in flight
    ahead: int = 2  # chunks fetched ahead of the consumer, besides those in flight
    header_batch: int = 200  # headers per batched request
    probe_after: int = 64  # chunks after a refusal before the span may grow past it again
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class Chunk:
    """The registry's events in blocks ``[start, end]`` (complete), and block headers: every
    block of the range at or after ``unsafe_from`` and always ``end``."""

    start: int
    end: int
    rows: list[EventRow]  # the events, as rows of the events table (rows.event_rows)
    headers: dict[int, Header]
    logs: int
    stats: FetchStats
    seconds: float

    @property
    def tip(self) -> Header:
        return self.headers[self.end]

    @classmethod
    def joined(cls, chunks: list[Chunk]) -> Chunk:
        """Consecutive chunks as one (its ``stats`` empty: the caller counts each chunk's own)."""
        if len(chunks) == 1:
            return chunks[0]
        headers: dict[int, Header] = {}
        for chunk in chunks:
            headers.update(chunk.headers)
        rows = [row for chunk in chunks for row in chunk.rows]
        return cls(
            chunks[0].start, chunks[-1].end, rows, headers, sum(c.logs for c in chunks), FetchStats(),
            sum(c.seconds for c in chunks),
        )  # fmt: skip


class ChunkFetcher:
    def __init__(self, rpc: Rpc, registry: str, chain_id: int, config: FetchConfig | None = None) -> None:
        self.rpc = rpc
        self.chain_id = chain_id
        self.registry = registry
        self.config = config or FetchConfig()
        self.span = self.config.initial_span
        self.ceiling = self.config.max_span
        self._since_refusal = 0

    # -- one range ------------------------------------------------------------------------------

    def headers(self, numbers: list[int]) -> dict[int, Header]:
        """Headers of blocks ``numbers`` (batched, retried); a block the node does not have yet
        counts as a transient failure."""
        out: dict[int, Header] = {}
        size = self.config.header_batch
        for start in range(0, len(numbers), size):
            part = numbers[start : start + size]
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in part]

            def request(_method: str, _params: list[Any], calls: list[Any] = calls) -> Any:
                blocks = self.rpc.batch(calls)  # a failed call raises its RpcError
                if any(not isinstance(b, dict) for b in blocks):
                    raise ConnectionError("the node does not have the block yet (unknown block)")
                return blocks

            blocks = call_with_retry(request, "eth_getBlockByNumber", [], retry=self.config.retry)
            for block in blocks:
                header = Header.from_rpc(block)
                out[header.number] = header
        return out

    def fetch(self, start: int, end: int, unsafe_from: int) -> Chunk:
        started = time.perf_counter()
        stats = FetchStats()
        request = functools.partial(self.rpc.request, result=list[RawLog])
        raw = fetch_logs(
            request, self.registry, [ALL_TOPICS], start, end, retry=self.config.retry, stats=stats
        )
        rows = event_rows(raw)
        if any(a[:2] >= b[:2] for a, b in itertools.pairwise(rows)):
            rows.sort(key=lambda r: r[:2])  # (block number, log index)
        wanted = set(range(max(start, unsafe_from), end + 1))
        wanted.add(end)
        untimed = {r[Col.BLOCK] for r in rows if r[Col.TIME] is None}
        headers = self.headers(sorted(wanted | untimed))
        if untimed:  # the node does not put blockTimestamp in logs: take it from the headers
            rows = [r if r[Col.TIME] is not None else _with_time(r, headers) for r in rows]
        for number in untimed - wanted:
            del headers[number]
        return Chunk(start, end, rows, headers, len(raw), stats, time.perf_counter() - started)

    # -- many ranges, in order ------------------------------------------------------------------

    def _adapt(self, chunk: Chunk, truncated: bool) -> None:
        """Size later ranges from ``chunk`` (``truncated``: cut short by the end of the run)."""
        stats = chunk.stats
        if stats.halvings:
            self.span = max(1, stats.widest_accepted)
            self.ceiling = self.span
            self._since_refusal = 0
            return
        self._since_refusal += 1
        if self._since_refusal >= self.config.probe_after:
            self.ceiling = self.config.max_span
        if truncated and chunk.logs < self.config.target_logs:
            return  # a range cut short by the end says little about density
        width = chunk.end - chunk.start + 1
        factor = self.config.target_logs / chunk.logs if chunk.logs else GROWTH
        span = int(width * min(GROWTH, max(0.25, factor)))
        self.span = max(1, min(span, self.ceiling, self.config.max_span))

    def chunks(self, start: int, end: int, unsafe_from: int, *, batch_logs: int = 0) -> Iterator[list[Chunk]]:
        """Consecutive chunks covering ``[start, end]``, in order, in lists: each list is the
        next chunk and, up to ``batch_logs`` logs in all, the chunks after it that are already
        fetched (the caller stores a list in one transaction: when storage is behind, fewer and
        larger transactions). ``concurrency`` threads fetch ranges, each sized when it is taken
        from the latest chunk fetched, and stay at most ``ahead`` chunks ahead of the consumer.
        Closing the iterator stops them taking new ranges; a fetch in flight ends on its own."""
        if start > end:
            return
        pipeline = _Pipeline(self, start, end, unsafe_from)
        try:
            yield from pipeline.results(batch_logs)
        finally:
            pipeline.stop()


class _Pipeline:
    """The ordered fetch pipeline of :meth:`ChunkFetcher.chunks`."""

    def __init__(self, fetcher: ChunkFetcher, start: int, end: int, unsafe_from: int) -> None:
        self.fetcher = fetcher
        self.end = end
        self.unsafe_from = unsafe_from
        self.next_start = start
        self.taken = 0  # ranges handed to threads
        self.consumed = 0  # chunks handed to the consumer
        self.done: dict[int, Chunk | BaseException] = {}
        self.truncated: set[int] = set()  # ranges cut short by the end of the run
        self.stopped = False
        self.cond = threading.Condition()
        config = fetcher.config
        self.ahead = max(1, config.concurrency) + max(0, config.ahead)
        self.threads = [
            threading.Thread(target=self._work, name=f"getlogs-{n}", daemon=True)
            for n in range(max(1, config.concurrency))
        ]
        for thread in self.threads:
            thread.start()

    def _take(self) -> tuple[int, int, int] | None:
        with self.cond:
            while (
                not self.stopped and self.next_start <= self.end and self.taken - self.consumed >= self.ahead
            ):
                self.cond.wait()
            if self.stopped or self.next_start > self.end:
                return None
            first = self.next_start
            last = min(self.end, first + self.fetcher.span - 1)
            if last == self.end and last - first + 1 < self.fetcher.span:
                self.truncated.add(self.taken)
            self.next_start = last + 1
            self.taken += 1
            return self.taken - 1, first, last

    def _work(self) -> None:
        while (job := self._take()) is not None:
            index, first, last = job
            result: Chunk | BaseException
            try:
                result = self.fetcher.fetch(first, last, self.unsafe_from)
            except BaseException as exc:  # handed to the consumer, who raises it in order
                result = exc
            with self.cond:
                if isinstance(result, Chunk):
                    self.fetcher._adapt(result, index in self.truncated)
                else:
                    self.stopped = True  # the consumer stops at this range: take no more
                self.done[index] = result
                self.cond.notify_all()

    def results(self, batch_logs: int) -> Iterator[list[Chunk]]:
        index = 0
        while True:
            batch: list[Chunk] = []
            logs = 0
            failure: BaseException | None = None
            with self.cond:
                while index not in self.done:
                    if index >= self.taken and (self.next_start > self.end or self.stopped):
                        return
                    self.cond.wait()
                # the next chunk, then those after it already fetched, up to batch_logs logs
                while index in self.done and failure is None:
                    result = self.done[index]
                    if isinstance(result, Chunk):
                        if batch and logs + result.logs > batch_logs:
                            break
                        batch.append(result)
                        logs += result.logs
                    elif batch:
                        break  # the chunks before the failure first
                    else:
                        failure = result
                    del self.done[index]
                    index += 1
                    self.consumed += 1
                self.cond.notify_all()
            if failure is not None:
                raise failure
            yield batch

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def _with_time(row: EventRow, headers: dict[int, Header]) -> EventRow:
    return (*row[: Col.TIME], headers[row[Col.BLOCK]].timestamp, *row[Col.TIME + 1 :])


def head(rpc: Rpc, retry: RetryPolicy) -> int:
    return hex_int(call_with_retry(rpc.request, "eth_blockNumber", [], retry=retry))


def chain_id(rpc: Rpc, retry: RetryPolicy) -> int:
    return hex_int(call_with_retry(rpc.request, "eth_chainId", [], retry=retry))
