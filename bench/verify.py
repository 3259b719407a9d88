"""The verification page under load: item page latency over HTTP on loopback, 100,000 indexed items.

1. A fresh registry on anvil (ape-foundry) gets one brand, one lot and ``ITEMS`` items
   (``registerItems``, 500 per transaction); the first 10,000 go to a distributor (offer + accept
   in batches), 2,000 of those on to a retailer (signed batch handoffs), 1,000 get an
   observation and 500 are sold, so timelines have 2 to 7 entries. The bulk is sent as raw
   JSON-RPC from anvil's unlocked dev accounts (ape's per-transaction estimate and wait would
   take minutes); the page under test never knows the difference.
2. The history side: a history source holding every event. ``HISTORY`` picks it:

   - ``"sqlite"`` (today's default): a SQLite fixture built here from the chain's logs, one
     table of raw logs keyed by item id and lot id (:class:`SqliteHistory`). It stands in for the
     event indexer, which is not part of the package yet; swap in the indexer by adding a
     builder to ``SOURCES`` (it gets the RPC URL, registry and deployment block).
   - ``"chain"``: the page's chain-backed source (``eth_getLogs`` per request), for comparison.

3. The page runs in its own process (uvicorn, one worker, exactly the app `supplytrace serve`
   builds) and a client on the same machine requests random item pages one after the other
   over a keep-alive connection. Every request includes the page's live ``getItem`` read.

Returns ``verify.items``, ``verify.p50_ms``, ``verify.p99_ms`` (and the mean, the request count,
and which history source was measured).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import httpx

from supplytrace.events import ITEM_EVENTS, LOT_EVENTS, decode_log
from supplytrace.ids import ItemKey, decode_code, encode_code
from supplytrace.web.sources import HistoryEvent, HistorySource, LotHistory, LotItem, Participant

GTIN = "09506000134352"
LOT = "LOT-BENCH-WEB"
ITEMS = 100_000
CHUNK = 500
REQUESTS = 2_000
WARMUP = 200
HISTORY = "sqlite"
METADATA = {"product": "Acacia honey, 500 g jar", "harvestDate": "2026-07-14", "origin": {"country": "RO"}}

#: A base fee of 0 stays 0, so the bulk transactions sent without a price are never stranded when
#: full blocks would otherwise raise it.
ANVIL_FLAGS = ["--block-base-fee-per-gas", "0", "--silent"]

_SCHEMA = """
CREATE TABLE events (item_id BLOB, lot_id INTEGER, block INTEGER, log_index INTEGER, ts INTEGER, raw TEXT);
CREATE INDEX events_item ON events (item_id, block, log_index);
CREATE INDEX events_lot ON events (lot_id, block, log_index) WHERE item_id IS NULL;
CREATE TABLE registered (lot_id INTEGER, seq INTEGER, item_id BLOB, serial TEXT, PRIMARY KEY (lot_id, seq));
CREATE TABLE participants (address TEXT PRIMARY KEY, verified_name TEXT, description TEXT);
CREATE TABLE mark (block INTEGER);
"""


# ----------------------------------------------------------------------------------------------
# The SQLite history fixture
# ----------------------------------------------------------------------------------------------


def build_sqlite(rpc_url: str, registry: str, from_block: int, path: Path) -> int:
    """Fill ``path`` with every registry event since ``from_block``; returns the events stored."""
    from supplytrace.web.rpc import SyncRpc

    rpc = SyncRpc(rpc_url, timeout=120)
    head = int(rpc.make_request("eth_blockNumber", []), 16)
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA)
    stored = 0
    seq: dict[int, int] = {}
    for start in range(from_block, head + 1, 50):
        end = min(start + 49, head)
        params = {"address": registry, "fromBlock": hex(start), "toBlock": hex(end)}
        logs = rpc.make_request("eth_getLogs", [params])
        numbers = sorted({int(log["blockNumber"], 16) for log in logs})
        blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        times = {n: int(b["timestamp"], 16) for n, b in zip(numbers, blocks, strict=True)}
        rows, registered, names = [], [], []
        for log in logs:
            event = decode_log(log)
            if event is None:
                continue
            a = event.args
            item = bytes(a["itemId"]) if event.name in ITEM_EVENTS else None
            lot = a.get("lotId") if event.name in (*LOT_EVENTS, "ItemRegistered") else None
            ts = times[event.block_number]
            rows.append((item, lot, event.block_number, event.log_index, ts, json.dumps(log)))
            if event.name == "ItemRegistered":
                seq[a["lotId"]] = seq.get(a["lotId"], 0) + 1
                registered.append((a["lotId"], seq[a["lotId"]], item, decode_code(a["serial"])))
            elif event.name == "BrandNamed":
                names.append((a["brand"], a["name"], None))
            elif event.name == "ParticipantDescribed":
                names.append((a["participant"], None, a["description"]))
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO registered VALUES (?, ?, ?, ?)", registered)
        for address, name, description in names:
            db.execute(
                "INSERT INTO participants VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET "
                "verified_name = coalesce(excluded.verified_name, verified_name), "
                "description = coalesce(excluded.description, description)",
                (address, name, description),
            )
        stored += len(rows)
    db.execute("INSERT INTO mark VALUES (?)", (head,))
    db.commit()
    db.close()
    rpc.close()
    return stored


class SqliteHistory:
    """A :class:`~supplytrace.web.sources.HistorySource` over :func:`build_sqlite`'s file (read-only)."""

    def __init__(self, path: Path) -> None:
        self.uri = f"file:{path}?mode=ro"
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.uri, uri=True, check_same_thread=False)
        return db

    @staticmethod
    def _events(rows: list[Any]) -> list[HistoryEvent]:
        out = []
        for ts, raw in rows:
            event = decode_log(json.loads(raw))
            if event is not None:
                out.append(HistoryEvent.from_event(event, ts))
        return out

    def item_history(self, item_id: bytes) -> list[HistoryEvent]:
        rows = self._db().execute(
            "SELECT ts, raw, block, log_index FROM events WHERE item_id = ?1 "
            "UNION ALL SELECT ts, raw, block, log_index FROM events WHERE item_id IS NULL AND lot_id = "
            "(SELECT lot_id FROM events WHERE item_id = ?1 AND lot_id IS NOT NULL LIMIT 1) "
            "ORDER BY block, log_index",
            (item_id,),
        )
        return self._events([(ts, raw) for ts, raw, _b, _i in rows])

    def lot(self, lot_id: int, item_limit: int = 50) -> LotHistory | None:
        db = self._db()
        rows = db.execute(
            "SELECT ts, raw FROM events WHERE item_id IS NULL AND lot_id = ? ORDER BY block, log_index",
            (lot_id,),
        ).fetchall()
        if not rows:
            return None
        (count,) = db.execute("SELECT count(*) FROM registered WHERE lot_id = ?", (lot_id,)).fetchone()
        items = db.execute(
            "SELECT item_id, serial FROM registered WHERE lot_id = ? ORDER BY seq LIMIT ?",
            (lot_id, item_limit),
        ).fetchall()
        return LotHistory(lot_id, self._events(rows), count, [LotItem(bytes(i), s) for i, s in items])

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        wanted = list(addresses)
        marks = ",".join("?" * len(wanted))
        rows = self._db().execute(
            f"SELECT address, verified_name, description FROM participants WHERE address IN ({marks})", wanted
        )
        return {a: Participant(a, n, d) for a, n, d in rows}

    def indexed_block(self) -> int | None:
        (block,) = self._db().execute("SELECT block FROM mark").fetchone()
        return int(block)


def _chain_source(config: dict[str, Any]) -> HistorySource:
    from supplytrace.web.rpc import SyncRpc
    from supplytrace.web.sources import ChainHistory

    return ChainHistory(SyncRpc(config["rpc_url"]), config["registry"], config["from_block"])


#: History sources by name: each builds the page's source in the serving process from the config.
SOURCES: dict[str, Callable[[dict[str, Any]], HistorySource]] = {
    "sqlite": lambda config: SqliteHistory(Path(config["db"])),
    "chain": _chain_source,
}


# ----------------------------------------------------------------------------------------------
# The serving process: `python -m bench.verify CONFIG.json`
# ----------------------------------------------------------------------------------------------


def serve(config: dict[str, Any]) -> None:
    from supplytrace.explorers import ExplorerLinks
    from supplytrace.web.app import PageConfig, create_app
    from supplytrace.web.server import run

    base = f"http://127.0.0.1:{config['port']}"
    page = PageConfig(
        rpc_url=config["rpc_url"],
        registry=config["registry"],
        chain_id=config["chain_id"],
        ecosystem="ethereum",
        network="local",
        deployment_block=config["from_block"],
        resolver=base,
        metadata_folder=Path(config["home"]) / "metadata",
        links=ExplorerLinks.for_network("ethereum", "local", resolver=base, overrides={}),
    )
    run(create_app(page, SOURCES[config["history"]](config)), "127.0.0.1", config["port"])


# ----------------------------------------------------------------------------------------------
# The chain and the measurement
# ----------------------------------------------------------------------------------------------


def _send_all(rpc: Any, sender: str, to: str, calls: list[bytes], gas: int) -> None:
    """Send transactions from an anvil dev account (unlocked) without ape's estimate-and-wait round
    trips, and mine them into full blocks (automine off): with 100,000 items in the registry's
    storage every block costs anvil a state-root computation, so fewer blocks is much faster."""
    rpc.make_request("evm_setAutomine", [False])
    try:
        hashes = []
        for data in calls:
            tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(gas)}
            hashes.append(rpc.make_request("eth_sendTransaction", [tx]))
        for _ in range(len(calls) + 1):
            if int(rpc.make_request("txpool_status", [])["pending"], 16) == 0:
                break
            rpc.make_request("evm_mine", [])
    finally:
        rpc.make_request("evm_setAutomine", [True])
    for start in range(0, len(hashes), 200):
        receipts = rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes[start : start + 200]])
        if any(r is None or int(r["status"], 16) != 1 for r in receipts):
            raise RuntimeError("a bench transaction was not mined or reverted")


def _populate(accounts: Any, home: Path) -> tuple[Any, int, list[ItemKey]]:
    from ape import chain, project
    from eth_abi import encode

    from supplytrace.metadata import metadata_hash, store_metadata
    from supplytrace.registry import handoff, handoff_request, sign_acceptance
    from supplytrace.web.rpc import SyncRpc, selector

    admin, brand, distributor, retailer = accounts[:4]
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    from_block = int(chain.blocks.head.number)
    registry.grantRole(registry.REGISTRAR_ROLE(), brand, sender=admin)
    registry.assignGtin(int(GTIN), brand, sender=admin)
    registry.nameBrand(brand, "Bench Apiaries", sender=admin)
    registry.describeSelf("Bench Foods (distributor)", sender=distributor)
    registry.describeSelf("Bench Grocery", sender=retailer)
    store_metadata(home, METADATA)
    registry.registerLot(int(GTIN), encode_code(LOT, "lot"), metadata_hash(METADATA), sender=brand)
    lot_id = int(registry.lotCount())
    keys = [ItemKey.create(GTIN, f"SN{n:08d}", LOT) for n in range(ITEMS)]
    ids = [k.id for k in keys]
    rpc = SyncRpc(str(chain.provider.http_uri), timeout=300)
    to = str(registry.address)

    def call(signature: str, types: list[str], *args: Any) -> bytes:
        return selector(signature) + encode(types, list(args))

    register = [
        call(
            "registerItems(uint32,bytes32[])",
            ["uint32", "bytes32[]"],
            lot_id,
            [encode_code(k.serial) for k in part],
        )
        for part in (keys[start : start + CHUNK] for start in range(0, ITEMS, CHUNK))
    ]
    _send_all(rpc, brand.address, to, register, 15_000_000)
    pallets = [ids[start : start + CHUNK] for start in range(0, 10_000, CHUNK)]
    offers = [
        call("offerBatch(bytes32[],address)", ["bytes32[]", "address"], p, distributor.address)
        for p in pallets
    ]
    _send_all(rpc, brand.address, to, offers, 15_000_000)
    accepts = [call("acceptBatch(bytes32[])", ["bytes32[]"], p) for p in pallets]
    _send_all(rpc, distributor.address, to, accepts, 15_000_000)
    deadline = chain.pending_timestamp + 86_400
    for part in pallets[:4]:
        request = handoff_request(
            registry, registry.provider, part, distributor.address, retailer.address, deadline
        )
        handoff(registry, distributor, request, sign_acceptance(retailer, request))
    step = encode_code("inspecting", "step")
    records = [
        call("record(bytes32,bytes32,bytes32)", ["bytes32", "bytes32", "bytes32"], i, step, b"\x01" * 32)
        for i in ids[:1_000]
    ]
    _send_all(rpc, retailer.address, to, records, 200_000)
    sales = [call("sell(bytes32)", ["bytes32"], i) for i in ids[:500]]
    _send_all(rpc, retailer.address, to, sales, 200_000)
    rpc.close()
    return registry, from_block, keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait_rpc(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with code {process.returncode}")
        try:
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
            if httpx.post(url, json=body, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"anvil did not answer on {url}")


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the page exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the page did not answer on {url}")


def _load(url: str, keys: list[ItemKey], requests: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    timings = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(requests):
            key = keys[rng.randrange(len(keys))]
            path = key.digital_link(url)[len(url) :]
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or "data-status=" not in response.text:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return timings


def measure(*, history: str = HISTORY, requests: int = REQUESTS) -> dict[str, object]:
    """Run the whole measurement on a devnet of its own (see the module documentation)."""
    from ape import networks

    from supplytrace.chain import load_account
    from supplytrace.devnet import anvil_executable

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        # A plain anvil of its own: ape-foundry's traces every step of every transaction, and the
        # devnet's dumps its whole state every 5 s; either takes gigabytes at 100,000 items.
        port = free_port()
        rpc_url = f"http://127.0.0.1:{port}"
        anvil = subprocess.Popen(
            [
                anvil_executable(),
                "--port",
                str(port),
                "--chain-id",
                "1337",
                "--gas-limit",
                "30000000",
                *ANVIL_FLAGS,
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_rpc(rpc_url, anvil)
            choice = networks.parse_network_choice("ethereum:local:node", provider_settings={"uri": rpc_url})
            with choice as provider:
                accounts = [load_account(f"TEST::{n}", provider) for n in range(4)]
                started = time.perf_counter()
                registry, from_block, keys = _populate(accounts, home)
                populate_s = time.perf_counter() - started
            config: dict[str, Any] = {
                "rpc_url": rpc_url,
                "registry": str(registry.address),
                "chain_id": 1337,
                "from_block": from_block,
                "home": str(home),
                "history": history,
                "port": free_port(),
                "db": str(home / "history.sqlite"),
            }
            events, index_s = 0, 0.0
            if history == "sqlite":
                started = time.perf_counter()
                events = build_sqlite(rpc_url, str(registry.address), from_block, Path(config["db"]))
                index_s = time.perf_counter() - started
            config_path = home / "page.json"
            config_path.write_text(json.dumps(config))
            url = f"http://127.0.0.1:{config['port']}"
            process = subprocess.Popen([sys.executable, "-m", "bench.verify", str(config_path)])
            try:
                _wait(url, process)
                _load(url, keys, WARMUP, seed=1)
                timings = _load(url, keys, requests, seed=2)
            finally:
                process.terminate()
                process.wait(timeout=10)
        finally:
            os.killpg(anvil.pid, signal.SIGTERM)  # npm's anvil is a node wrapper: end its whole group
            anvil.wait(timeout=10)
    results: dict[str, object] = {
        "verify.items": ITEMS,
        "verify.history": history,
        "verify.requests": requests,
        "verify.p50_ms": round(statistics.median(timings), 2),
        "verify.p99_ms": round(_percentile(timings, 0.99), 2),
        "verify.mean_ms": round(statistics.fmean(timings), 2),
        "verify.populate_seconds": round(populate_s, 1),
    }
    if history == "sqlite":
        results["verify.fixture_events"] = events
        results["verify.fixture_build_seconds"] = round(index_s, 1)
    return results


if __name__ == "__main__":
    serve(json.loads(Path(sys.argv[1]).read_text()))
