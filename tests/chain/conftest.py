"""Fixtures for sending: a fault proxy (tests/faults.py) in front of ape's anvil, Senders to the
module's registry signing as ape test accounts (their nonce locks in the test's folder), the
account's nonce, and anvil's mining switched to blocks on a timer or by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.rpc import Rpc
from supplytrace.chain.send import Sender
from tests.faults import Faults, FaultyProxy


@pytest.fixture
def node_url(chain: Any) -> str:
    return str(chain.provider.uri)


@pytest.fixture
def proxy(node_url: str) -> Iterator[FaultyProxy]:
    server = FaultyProxy(node_url, Faults())
    yield server
    server.stop()


@pytest.fixture
def locks(tmp_path: Path) -> Path:
    return tmp_path / "home" / "locks"


@pytest.fixture
def sender_for(registry: Any, chain: Any, node_url: str, locks: Path) -> Iterator[Callable[..., Sender]]:
    """sender_for(account, url=None, **options) -> a Sender to the module's registry signing as
    the ape test ``account``, through ``url`` (default: the node itself)."""
    clients: list[Rpc] = []

    def _make(account: Any, url: str | None = None, *, timeout: float = 10, **options: Any) -> Sender:
        rpc = Rpc(url or node_url, timeout=timeout)
        clients.append(rpc)
        options.setdefault("lock_dir", locks)
        return Sender(
            rpc, ApeSigner(account), chain_id=int(chain.chain_id), registry=str(registry.address), **options
        )

    yield _make
    for client in clients:
        client.close()


def nonce_of(rpc: Rpc, account: Any) -> int:
    """How many transactions of ``account`` are mined."""
    return int(rpc.request("eth_getTransactionCount", [str(account.address), "latest"]), 16)


@pytest.fixture
def manual_mining(rpc: Rpc) -> Iterator[Rpc]:
    """anvil mines only when told (``evm_mine``); automine again afterwards, at the base fee of
    before (a test may raise it, and reverting to ape's snapshot does not lower it)."""
    base_fee = rpc.request("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"]
    rpc.request("evm_setAutomine", [False])
    yield rpc
    rpc.request("evm_setIntervalMining", [0])
    rpc.request("anvil_setNextBlockBaseFeePerGas", [base_fee])
    rpc.request("evm_setAutomine", [True])


@pytest.fixture
def interval_mining(manual_mining: Rpc) -> Rpc:
    """anvil mines a block every second, as a public chain does on a timer."""
    manual_mining.request("evm_setIntervalMining", [1])
    return manual_mining
