"""How long the command line takes, as users run it (a fresh process each time): ``--help``,
and ``status`` of an item whose history has a current index. Median wall time of 9 runs, on a
devnet of its own. Neither command imports ape (tests/cli/test_imports.py)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

RUNS = 9
GTIN = "09506000134352"
BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _median_seconds(command: list[str], env: Mapping[str, str], cwd: Path) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def measure() -> Mapping[str, object]:
    executable = str(Path(sys.executable).with_name("supplytrace"))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = dict(
            os.environ,
            SUPPLYTRACE_HOME=str(work / "home"),
            SUPPLYTRACE_DEPLOYMENTS=str(work / "deployments"),
            SUPPLYTRACE_DEVNET_PORT=str(_free_port()),
            SUPPLYTRACE_RESOLVER="https://id.example.com",
        )

        def cli(*args: str) -> None:
            subprocess.run([executable, *args], env=env, cwd=work, check=True, capture_output=True)

        help_seconds = _median_seconds([executable, "--help"], env, work)
        cli("devnet", "up")
        try:
            cli("deploy", "--account", "TEST::0")
            cli("brand", "add", BRAND, "--gtin", GTIN, "--account", "TEST::0")
            (work / "lot.json").write_text(json.dumps({"product": "Acacia honey 500 g"}))
            cli(
                "lot",
                "create",
                "--gtin",
                GTIN,
                "--lot",
                "L1",
                "--metadata",
                "lot.json",
                "--account",
                "TEST::1",
            )
            cli("register", "--gtin", GTIN, "--serial", "S1", "--lot", "L1", "--account", "TEST::1")
            cli("index")
            item = f"https://id.example.com/01/{GTIN}/21/S1"
            status_seconds = _median_seconds([executable, "status", item], env, work)
        finally:
            cli("devnet", "down")
    return {"cli.help_seconds": help_seconds, "cli.status_seconds": status_seconds}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
