"""Bulk runs through the CLI: the cost told before more than one transaction, the question and
--yes, each transaction's link and fee with the total, and a rerun after an interruption
(exit 3, then 0) that sends each chunk once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from supplytrace.core.events import CustodyOffered, topic0
from supplytrace.core.ids import ItemKey
from tests.cli.conftest import BRAND, DISTRIBUTOR, HONEY_GTIN, RETAILER, Cli

LINK = "http://127.0.0.1:8000/tx/0x"
BULK_ARGS = ("--max-per-tx", "10", "--yes", "--account", "TEST::1")


def new_lot(cli: Cli, tmp_path: Path, code: str, count: int) -> tuple[str, list[str]]:
    """Lot ``code`` of the brand (TEST::1) with ``count`` items: (GTIN:LOT, item ids)."""
    metadata = tmp_path / f"{code}.json"
    metadata.write_text('{"product": "Acacia honey 500 g"}')
    cli.run(
        "lot",
        "create",
        "--gtin",
        HONEY_GTIN,
        "--lot",
        code,
        "--metadata",
        str(metadata),
        "--account",
        "TEST::1",
    )
    rows = tmp_path / f"{code}.csv"
    serials = [f"{code}-{n}" for n in range(count)]
    rows.write_text("gtin,serial,lot\n" + "".join(f"{HONEY_GTIN},{s},{code}\n" for s in serials))
    cli.run("register-batch", str(rows), "--yes", "--account", "TEST::1")
    return f"{HONEY_GTIN}:{code}", [ItemKey.create(HONEY_GTIN, s).id_hex for s in serials]


def tx_count(cli: Cli, address: str, block: str = "latest") -> int:
    return int(str(cli.run_rpc("eth_getTransactionCount", [address, block])), 16)


def pending_receiver(cli: Cli, item: str) -> str:
    out = cli.run("status", item).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if "pending_receiver" in line)


def test_offer__lot_in_several_transactions_with_yes__cost_then_each_link_and_fee_then_the_total(
    deployed: Cli, tmp_path: Path
) -> None:
    lot, ids = new_lot(deployed, tmp_path, "BULK-A", 25)
    result = deployed.run(
        "offer", "--lot", lot, "--to", DISTRIBUTOR, "--max-per-tx", "10", "--yes", "--account", "TEST::1"
    )
    assert "25 items in 3 transactions, about" in result.stderr
    assert "ETH at the current base fee" in result.stderr
    out = result.stdout
    assert out.count(LINK) == 3 and out.count(" ETH") >= 4, out
    assert "offered 25 items to" in out and "total fee" in out, out
    assert pending_receiver(deployed, ids[-1]) == DISTRIBUTOR


def test_offer__several_transactions_stdin_closed_without_yes__nothing_sent_and_says_add_yes(
    deployed: Cli, tmp_path: Path
) -> None:
    lot, ids = new_lot(deployed, tmp_path, "BULK-B", 12)
    before = tx_count(deployed, BRAND)
    sentence = deployed.error(
        "offer", "--lot", lot, "--to", DISTRIBUTOR, "--max-per-tx", "5", "--account", "TEST::1"
    )
    assert "12 items in 3 transactions, about" in sentence
    assert "nothing was sent" in sentence and "--yes" in sentence, sentence
    assert tx_count(deployed, BRAND) == before and pending_receiver(deployed, ids[0]) == "None"


def test_offer_accept__several_transactions_answered_on_stdin__no_sends_nothing_yes_sends(
    deployed: Cli, tmp_path: Path
) -> None:
    lot, ids = new_lot(deployed, tmp_path, "BULK-C", 6)
    args = ("--max-per-tx", "3", "--account")
    refused = deployed.run(
        "offer", "--lot", lot, "--to", DISTRIBUTOR, *args, "TEST::1", input="n\n", ok=False
    )
    assert refused.returncode == 1 and "nothing was sent" in refused.stderr
    assert pending_receiver(deployed, ids[0]) == "None"
    deployed.run("offer", "--lot", lot, "--to", DISTRIBUTOR, *args, "TEST::1", input="y\n")
    accepted = deployed.run("accept", "--lot", lot, *args, "TEST::2", input="y\n")
    assert accepted.stdout.count(LINK) == 2 and "accepted 6 items" in accepted.stdout


def test_offer__interrupted_while_the_second_chunk_is_mined__exit_3_then_the_rerun_exit_0_each_item_once(
    deployed: Cli, tmp_path: Path
) -> None:
    lot, ids = new_lot(deployed, tmp_path, "BULK-D", 40)
    base = tx_count(deployed, BRAND)
    deployed.run_rpc("evm_setAutomine", [False])  # each block is mined by the test, one at a time
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "supplytrace.cli", "offer", "--lot", lot, "--to", DISTRIBUTOR, *BULK_ARGS],
            env=deployed.env,
            cwd=deployed.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(lambda: tx_count(deployed, BRAND, "pending") == base + 1, process)
        deployed.run_rpc("evm_mine", [])  # the first chunk
        _wait_for(lambda: tx_count(deployed, BRAND, "pending") == base + 2, process)
        process.send_signal(signal.SIGINT)  # while it waits for the second chunk
        _out, err = process.communicate(timeout=60)
    finally:
        deployed.run_rpc("evm_setAutomine", [True])
        deployed.run_rpc("evm_mine", [])
    assert process.returncode == 3, err
    assert "10 of 40 items were offered" in err and "run the same command again" in err, err
    rerun = deployed.run(
        "offer", "--lot", lot, "--to", DISTRIBUTOR, "--max-per-tx", "10", "--yes", "--account", "TEST::1"
    )
    assert "20 items were already offered to" in rerun.stdout, rerun.stdout
    assert tx_count(deployed, BRAND) == base + 4  # total transactions = chunks
    logs = deployed.run_rpc(
        "eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest", "topics": [topic0(CustodyOffered)]}]
    )
    assert isinstance(logs, list)
    offers = Counter(log["topics"][1] for log in logs)
    assert [offers[i] for i in ids] == [1] * 40  # no item offered twice


def _wait_for(condition, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the command ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_sign_acceptance_handoff__more_items_than_a_transaction__one_file_handed_over_in_parts(
    deployed: Cli, tmp_path: Path
) -> None:
    lot, ids = new_lot(deployed, tmp_path, "BULK-E", 7)
    path = tmp_path / "acceptance.txt"
    signed = deployed.run(
        "sign-acceptance",
        "--lot",
        lot,
        "--from",
        BRAND,
        "--max-per-tx",
        "3",
        "--output",
        str(path),
        "--account",
        "TEST::3",
    )
    assert "acceptance of 7 items in 3 parts written to" in signed.stdout
    assert len(path.read_text().split()) == 3 and all(p.startswith("st1:") for p in path.read_text().split())
    handed = deployed.run("handoff", str(path), "--yes", "--account", "TEST::1")
    assert (
        handed.stdout.count(LINK) == 3
        and "handed 7 items to" in handed.stdout
        and "total fee" in handed.stdout
    )
    assert "3 transactions, about" in handed.stderr
    assert RETAILER in deployed.run("status", ids[-1]).stdout


def test_sell__several_items__a_link_and_fee_for_each_then_the_total(deployed: Cli, tmp_path: Path) -> None:
    _lot, ids = new_lot(deployed, tmp_path, "BULK-F", 3)
    sold = deployed.run("sell", *ids, "--yes", "--account", "TEST::1")
    assert sold.stdout.count(LINK) == 3 and sold.stdout.count("sold 0x") == 3
    assert "total fee" in sold.stdout and "3 transactions, about" in sold.stderr
    again = deployed.run("sell", *ids, "--yes", "--account", "TEST::1")
    assert "all 3 items were already sold; nothing to send" in again.stdout, again.stdout


def test_register_batch__several_transactions__total_fee_printed(deployed: Cli, tmp_path: Path) -> None:
    rows = tmp_path / "batch.csv"
    rows.write_text("gtin,serial,lot\n" + "".join(f"{HONEY_GTIN},RB-{n},HONEY-A\n" for n in range(12)))
    out = deployed.run("register-batch", str(rows), "--max-per-tx", "5", "--yes", "--account", "TEST::1")
    assert "registered 12 items in 3 transactions" in out.stdout and "total fee" in out.stdout, out.stdout
    assert "12 items in 3 transactions, about" in out.stderr
