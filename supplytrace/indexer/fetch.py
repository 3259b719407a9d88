"""Fetching the registry's logs in chunks: adaptive block ranges, requests overlapped with
decoding and storage, and the block headers the reorg checks need.

A chunk is one block range fetched completely (:func:`supplytrace.events.fetch_logs` halves what
the node refuses and retries what fails transiently). The span of the next range adapts: it
scales with ``target_logs`` / logs returned (at most x4 or /4 at a time), and drops to the widest
span the node accepted after a refusal or a timeout, which then also caps later growth for a
while. Up to ``concurrency`` ranges are in flight while the caller stores earlier chunks; chunks
are always delivered in block order.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from supplytrace.events import ALL_TOPICS, FetchStats, RetryPolicy, call_with_retry, fetch_logs
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.rows import Col, EventRow, Header, RawLog, event_rows
from supplytrace.indexer.rpc import HttpRpc


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


class ChunkFetcher:
    def __init__(self, rpc: HttpRpc, registry: str, chain_id: int, config: FetchConfig | None = None) -> None:
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
                blocks = self.rpc.batch(calls)
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

    def _adapt(self, chunk: Chunk) -> None:
        stats = chunk.stats
        if stats.halvings:
            self.span = max(1, stats.widest_accepted)
            self.ceiling = self.span
            self._since_refusal = 0
            return
        self._since_refusal += 1
        if self._since_refusal >= self.config.probe_after:
            self.ceiling = self.config.max_span
        width = chunk.end - chunk.start + 1
        if width < self.span and chunk.logs < self.config.target_logs:
            return  # a short last range says little about density
        factor = self.config.target_logs / chunk.logs if chunk.logs else 4.0
        span = int(width * min(4.0, max(0.25, factor)))
        self.span = max(1, min(span, self.ceiling, self.config.max_span))

    def chunks(self, start: int, end: int, unsafe_from: int) -> Iterator[Chunk]:
        """Consecutive chunks covering ``[start, end]`` in order. ``concurrency`` threads fetch
        ranges, each sized when it is taken from the latest chunk fetched (not the latest one
        consumed), and stay at most ``ahead`` chunks ahead of the consumer. Closing the iterator
        stops them taking new ranges; a fetch in flight ends on its own."""
        if start > end:
            return
        pipeline = _Pipeline(self, start, end, unsafe_from)
        try:
            yield from pipeline.results()
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
                    self.fetcher._adapt(result)
                else:
                    self.stopped = True  # the consumer stops at this range: take no more
                self.done[index] = result
                self.cond.notify_all()

    def results(self) -> Iterator[Chunk]:
        index = 0
        while True:
            with self.cond:
                while index not in self.done:
                    if index >= self.taken and (self.next_start > self.end or self.stopped):
                        return
                    self.cond.wait()
                result = self.done.pop(index)
                self.consumed += 1
                self.cond.notify_all()
            if isinstance(result, BaseException):
                raise result
            yield result
            index += 1

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def _with_time(row: EventRow, headers: dict[int, Header]) -> EventRow:
    return (*row[: Col.TIME], headers[row[Col.BLOCK]].timestamp, *row[Col.TIME + 1 :])


def head(rpc: HttpRpc, retry: RetryPolicy) -> int:
    result = call_with_retry(rpc.request, "eth_blockNumber", [], retry=retry)
    return int(result, 16)


def chain_id(rpc: HttpRpc, retry: RetryPolicy) -> int:
    try:
        return int(call_with_retry(rpc.request, "eth_chainId", [], retry=retry), 16)
    except Exception as exc:
        raise IndexerError(
            f"cannot reach the node at {rpc.url} ({exc}); check the URL and that it runs."
        ) from exc
