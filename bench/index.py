"""Event indexer: ~100,000 registry events on a fresh anvil, indexed end to end, against what a
user would do instead. Every figure comes from one run on the same blocks.

- ``index.raw_getlogs_events_per_s``: the ceiling: the same block ranges the indexer asked for,
  fetched with the same client (and garbage-collector setting) and JSON-parsed, nothing decoded
  or stored;
- ``index.supplytrace_events_per_s`` / ``index.postgres_events_per_s``: ``Indexer.catch_up`` from
  an empty SQLite file / PostgreSQL database (a local server with its default durability) to
  the head: fetch, decode, derive, store, checkpoint (SQLite: the best of ``RUNS`` catch-ups,
  each into a new file, as the raw ceiling is the best of ``RUNS`` reads);
- ``index.ape_query_events_per_s``: ape's ``Contract.Event.range`` over every registry event;
- ``index.web3_get_logs_events_per_s``: web3.py's decoded ``contract.events.X.get_logs``;
- ``index.history_p99_ms``: ``IndexReader.item_history`` (record, custody, events) of 1,000
  random items in the SQLite index.

The chain is made on a plain anvil of its own with raw ``eth_sendTransaction`` from anvil's
unlocked accounts (no receipt processing): lots, ``registerItems`` of 500 serials per
transaction, then pallets offered and accepted 500 items at a time. The PostgreSQL server is a
throwaway one (``tests/indexer/postgres.py``) with PostgreSQL's default durability.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from supplytrace.chain.rpc import Rpc, RpcError
from supplytrace.core.events import ALL_TOPICS, EVENT_TYPES
from supplytrace.core.ids import encode_code, item_id
from supplytrace.indexer.database import make_engine
from supplytrace.indexer.fetch import FetchConfig
from supplytrace.indexer.reader import IndexReader
from supplytrace.indexer.run import Indexer, IndexerConfig, bulk_gc
from supplytrace.indexer.store import IndexStore

GTIN = "09506000134352"
LOTS = 20
REGISTER_TXS = 160  # x 500 items
PALLETS = 20  # x 500 items offered, then accepted
BATCH = 500
HISTORY_SAMPLES = 1_000
RUNS = 3  # the SQLite catch-up and the raw reads are each timed this often; the best counts


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


class _Sender:
    def __init__(self, rpc: Rpc, registry: str) -> None:
        self.rpc = rpc
        self.registry = registry

    def send(self, sender: str, signature: str, types: list[str], values: list[Any]) -> None:
        data = "0x" + (_selector(signature) + encode(types, values)).hex()
        tx = {"from": sender, "to": self.registry, "data": data, "gas": hex(16_000_000)}
        tx_hash = self.rpc.request("eth_sendTransaction", [tx])
        receipt = None
        for _ in range(2000):
            receipt = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                break
            time.sleep(0.005)
        if receipt is None or int(receipt["status"], 16) != 1:
            raise RuntimeError(f"{signature} failed: {receipt}")


def make_chain(accounts: list[Any]) -> tuple[Any, int, list[bytes]]:
    """Deploy a registry and emit ~100k events; returns (registry, deployment block, item ids)."""
    from ape import project

    admin, brand, distributor = accounts[:3]
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    provider = registry.provider
    deployed = int(provider.get_receipt(registry.txn_hash).block_number)
    rpc = Rpc(provider.uri)
    tx = _Sender(rpc, str(registry.address))
    role = keccak(text="REGISTRAR_ROLE")
    tx.send(admin.address, "grantRole(bytes32,address)", ["bytes32", "address"], [role, brand.address])
    tx.send(admin.address, "assignGtin(uint256,address)", ["uint256", "address"], [int(GTIN), brand.address])
    for lot in range(1, LOTS + 1):
        tx.send(
            brand.address,
            "registerLot(uint256,bytes32,bytes32)",
            ["uint256", "bytes32", "bytes32"],
            [int(GTIN), encode_code(f"LOT-{lot}", "lot code"), lot.to_bytes(32, "big")],
        )
    items: list[bytes] = []
    for n in range(REGISTER_TXS):
        serials = [f"S{n:04d}-{i:04d}" for i in range(BATCH)]
        tx.send(
            brand.address,
            "registerItems(uint32,bytes32[])",
            ["uint32", "bytes32[]"],
            [n % LOTS + 1, [encode_code(s) for s in serials]],
        )
        items.extend(item_id(GTIN, s) for s in serials)
    for n in range(PALLETS):
        pallet = items[n * BATCH : (n + 1) * BATCH]
        tx.send(
            brand.address,
            "offerBatch(bytes32[],address)",
            ["bytes32[]", "address"],
            [pallet, distributor.address],
        )
        tx.send(distributor.address, "acceptBatch(bytes32[])", ["bytes32[]"], [pallet])
    return registry, deployed, items


def _index(
    url: str, rpc_url: str, registry: str, deployed: int, chain_id: int
) -> tuple[float, int, list[tuple[int, int]]]:
    engine = make_engine(url)
    ranges: list[tuple[int, int]] = []
    indexer = Indexer(
        IndexStore(engine, chain_id),
        Rpc(rpc_url),
        registry,
        deployed,
        IndexerConfig(confirmations=0, fetch=FetchConfig()),
        on_progress=lambda p: ranges.append((ranges[-1][1] + 1 if ranges else deployed, p.block)),
    )
    started = time.perf_counter()
    report = indexer.catch_up()
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, report.events, ranges


def _raw(rpc_url: str, registry: str, ranges: list[tuple[int, int]]) -> tuple[float, int]:
    """The ceiling: the indexer's own client and JSON parser, its garbage-collector setting too."""
    rpc = Rpc(rpc_url)
    count = 0
    with bulk_gc():
        started = time.perf_counter()
        for start, end in ranges:
            params = {
                "address": registry,
                "topics": [ALL_TOPICS],
                "fromBlock": hex(start),
                "toBlock": hex(end),
            }
            count += len(rpc.request("eth_getLogs", [params]))
        return time.perf_counter() - started, count


def _ape(registry: Any, start: int, stop: int) -> tuple[float, int]:
    count = 0
    started = time.perf_counter()
    for name in (t.__name__ for t in EVENT_TYPES):
        event = getattr(registry, name)
        for _ in event.range(start, stop + 1):
            count += 1
    return time.perf_counter() - started, count


def _web3(registry: Any, start: int, stop: int) -> tuple[float, int]:
    w3 = registry.provider.web3
    contract = w3.eth.contract(
        address=str(registry.address),
        abi=[a.model_dump(mode="json", by_alias=True) for a in registry.contract_type.abi],
    )
    count = 0
    started = time.perf_counter()
    for name in (t.__name__ for t in EVENT_TYPES):
        count += len(getattr(contract.events, name).get_logs(from_block=start, to_block=stop))
    return time.perf_counter() - started, count


def _history_p99(url: str, chain_id: int, items: list[bytes]) -> float:
    reader = IndexReader(make_engine(url), chain_id)
    sample = random.Random(7).sample(items, HISTORY_SAMPLES)
    for item in sample[:50]:  # warm the connection pool and statement caches
        reader.item_history(item)
    latencies = []
    for item in sample:
        started = time.perf_counter()
        history = reader.item_history(item)
        latencies.append(time.perf_counter() - started)
        assert history is not None and history.events
    reader.engine.dispose()
    return statistics.quantiles(latencies, n=100)[98] * 1000


@contextlib.contextmanager
def _anvil() -> Iterator[str]:
    """A plain anvil of its own on a free port (ape-foundry's traces every step of every
    transaction, which would dominate both the setup and the reads)."""
    from supplytrace.chain.devnet import anvil_executable

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [anvil_executable(), "--port", str(port), "--chain-id", "1337", "--gas-limit", "30000000",
         "--block-base-fee-per-gas", "0", "--silent"],
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                Rpc(url, timeout=1).request("eth_blockNumber", [])
                break
            except (OSError, RpcError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"anvil did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # npm's anvil is a node wrapper: end its whole group
        process.wait(timeout=10)


def measure() -> dict[str, float | int]:
    from ape import accounts, networks

    from tests.indexer.postgres import temporary_server

    with (
        _anvil() as rpc_url,
        networks.parse_network_choice("ethereum:local:node", provider_settings={"uri": rpc_url}) as provider,
    ):
        registry, deployed, items = make_chain(list(accounts.test_accounts))
        chain_id = int(provider.make_request("eth_chainId", []), 16)
        head = int(provider.make_request("eth_blockNumber", []), 16)
        address = str(registry.address)
        with tempfile.TemporaryDirectory() as folder:
            runs = []
            for n in range(RUNS):  # each from an empty file; the best, as for the raw ceiling
                sqlite_url = f"sqlite:///{Path(folder) / f'index-{n}.db'}"
                runs.append(_index(sqlite_url, rpc_url, address, deployed, chain_id))
            sqlite_s, events, ranges = min(runs, key=lambda run: run[0])
            raw_s, raw_count = min(_raw(rpc_url, address, ranges) for _ in range(RUNS))
            assert raw_count == events, (raw_count, events)
            with temporary_server(durable=True) as pg_url:
                pg_s, pg_events, _ = _index(pg_url, rpc_url, address, deployed, chain_id)
                assert pg_events == events
            p99 = _history_p99(sqlite_url, chain_id, items)
        ape_s, ape_count = _ape(registry, deployed, head)
        web3_s, web3_count = _web3(registry, deployed, head)
    assert ape_count == web3_count == events, (ape_count, web3_count, events)
    return {
        "index.events": events,
        "index.supplytrace_events_per_s": round(events / sqlite_s),
        "index.postgres_events_per_s": round(events / pg_s),
        "index.raw_getlogs_events_per_s": round(events / raw_s),
        "index.ape_query_events_per_s": round(events / ape_s),
        "index.web3_get_logs_events_per_s": round(events / web3_s),
        "index.history_p99_ms": round(p99, 3),
        "index.supplytrace_vs_raw": round(raw_s / sqlite_s, 3),
        "index.supplytrace_vs_ape": round(ape_s / sqlite_s, 1),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
