"""Fixtures for batch registration: CSV files, the node's provider and JSON-RPC client, senders
(the brand's, or any account's) for the registry, helpers to read the chain back."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.logs import fetch_logs
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc
from supplytrace.chain.send import Sender
from supplytrace.core.events import REGISTRATION, id_topic, topic0
from supplytrace.core.ids import item_id
from tests.conftest import HONEY_GTIN, LOT_CODE

HEADER = ("gtin", "serial", "lot")
RESOLVER = "https://id.example.com"


def serials(count: int, prefix: str = "JAR-") -> list[str]:
    return [f"{prefix}{n:06d}" for n in range(count)]


def honey_rows(count: int, prefix: str = "JAR-", lot: str = LOT_CODE) -> list[tuple[str, str, str]]:
    return [(HONEY_GTIN, s, lot) for s in serials(count, prefix)]


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """write_csv(rows, header=HEADER, name="items.csv") -> path of a comma-separated file."""

    def _write(
        rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER, name: str = "items.csv"
    ) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return _write


@pytest.fixture
def provider(chain) -> Any:
    return chain.provider


@pytest.fixture
def sender_of(rpc, registry, chain) -> Callable[[Any], Sender]:
    """sender_of(account) -> a Sender to the registry signing as the ape test ``account``."""

    def _sender(account: Any) -> Sender:
        return Sender(rpc, ApeSigner(account), chain_id=int(chain.chain_id), registry=str(registry.address))

    return _sender


@pytest.fixture
def sender(sender_of, brand) -> Sender:
    """The brand's Sender."""
    return sender_of(brand)


@pytest.fixture
def reads(rpc, registry) -> RegistryReads:
    return RegistryReads(rpc, str(registry.address))


def nonce(provider: Any, account: Any) -> int:
    return int(provider.make_request("eth_getTransactionCount", [str(account.address), "latest"]), 16)


def registration_logs(rpc: Rpc, registry: Any, lot_id: int) -> list[dict[str, Any]]:
    """Every registration log of ``lot_id`` (raw)."""
    latest = int(rpc.request("eth_blockNumber", []), 16)
    topics = [topic0(REGISTRATION), None, id_topic(lot_id)]
    return fetch_logs(rpc.request, str(registry.address), topics, 0, latest)


def read_receipt(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_registered_once(
    rpc: Rpc, registry: Any, lot_id: int, rows: Sequence[Sequence[str]], receipt: Path
) -> None:
    """Every row is on chain in ``lot_id`` exactly once, and the receipt lists each with the
    transaction and block of its registration event."""
    ids = [item_id(gtin, serial) for gtin, serial, *_ in rows]
    reads = RegistryReads(rpc, str(registry.address))
    assert all((int(s), lot) == (1, lot_id) for s, lot in reads.item_statuses(ids))
    logs = registration_logs(rpc, registry, lot_id)
    by_item = {bytes.fromhex(log["topics"][1][2:]): log for log in logs}
    assert len(logs) == len(by_item) == len(rows), "an item was registered twice or is missing"
    written = read_receipt(receipt)
    assert [r["item_id"] for r in written] == ["0x" + i.hex() for i in ids]
    for row in written:
        log = by_item[bytes.fromhex(row["item_id"][2:])]
        assert row["tx_hash"] == log["transactionHash"]
        assert int(row["block"]) == int(log["blockNumber"], 16)
        assert int(row["lot_id"]) == lot_id


@pytest.fixture
def interval_mining(provider) -> Iterator[Callable[[int], None]]:
    """interval_mining(seconds): mine a block every N seconds instead of per transaction
    (automine is restored afterwards)."""

    def _set(seconds: int) -> None:
        provider.make_request("evm_setIntervalMining", [seconds])

    yield _set
    provider.make_request("evm_setIntervalMining", [0])
    provider.make_request("evm_setAutomine", [True])
