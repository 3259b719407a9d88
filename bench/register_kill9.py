"""10,000 rows through the real CLI, `kill -9` mid-way, then the same command again.

A merchant's path end to end: `supplytrace devnet up` (a private devnet on a free port),
`deploy`, `brand add`, `lot create`, then `supplytrace register-batch` in a process that is
killed with SIGKILL once some chunks are mined; the rerun must finish the file with every row
registered exactly once (counted from the chain's registration logs) and a complete receipt.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.register import GTIN, LOT, ROWS, write_csv
from supplytrace.core.events import REGISTRATION, topic0

ROOT = Path(__file__).resolve().parents[1]
BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["result"]


def _registrations(url: str, registry: str) -> int:
    logs = _rpc(
        url, "eth_getLogs", [{"address": registry, "fromBlock": "0x0", "topics": [topic0(REGISTRATION)]}]
    )
    assert isinstance(logs, list)
    return len(logs)


def measure() -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        port = _free_port()
        env = dict(
            os.environ,
            SUPPLYTRACE_HOME=str(work / "home"),
            SUPPLYTRACE_DEPLOYMENTS=str(work / "deployments"),
            SUPPLYTRACE_DEVNET_PORT=str(port),
        )
        url = f"http://127.0.0.1:{port}"

        def cli(*args: str) -> None:
            subprocess.run(
                [sys.executable, "-m", "supplytrace.cli", *args],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                stdin=subprocess.DEVNULL,
            )

        cli("devnet", "up")
        try:
            cli("deploy", "--account", "TEST::0")
            registry = json.loads(next((work / "deployments").glob("*.json")).read_text())["address"]
            cli("brand", "add", BRAND, "--gtin", GTIN, "--account", "TEST::0")
            (work / "lot.json").write_text('{"product": "benchmark"}')
            cli(
                "lot",
                "create",
                "--gtin",
                GTIN,
                "--lot",
                LOT,
                "--metadata",
                str(work / "lot.json"),
                "--account",
                "TEST::1",
            )
            source = work / "items.csv"
            write_csv(source)
            command = [
                sys.executable,
                "-m",
                "supplytrace.cli",
                "register-batch",
                str(source),
                "--yes",
                "--account",
                "TEST::1",
            ]
            started = time.perf_counter()
            first = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            while _registrations(url, registry) == 0 and first.poll() is None:
                time.sleep(0.02)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
            at_kill = _registrations(url, registry)
            assert 0 < at_kill < ROWS, f"the kill came too late or too early ({at_kill} registered)"
            subprocess.run(
                command, cwd=ROOT, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL
            )
            total = time.perf_counter() - started
            registered = _registrations(url, registry)
            rows = list(csv.DictReader(source.with_suffix(".receipt.csv").open()))
        finally:
            cli("devnet", "down")
    unique = len({r["item_id"] for r in rows})
    assert registered == ROWS and unique == ROWS and len(rows) == ROWS, (registered, unique, len(rows))
    return {
        "register.csv_10k_kill9_registered_at_kill": at_kill,
        "register.csv_10k_kill9_registered_after_rerun": registered,
        "register.csv_10k_kill9_duplicates": registered - unique,
        "register.csv_10k_kill9_total_seconds": round(total, 2),
    }
