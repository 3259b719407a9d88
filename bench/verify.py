"""The verification page under load: item page latency over HTTP on loopback, 100,000 indexed items.

1. A fresh registry on anvil (ape-foundry) gets one brand, one lot and ``ITEMS`` items
   (``registerItems``, 500 per transaction); the first 10,000 go to a distributor (offer + accept
   in batches), 2,000 of those on to a retailer (signed batch handoffs), 1,000 get an
   observation and 500 are sold, so timelines have 2 to 7 entries. The bulk is sent as raw
   JSON-RPC from anvil's unlocked dev accounts (ape's per-transaction estimate and wait would
   take minutes); the page under test never knows the difference.
2. The history side. ``HISTORY`` picks it:

   - ``"index"`` (the default): the event index, built here by the real indexer
     (``supplytrace.indexer``: ``Indexer.catch_up`` from the deployment block into SQLite), read
     by the page through ``supplytrace.service.history.open_history`` exactly as
     `supplytrace serve --db` opens it (every read checks the index's checkpoint against the
     node and adds the chain after it, none here: the index is at the head).
   - ``"chain"``: no index, so ``open_history`` falls back to the chain's logs
     (``eth_getLogs`` per request), for comparison.

3. The page runs as `supplytrace serve --workers WORKERS` runs it (uvicorn processes on one
   port, each with a socket of its own and the app of ``supplytrace.service.page.build_page``
   from a deployment record of the registry) and a client on the same machine requests random
   item pages one after the other over a keep-alive connection. Every request includes the
   page's live ``getItem`` read. Before measuring, the page's JSON must name the history source asked for.
4. Under load: ``wrk`` (Debian's) with ``CLIENTS`` keep-alive connections for ``LOAD_SECONDS``,
   each request a random item's Digital Link, on this machine beside anvil and the page.

Returns ``verify.items``, ``verify.p50_ms``, ``verify.p99_ms`` (one client; and the mean, the
request count, which history source was measured, and for the index its events and build time),
and ``verify.rps_32``, ``verify.p50_ms_32``, ``verify.p99_ms_32`` (32 clients, with ``wrk``; left
out, with a warning, where ``wrk`` is not installed).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from supplytrace.chain.codec import function
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc
from supplytrace.core.ids import ItemKey, encode_code

GTIN = "09506000134352"
LOT = "LOT-BENCH-WEB"
ITEMS = int(os.environ.get("SUPPLYTRACE_BENCH_ITEMS", "1000000"))
CHUNK = 500
REQUESTS = 2_000
WARMUP = 200
HISTORY = "index"
#: Page processes (`supplytrace serve --workers`): one per core of this 2-core machine.
WORKERS = 2
#: Concurrent clients and seconds of the load stage.
CLIENTS = 32
LOAD_SECONDS = 20
#: wrk's script: each request a random one of the paths in the file named by WRK_PATHS.
WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "JSON {\"requests\": %d, \"seconds\": %f, \"errors\": %d, \"p50_us\": %d, \"p99_us\": %d}\n",
    summary.requests, summary.duration / 1e6, failed, latency:percentile(50), latency:percentile(99)))
end
"""
CHAIN_ID = 1337
METADATA = {"product": "Acacia honey, 500 g", "harvestDate": "2026-07-14", "origin": {"country": "RO"}}

#: A base fee of 0 stays 0, so the bulk transactions sent without a price are never stranded when
#: full blocks would otherwise raise it. Without ``--prune-history`` anvil writes every block's
#: state to ~/.foundry/anvil/tmp: 66 GB by the end of registering 1,000,000 items, which filled
#: this machine's disk (the page reads only the head's state).
ANVIL_FLAGS = ["--block-base-fee-per-gas", "0", "--silent", "--prune-history", "64"]


# ----------------------------------------------------------------------------------------------
# The event index, and the serving process: `python -m bench.verify CONFIG.json`
# ----------------------------------------------------------------------------------------------


def build_index(rpc_url: str, registry: str, from_block: int, url: str) -> tuple[int, float]:
    """Index the registry's events from ``from_block`` to the head into ``url`` with the real
    indexer; returns (events stored, seconds)."""
    from supplytrace.chain.rpc import Rpc
    from supplytrace.indexer.database import make_engine
    from supplytrace.indexer.run import Indexer, IndexerConfig
    from supplytrace.indexer.store import IndexStore

    engine = make_engine(url)
    try:
        store = IndexStore(engine, CHAIN_ID)
        indexer = Indexer(store, Rpc(rpc_url), registry, from_block, IndexerConfig(confirmations=0))
        report = indexer.catch_up()
    finally:
        engine.dispose()
    return report.events, report.seconds


def _settings(config: dict[str, Any]) -> Any:
    from supplytrace.core.config import Settings

    home = Path(config["home"])
    return Settings(
        home=home,
        deployments=home / "deployments",
        devnet_host="127.0.0.1",
        devnet_port=0,
        devnet_chain_id=CHAIN_ID,
        resolver=f"http://127.0.0.1:{config['port']}",
        project=Path(__file__).resolve().parents[1],
    )


def record_deployment(config: dict[str, Any], rpc_url: str, tx_hash: str, deployer: str) -> None:
    """The registry's deployment record (what `supplytrace deploy` writes), for the page to check."""
    from supplytrace.core.deployments import Deployment, save
    from supplytrace.core.hashing import keccak

    code = Rpc(rpc_url).request("eth_getCode", [config["registry"], "latest"])
    record = Deployment(
        ecosystem="ethereum",
        network="local",
        chain_id=CHAIN_ID,
        address=config["registry"],
        tx_hash=tx_hash,
        block=config["from_block"],
        deployer=deployer,
        admin=deployer,
        compiler="bench",
        runtime_bytecode_keccak="0x" + keccak(bytes.fromhex(code[2:])).hex(),
        deployed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    save(_settings(config).deployments, record, force=True)


def serve(config: dict[str, Any]) -> None:
    """The page as `supplytrace serve --db` runs it, in this process."""
    from supplytrace.service.page import build_page
    from supplytrace.web.server import run

    settings = _settings(config)
    app, note = build_page(settings, "ethereum:local", config["rpc_url"], db=config["db"])
    print(note, flush=True)
    run(
        app,
        "127.0.0.1",
        config["port"],
        workers=config.get("workers", 1),
        make_app=lambda: build_page(settings, "ethereum:local", config["rpc_url"], db=config["db"])[0],
    )


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

    from supplytrace.core.handoff import make_request
    from supplytrace.core.metadata import metadata_hash, store_metadata

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
    rpc = Rpc(str(chain.provider.http_uri), timeout=300)
    to = str(registry.address)

    def call(name: str, *args: Any) -> bytes:
        return function(name).calldata(*args)

    register = [
        call("registerItems", lot_id, [encode_code(k.serial) for k in part])
        for part in (keys[start : start + CHUNK] for start in range(0, ITEMS, CHUNK))
    ]
    _send_all(rpc, brand.address, to, register, 15_000_000)
    pallets = [ids[start : start + CHUNK] for start in range(0, 10_000, CHUNK)]
    offers = [call("offerBatch", p, distributor.address) for p in pallets]
    _send_all(rpc, brand.address, to, offers, 15_000_000)
    accepts = [call("acceptBatch", p) for p in pallets]
    _send_all(rpc, distributor.address, to, accepts, 15_000_000)
    deadline = chain.pending_timestamp + 86_400
    reads = RegistryReads(rpc, to)
    for part in pallets[:4]:  # signed one-transaction handoffs, as the CLI sends them
        request = make_request(
            chain_id=CHAIN_ID,
            registry=to,
            items=part,
            nonces=[reads.item(i).custody_nonce for i in part],
            sender=distributor.address,
            receiver=retailer.address,
            deadline=deadline,
        )
        signature = retailer.sign_message(request.signable()).encode_rsv()
        registry.handoffBatch(part, retailer.address, deadline, signature, sender=distributor)
    step = encode_code("inspecting", "step")
    records = [call("record", i, step, b"\x01" * 32) for i in ids[:1_000]]
    _send_all(rpc, retailer.address, to, records, 200_000)
    sales = [call("sell", i) for i in ids[:500]]
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


def _check_source(url: str, key: ItemKey, history: str) -> None:
    """The page reads history where the measurement says it does."""
    found = httpx.get(f"{url}/api/items/{key.id_hex}", timeout=30).json()
    if found["index"]["source"] != history or found["index"]["lag_blocks"] or not found["timeline"]:
        raise RuntimeError(f"the page does not read history from the {history} as measured: {found['index']}")


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


def _load_concurrently(url: str, keys: list[ItemKey], folder: Path) -> dict[str, object]:
    """``CLIENTS`` clients for ``LOAD_SECONDS`` with wrk: requests per second and latency."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("warning: wrk is not installed (apt-get install wrk): no figures under load", file=sys.stderr)
        return {}
    paths = folder / "paths.txt"
    paths.write_text("\n".join(k.digital_link(url)[len(url) :] for k in keys[:200_000]))
    script = folder / "random.lua"
    script.write_text(WRK_SCRIPT)
    command = [wrk, "-t2", f"-c{CLIENTS}", f"-d{LOAD_SECONDS}s", "-s", str(script), url]
    env = dict(os.environ, WRK_PATHS=str(paths))
    subprocess.run([*command[:3], "-d3s", *command[4:]], env=env, capture_output=True, check=True)  # warm-up
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    found = json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))
    if found["errors"]:
        raise RuntimeError(f"wrk saw {found['errors']} failed requests: {out}")
    return {
        "verify.clients": CLIENTS,
        "verify.workers": WORKERS,
        "verify.rps_32": round(found["requests"] / found["seconds"], 1),
        "verify.p50_ms_32": round(found["p50_us"] / 1000, 2),
        "verify.p99_ms_32": round(found["p99_us"] / 1000, 2),
    }


def measure(*, history: str = HISTORY, requests: int = REQUESTS) -> dict[str, object]:
    """Run the whole measurement on a devnet of its own (see the module documentation)."""
    from ape import networks

    from supplytrace.chain.ape import load_account
    from supplytrace.chain.devnet import anvil_executable

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
                str(CHAIN_ID),
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
            with choice:
                accounts = [load_account(f"TEST::{n}", "ethereum:local:node") for n in range(4)]
                started = time.perf_counter()
                registry, from_block, keys = _populate(accounts, home)
                populate_s = time.perf_counter() - started
            config: dict[str, Any] = {
                "rpc_url": rpc_url,
                "registry": str(registry.address),
                "chain_id": CHAIN_ID,
                "from_block": from_block,
                "home": str(home),
                "history": history,
                "port": free_port(),
                "db": f"sqlite:///{home / 'index.db'}",  # with "chain" nothing is built there
                "workers": WORKERS,
            }
            record_deployment(config, rpc_url, str(registry.txn_hash), accounts[0].address)
            events, index_s = 0, 0.0
            if history == "index":
                events, index_s = build_index(rpc_url, str(registry.address), from_block, config["db"])
            config_path = home / "page.json"
            config_path.write_text(json.dumps(config))
            url = f"http://127.0.0.1:{config['port']}"
            process = subprocess.Popen([sys.executable, "-m", "bench.verify", str(config_path)])
            try:
                _wait(url, process)
                _check_source(url, keys[0], history)
                _load(url, keys, WARMUP, seed=1)
                timings = _load(url, keys, requests, seed=2)
                loaded = _load_concurrently(url, keys, home)
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
    results.update(loaded)
    if history == "index":
        results["verify.index_events"] = events
        results["verify.index_build_seconds"] = round(index_s, 1)
    return results


if __name__ == "__main__":
    serve(json.loads(Path(sys.argv[1]).read_text()))
