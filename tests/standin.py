"""A public-testnet stand-in (not a test module): anvil with Sepolia's chain id (11155111), 2 s
blocks and a 16,777,216 block gas limit, reached as ``ethereum:sepolia:node`` exactly as the
README's Sepolia section says (an ape project whose ``ape-config.yaml`` names the node), with
ape keystore accounts (encrypted JSON in a throwaway ape data folder, funded by the node, their
passphrases handed to commands through the environment as unattended runs do).

Commands run as real ``supplytrace`` processes with stdin closed, from the project folder.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account

from supplytrace.chain.ape import passphrase_variable
from supplytrace.core.hashing import keccak

ROOT = Path(__file__).resolve().parent.parent
SEPOLIA = "ethereum:sepolia:node"
SEPOLIA_CHAIN_ID = 11155111
GAS_LIMIT = 16_777_216
#: The cast of the README's story, each an ape keystore account.
ALIASES = ("brand-deployer", "brand", "distributor", "retailer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer.get("result")


@dataclass(frozen=True)
class Keystore:
    alias: str
    address: str
    passphrase: str


@dataclass
class StandIn:
    """The node (``node_url``: anvil itself), the project folder whose ``ape-config.yaml`` names
    the URL commands use (``url``: the node, or a proxy in front of it) and the accounts."""

    node_url: str
    url: str
    project: Path
    ape_data: Path
    accounts: dict[str, Keystore] = field(default_factory=dict)

    def address(self, alias: str) -> str:
        return self.accounts[alias].address

    def env(self, *unlocked: str) -> dict[str, str]:
        """The environment of a command: the throwaway ape data folder, and the passphrases of
        ``unlocked`` aliases under their documented variables (no other passphrase)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPPLYTRACE_", "APE_ACCOUNTS_"))}
        env.update(
            APE_DATA_FOLDER=str(self.ape_data),
            PYTHONPATH=str(ROOT),
            COLUMNS="200",
            SUPPLYTRACE_RESOLVER="https://id.example.com",
        )
        for alias in unlocked:
            env[passphrase_variable(alias)] = self.accounts[alias].passphrase
        return env

    def run(
        self, *args: str, unlocked: tuple[str, ...] = (), ok: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``supplytrace ARGS --network ethereum:sepolia:node`` with stdin closed."""
        result = subprocess.run(
            [sys.executable, "-m", "supplytrace.cli", *args, "--network", SEPOLIA],
            env=self.env(*unlocked),
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if ok and result.returncode != 0:
            raise AssertionError(f"supplytrace {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        if not ok and result.returncode == 0:
            raise AssertionError(f"supplytrace {' '.join(args)} succeeded but should fail:\n{result.stdout}")
        return result

    def sign(self, alias: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """``run`` as keystore account ``alias``, its passphrase in the environment."""
        return self.run(*args, "--account", alias, unlocked=(alias,), **kwargs)

    def lot_serials(self, gtin: str, lot: str) -> list[str]:
        """The serial of every registration log of ``lot`` of ``gtin`` on the recorded registry,
        one per log (a second registration of an item would show twice)."""
        from supplytrace.chain.history import ChainHistory
        from supplytrace.chain.reads import RegistryReads
        from supplytrace.chain.rpc import Rpc
        from supplytrace.core import deployments
        from supplytrace.core.ids import encode_code

        record = deployments.load(self.project / "deployments", "ethereum", "sepolia")
        rpc = Rpc(self.node_url)
        try:
            lot_id = RegistryReads(rpc, record.address).lot_id_of(int(gtin), encode_code(lot, "lot code"))
            items = ChainHistory(rpc, record.address, record.block).lot_items(lot_id)
        finally:
            rpc.close()
        return [str(item.serial) for item in items]

    def nonce(self, alias: str) -> int:
        return int(rpc(self.node_url, "eth_getTransactionCount", [self.address(alias), "latest"]), 16)


def write_project(folder: Path, url: str) -> Path:
    """An ape project naming ``url`` as Sepolia's node, as the README's Sepolia section says."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ape-config.yaml").write_text(f"node:\n  ethereum:\n    sepolia:\n      uri: {url}\n")
    return folder


def create_keystore(ape_data: Path, alias: str) -> Keystore:
    """A keystore account as ``ape accounts generate`` makes one (scrypt-encrypted JSON)."""
    key = keccak(b"supplytrace stand-in " + alias.encode())
    passphrase = f"correct horse {alias}"
    folder = ape_data / "accounts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{alias}.json").write_text(json.dumps(Account.encrypt(key, passphrase)))
    return Keystore(alias, Account.from_key(key).address, passphrase)


@contextmanager
def anvil(port: int, *, block_time: int = 2) -> Iterator[str]:
    """anvil as a public testnet: Sepolia's chain id, ``block_time`` s blocks, EIP-7825's gas cap
    as the block gas limit; old states pruned (anvil keeps them on disk otherwise)."""
    process = subprocess.Popen(
        [
            str(ROOT / "node_modules" / ".bin" / "anvil"),
            "--port", str(port),
            "--chain-id", str(SEPOLIA_CHAIN_ID),
            "--block-time", str(block_time),
            "--gas-limit", str(GAS_LIMIT),
            "--prune-history", "64",
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                rpc(url, "eth_chainId", [])
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("anvil did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def standin(folder: Path, *, url: str | None = None) -> Iterator[StandIn]:
    """The stand-in in ``folder``; commands reach the node at ``url`` when given (a proxy in
    front of ``StandIn.node_url``; the project can be rewritten with :func:`write_project`)."""
    with anvil(free_port()) as node_url:
        ape_data = folder / "ape"
        stand_in = StandIn(
            node_url, url or node_url, write_project(folder / "project", url or node_url), ape_data
        )
        for alias in ALIASES:
            keystore = create_keystore(ape_data, alias)
            stand_in.accounts[alias] = keystore
            rpc(node_url, "anvil_setBalance", [keystore.address, hex(100 * 10**18)])
        yield stand_in
