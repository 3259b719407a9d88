"""RPC faults through a real HTTP proxy on loopback: capped results and ranges, timeouts, dropped
and refused connections. The index must come out exactly as a direct, fault-free one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from supplytrace.chain.logs import fetch_logs
from supplytrace.chain.rpc import RetriesExhaustedError, RetryPolicy, Rpc
from supplytrace.indexer.fetch import FetchConfig
from tests.faults import Faults, FaultyProxy
from tests.indexer.conftest import dump, full_index

FAST_RETRY = RetryPolicy(attempts=30, base=0.05, cap=0.5)


@pytest.fixture
def proxy(rpc_url: str) -> Iterator[FaultyProxy]:
    server = FaultyProxy(rpc_url, Faults())
    yield server
    server.stop()


@pytest.fixture
def busy_chain(workload):
    work = workload(seed=11)
    for _ in range(6):
        work.register(6)
    for _ in range(12):
        work.step()
    return work


def test_catch_up__capped_results_and_ranges__node_refusals_halve_the_range_and_nothing_is_lost(
    busy_chain, proxy, make_indexer, make_db
) -> None:
    proxy.faults.max_results = 8
    proxy.faults.max_blocks = 8
    indexer = make_indexer(
        make_db(), url=proxy.url, fetch=FetchConfig(initial_span=64, target_logs=200, retry=FAST_RETRY)
    )
    report = indexer.catch_up()
    assert report.fetch.halvings > 0
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))


def test_catch_up__timeouts_drops_and_503__retried_with_backoff_and_nothing_is_lost(
    busy_chain, proxy, make_indexer, make_db
) -> None:
    proxy.faults.timeout_every = 2
    proxy.faults.hang = 0.6
    proxy.faults.drop_every = 5
    proxy.faults.unavailable_every = 7
    indexer = make_indexer(make_db(), url=proxy.url, fetch=FetchConfig(initial_span=2, retry=FAST_RETRY))
    indexer.rpc = Rpc(proxy.url, timeout=0.3)
    indexer.fetcher.rpc = indexer.rpc
    report = indexer.catch_up()
    counts = proxy.faults.counts
    assert counts["timeout"] and counts["drop"] and counts["503"], counts
    assert report.fetch.retries > 0
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))


def test_catch_up__connection_refused_for_a_while__waits_and_resumes_without_a_gap(
    busy_chain, proxy, make_indexer, make_db
) -> None:
    # Two blocks a request, none fetched ahead of the two in flight: the refusal meets requests.
    fetch = FetchConfig(initial_span=2, max_span=2, ahead=0, retry=FAST_RETRY)
    indexer = make_indexer(make_db(), url=proxy.url, fetch=fetch)
    calls = 0

    def refuse_once(_progress) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            proxy.refuse_for(1.0)

    indexer.on_progress = refuse_once
    report = indexer.catch_up()
    assert proxy.faults.counts["refused"] == 1 and report.fetch.retries > 0
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))


def test_fetch_logs__node_down_for_good__raises_after_the_retries_and_returns_nothing(rpc_url: str) -> None:
    proxy = FaultyProxy(rpc_url, Faults())
    url = proxy.url
    proxy.stop()
    rpc = Rpc(url, timeout=1)
    with pytest.raises(RetriesExhaustedError, match="failed 3 times in a row"):
        fetch_logs(rpc.request, "0x" + "00" * 20, [], 1, 1, retry=RetryPolicy(attempts=3, base=0.01))


def test_fetch_logs__one_block_over_the_result_cap__says_which_block(
    proxy, busy_chain, registry, chain
) -> None:
    proxy.faults.max_results = 0
    head = chain.blocks.head.number
    rpc = Rpc(proxy.url)
    with pytest.raises(RetriesExhaustedError, match=r"refuses to return the logs of block \d+ alone"):
        fetch_logs(rpc.request, str(registry.address), [], head, head, retry=FAST_RETRY)


def test_follow__node_restarts__keeps_polling_and_catches_up(busy_chain, proxy, make_indexer, db_url) -> None:
    indexer = make_indexer(db_url, url=proxy.url, fetch=FetchConfig(retry=RetryPolicy(attempts=2, base=0.05)))
    indexer.config = indexer.config.__class__(confirmations=0, poll_interval=0.05, fetch=indexer.config.fetch)
    errors: list[Exception] = []
    indexer.on_error = errors.append
    stop = threading.Event()
    proxy.refuse_for(1.0)
    worker = threading.Thread(target=indexer.follow, args=(stop,))
    worker.start()
    try:
        head = busy_chain.registry.provider.get_block("latest").number
        for _ in range(200):
            cp = indexer.store.checkpoint()
            if cp is not None and cp.block_number >= head:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert errors, "the outage was not reported"
    cp = indexer.store.checkpoint()
    assert cp is not None and cp.block_number >= head


def test_catch_up__node_adds_a_foreign_log_and_one_outside_the_range__both_refused_and_counted(
    busy_chain, proxy, make_indexer, make_db
) -> None:
    def lie(params: dict, logs: list[dict]) -> list[dict]:
        """A copy of a real log as another contract's, and one in the block after the range."""
        if not logs:
            return []
        real = logs[-1]
        later = hex(int(params["toBlock"], 16) + 1)
        return [
            {**real, "address": "0x" + "ab" * 20, "logIndex": hex(900)},
            {**real, "blockNumber": later, "logIndex": hex(901)},
        ]

    proxy.faults.inject = lie
    indexer = make_indexer(make_db(), url=proxy.url, fetch=FetchConfig(initial_span=4, retry=FAST_RETRY))
    report = indexer.catch_up()
    assert proxy.faults.counts["injected"] >= 2
    assert report.fetch.refused_logs == proxy.faults.counts["injected"]
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))  # holds neither
