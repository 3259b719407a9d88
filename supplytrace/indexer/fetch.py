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

import itertools
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from supplytrace.events import ALL_TOPICS, FetchStats, RetryPolicy, call_with_retry, fetch_logs
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.rows import Col, EventRow, Header, event_rows
from supplytrace.indexer.rpc import HttpRpc


@dataclass(frozen=True)
class FetchConfig:
    initial_span: int = 16  # blocks in the first request
    max_span: int = 200_000
    target_logs: int = 10_000  # logs per request the span aims at
    concurrency: int = 2  # ranges in flight
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
        raw = fetch_logs(
            self.rpc.request, self.registry, [ALL_TOPICS], start, end, retry=self.config.retry, stats=stats
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
        """Consecutive chunks covering ``[start, end]`` in order, ``concurrency`` ranges ahead.
        Closing the iterator cancels what is still in flight."""
        if start > end:
            return
        pool = ThreadPoolExecutor(max_workers=max(1, self.config.concurrency), thread_name_prefix="getlogs")
        inflight: deque[Future[Chunk]] = deque()
        next_start = start
        try:
            while True:
                while len(inflight) < max(1, self.config.concurrency) and next_start <= end:
                    stop = min(end, next_start + self.span - 1)
                    inflight.append(pool.submit(self.fetch, next_start, stop, unsafe_from))
                    next_start = stop + 1
                if not inflight:
                    return
                chunk = inflight.popleft().result()
                self._adapt(chunk)
                yield chunk
        finally:
            for future in inflight:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)


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
