"""CLI tests: real `supplytrace` subprocesses against a real devnet (anvil) on a free port.

Each module gets its own devnet, home folder and deployments folder, so nothing touches the
developer's own devnet on 8545 or the checkout's deployments/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# anvil's default mnemonic accounts, which ape's TEST::N accounts match.
ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DISTRIBUTOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
RETAILER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
ROGUE = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
HONEY_GTIN = "09506000134352"
ROGUE_GTIN = "04012345000009"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cli:
    env: dict[str, str]
    home: Path
    workdir: Path

    def run(
        self, *args: str, ok: bool = True, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `supplytrace ARGS` (stdin: ``input``, else closed); with ok=True assert success,
        with ok=False assert failure."""
        result = subprocess.run(
            [sys.executable, "-m", "supplytrace.cli", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
        )
        if ok and result.returncode != 0:
            raise AssertionError(f"supplytrace {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        if not ok and result.returncode == 0:
            raise AssertionError(f"supplytrace {' '.join(args)} succeeded but should fail:\n{result.stdout}")
        return result

    def run_rpc(self, method: str, params: list[object]) -> object:
        """A raw JSON-RPC call to the module's devnet (e.g. to move its clock)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        url = f"http://127.0.0.1:{self.env['SUPPLYTRACE_DEVNET_PORT']}"
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read()).get("result")

    def error(self, *args: str) -> str:
        """Run a command that must fail with one plain sentence (no traceback); return it."""
        result = self.run(*args, ok=False)
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        assert result.returncode == 1, result.stderr
        return " ".join((result.stderr + result.stdout).split())


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    workdir = tmp_path_factory.mktemp("cli")
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env.update(
        SUPPLYTRACE_HOME=str(workdir / "home"),
        SUPPLYTRACE_DEPLOYMENTS=str(workdir / "deployments"),
        SUPPLYTRACE_DEVNET_PORT=str(free_port()),
        SUPPLYTRACE_RESOLVER="http://127.0.0.1:8000",
        PYTHONPATH=str(repo),
        COLUMNS="200",
    )
    tool = Cli(env=env, home=workdir / "home", workdir=repo)
    tool.run("devnet", "up")
    try:
        yield tool
    finally:
        tool.run("devnet", "down")


@pytest.fixture(scope="module")
def deployed(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A registry on the module's devnet with the honey brand, its GTIN and lot HONEY-A."""
    cli.run("deploy", "--account", "TEST::0")
    cli.run(
        "brand", "add", BRAND, "--name", "Hillside Apiaries", "--gtin", HONEY_GTIN, "--account", "TEST::0"
    )
    cli.run("brand", "add", ROGUE, "--gtin", ROGUE_GTIN, "--account", "TEST::0")
    metadata = tmp_path_factory.mktemp("meta") / "honey.json"
    metadata.write_text('{"product": "Acacia honey 500 g", "origin": "RO", "harvestDate": "2026-07-14"}')
    cli.run(
        "lot",
        "create",
        "--gtin",
        HONEY_GTIN,
        "--lot",
        "HONEY-A",
        "--metadata",
        str(metadata),
        "--account",
        "TEST::1",
    )
    return cli
