"""Interruptions: Ctrl-C, a pending transaction, kill -9. A rerun finishes without duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supplytrace.batch import (
    OUTCOME_REGISTERED,
    OUTCOME_RESUMED,
    BatchError,
    BatchInterruptedError,
    pending_count,
    register_csv,
    wait_for_pending,
)
from supplytrace.core.ids import item_id
from tests.batch.conftest import RESOLVER, assert_registered_once, honey_rows, nonce, read_receipt

ROOT = Path(__file__).resolve().parents[2]


def test_register_csv__ctrl_c_after_first_chunk__rerun_registers_the_rest_once_receipt_complete(
    registry, lot_id, brand, provider, rpc, sender, write_csv, tmp_path
):
    rows = honey_rows(23)
    path = write_csv(rows)
    receipt = tmp_path / "receipt.csv"
    before = nonce(provider, brand)

    def interrupt(tx) -> None:
        raise KeyboardInterrupt

    with pytest.raises(BatchInterruptedError, match="Run the same command again") as caught:
        register_csv(path, sender, receipt, max_items_per_tx=10, resolver=RESOLVER, on_chunk=interrupt)
    assert caught.value.exit_code == 3  # an interrupted run: a rerun finishes it
    assert nonce(provider, brand) == before + 1
    assert not receipt.exists()
    first_tx = provider.make_request("eth_getBlockByNumber", ["latest", False])["transactions"][0]

    result = register_csv(path, sender, receipt, max_items_per_tx=10, resolver=RESOLVER)
    assert [t.items for t in result.transactions] == [10, 3]
    assert [r.outcome for r in result.rows] == [OUTCOME_RESUMED] * 10 + [OUTCOME_REGISTERED] * 13
    assert {r.tx_hash for r in result.rows[:10]} == {first_tx}
    assert "10 were already registered by an earlier run" in result.summary()
    assert_registered_once(rpc, registry, lot_id, rows, receipt)


def test_register_csv__node_gone_after_first_chunk__interrupted_exit_3_rerun_registers_the_rest_once(
    registry, lot_id, brand, chain, rpc, write_csv, tmp_path
):
    from supplytrace.chain.ape import ApeSigner
    from supplytrace.chain.rpc import Rpc
    from supplytrace.chain.send import Sender
    from tests.faults import Faults, FaultyProxy

    rows = honey_rows(23)
    path = write_csv(rows)
    receipt = tmp_path / "receipt.csv"
    proxy = FaultyProxy(str(chain.provider.http_uri), Faults())
    through = Rpc(proxy.url, timeout=5)
    sender = Sender(through, ApeSigner(brand), chain_id=int(chain.chain_id), registry=str(registry.address))
    try:
        with pytest.raises(BatchInterruptedError) as caught:
            register_csv(
                path,
                sender,
                receipt,
                max_items_per_tx=10,
                resolver=RESOLVER,
                on_chunk=lambda tx: proxy.stop(),
            )
    finally:
        proxy.stop()
        through.close()
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert "after 10 of 23 items were registered" in message and "cannot reach the node" in message
    assert "run the same command again" in message

    direct = Sender(rpc, ApeSigner(brand), chain_id=int(chain.chain_id), registry=str(registry.address))
    result = register_csv(path, direct, receipt, max_items_per_tx=10, resolver=RESOLVER)
    assert [r.outcome for r in result.rows] == [OUTCOME_RESUMED] * 10 + [OUTCOME_REGISTERED] * 13
    assert_registered_once(rpc, registry, lot_id, rows, receipt)


def test_register_csv__everything_already_registered__no_transaction_receipt_complete(
    registry, lot_id, brand, provider, sender, write_csv, tmp_path
):
    rows = honey_rows(4)
    path = write_csv(rows)
    register_csv(path, sender, tmp_path / "a.csv", resolver=RESOLVER)
    before = nonce(provider, brand)
    result = register_csv(path, sender, tmp_path / "b.csv", resolver=RESOLVER)
    assert result.transactions == () and result.resumed == 4
    assert nonce(provider, brand) == before
    assert [r["tx_hash"] for r in read_receipt(tmp_path / "a.csv")] == [
        r["tx_hash"] for r in read_receipt(tmp_path / "b.csv")
    ]


def test_wait_for_pending__transaction_not_mined__waits_then_explains(
    registry, lot_id, brand, provider, rpc, interval_mining
):
    interval_mining(3600)  # nothing gets mined
    registry.registerItem(lot_id, b"P-1".ljust(32, b"\0"), sender=brand, required_confirmations=0)
    assert pending_count(rpc, str(brand.address)) == 1
    with pytest.raises(BatchError, match=r"1 transaction of .* is still pending after 0 s"):
        wait_for_pending(rpc, str(brand.address), timeout=0.3, poll=0.1)
    provider.make_request("evm_mine", [])
    wait_for_pending(rpc, str(brand.address), timeout=1)


@pytest.mark.parametrize("kill_when", ["next_tx_pending", "chunk_mined"])
def test_register_csv__worker_killed_with_sigkill_mid_run__rerun_finishes_every_row_once(
    registry,
    lot_id,
    brand,
    accounts,
    provider,
    rpc,
    reads,
    sender,
    write_csv,
    tmp_path,
    interval_mining,
    kill_when,
):
    """A real kill -9 of a process that is registering: right after a chunk was mined, or while
    its next transaction waits in the node's pool (the rerun must wait for it, not resend it)."""
    chunk = 10
    rows = honey_rows(60)
    path = write_csv(rows)
    receipt = tmp_path / "receipt.csv"
    ids = [item_id(g, s) for g, s, _ in rows]
    signer_index = next(i for i, a in enumerate(accounts) if a.address == brand.address)
    nonce_before = nonce(provider, brand)
    first_block = int(provider.make_request("eth_blockNumber", []), 16) + 1
    interval_mining(1)  # one block a second: the worker is mid-way for several seconds
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.batch.worker",
            str(provider.http_uri),
            str(path),
            str(receipt),
            str(registry.address),
            str(signer_index),
            str(chunk),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            done = sum(1 for status, _ in reads.item_statuses(ids) if status)
            if done >= chunk and (kill_when == "chunk_mined" or pending_count(rpc, str(brand.address))):
                break
            assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
            assert time.monotonic() < deadline, "the worker registered nothing within 60 s"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    assert done < len(rows), "the worker finished before it was killed"
    in_flight = pending_count(rpc, str(brand.address))
    if kill_when == "next_tx_pending" and in_flight:  # else: mined in the instant before the kill
        assert sum(1 for status, _ in reads.item_statuses(ids) if status) == done
    assert not receipt.exists()

    result = register_csv(path, sender, receipt, max_items_per_tx=25, resolver=RESOLVER)
    if kill_when == "next_tx_pending" and in_flight:
        assert result.resumed >= 2 * chunk, "the chunk in flight was not waited for"
    assert result.resumed >= chunk and result.resumed + result.registered == len(rows)
    assert_registered_once(rpc, registry, lot_id, rows, receipt)
    # Nothing was sent twice: a resent chunk would have been mined and reverted (ItemAlreadyRegistered).
    sent = brand_transactions(provider, str(brand.address), first_block)
    assert sent and all(status == 1 for status in sent.values()), sent
    assert len(sent) == nonce(provider, brand) - nonce_before


def brand_transactions(provider, sender: str, first_block: int) -> dict[str, int]:
    """tx hash -> status of every transaction ``sender`` got mined since ``first_block``."""
    out = {}
    latest = int(provider.make_request("eth_blockNumber", []), 16)
    for number in range(first_block, latest + 1):
        block = provider.make_request("eth_getBlockByNumber", [hex(number), True])
        for tx in block["transactions"]:
            if tx["from"].lower() == sender.lower():
                receipt = provider.make_request("eth_getTransactionReceipt", [tx["hash"]])
                out[tx["hash"]] = int(receipt["status"], 16)
    return out
