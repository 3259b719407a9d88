"""`supplytrace index`, `status`/`history` from the index, and `export-epcis`, each a real
process against a real devnet (anvil on a free port)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from supplytrace.core.ids import ItemKey
from tests.cli.conftest import DISTRIBUTOR, HONEY_GTIN, RETAILER, Cli, free_port


def _index_block(cli: Cli) -> int:
    out = cli.run("index").stdout
    return int(out.rsplit("at block", 1)[1].split()[0].rstrip(";"))


def test_index__devnet_flow__status_history_and_epcis_read_from_the_index(
    deployed: Cli, tmp_path: Path
) -> None:
    cli = deployed
    uri = ItemKey.create(HONEY_GTIN, "IDX-1", "HONEY-A").digital_link("https://id.example.com")
    item = ItemKey.create(HONEY_GTIN, "IDX-1").id_hex
    cli.run("register", "--gtin", HONEY_GTIN, "--serial", "IDX-1", "--lot", "HONEY-A", "--account", "TEST::1")
    cli.run("register", "--gtin", HONEY_GTIN, "--serial", "IDX-2", "--lot", "HONEY-A", "--account", "TEST::1")
    cli.run("offer", uri, "--to", DISTRIBUTOR, "--account", "TEST::1")
    cli.run("accept", uri, "--account", "TEST::2")
    acceptance = cli.run("sign-acceptance", uri, "--from", DISTRIBUTOR, "--account", "TEST::3").stdout
    cli.run("handoff", "".join(acceptance.split()), "--account", "TEST::2")
    cli.run("record", uri, "--step", "inspecting", "--account", "TEST::3")

    first = cli.run("index")
    assert "indexed" in first.stdout and "events/s" in first.stdout, first.stdout
    again = cli.run("index")
    assert again.stdout.startswith("indexed 0 events"), again.stdout

    cli.run("sell", uri, "--account", "TEST::3")  # after the checkpoint: read from the chain tail
    status = cli.run("status", uri)  # the record is read live (getItem), never from the index
    assert "source:" not in status.stderr, status.stderr
    assert "sold" in status.stdout and RETAILER in status.stdout
    history = cli.run("history", uri)
    assert "source: the event index" in history.stderr
    for phrase in ("registered this item (serial IDX-1", "offered it to", "handed it over to",
                   "recorded a step: inspecting", "sold it to a customer"):  # fmt: skip
        assert phrase in history.stdout, history.stdout

    out = tmp_path / "item.json"
    export = cli.run("export-epcis", item, "--out", str(out))
    assert "EPCIS events (from the event index" in export.stderr
    document = json.loads(out.read_text())
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    steps = [e.get("bizStep") for e in document["epcisBody"]["eventList"]]
    assert steps == [
        "commissioning",
        "shipping",
        "receiving",
        "shipping",
        "receiving",
        "inspecting",
        "retail_selling",
    ]
    assert all(e["supplytrace:transactionHash"].startswith("0x") for e in document["epcisBody"]["eventList"])

    cli.run("recall", f"{HONEY_GTIN}:HONEY-A", "--reason", "Residue found.", "--account", "TEST::1")
    lot = json.loads(cli.run("export-epcis", "--lot", f"{HONEY_GTIN}:HONEY-A").stdout)
    events = lot["epcisBody"]["eventList"]
    recall = [e for e in events if e.get("disposition") == "recalled"]
    assert len(recall) == 1 and len(recall[0]["epcList"]) == 2
    assert sum(e.get("bizStep") == "commissioning" for e in events) == 2


def test_index__follow_then_sigterm__tails_new_blocks_and_stops_cleanly(deployed: Cli) -> None:
    cli = deployed
    start = _index_block(cli)
    process = subprocess.Popen(
        [sys.executable, "-m", "supplytrace.cli", "index", "--follow", "--poll-interval", "0.2"],
        env=cli.env,
        cwd=cli.workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        cli.run("brand", "describe", "Distributor, cold chain", "--account", "TEST::2")
        head = int(str(cli.run_rpc("eth_blockNumber", [])), 16)
        assert head > start
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            history = cli.run("history", "--gtin", HONEY_GTIN, "--serial", "IDX-1")  # says the index's block
            if f"index at block {head})" in history.stderr:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"the follower did not reach block {head}: {history.stderr}")
    finally:
        os.kill(process.pid, signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "indexed" in stdout, stdout


def test_index__unsupported_database_url__one_sentence(deployed: Cli) -> None:
    message = deployed.error("index", "--db", "mysql://root@127.0.0.1/index")
    assert "supports SQLite and PostgreSQL" in message


def test_export_epcis__nothing_named__one_sentence(deployed: Cli) -> None:
    message = deployed.error("export-epcis")
    assert "name an item" in message


def test_serve__db_option__page_reads_history_from_that_index(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    item = ItemKey.create(HONEY_GTIN, "SRV-1")
    metadata = tmp_path / "lot.json"
    metadata.write_text('{"product": "Acacia honey 500 g", "harvestDate": "2026-08-01"}')
    lot = ("--gtin", HONEY_GTIN, "--lot", "HONEY-SRV")
    cli.run("lot", "create", *lot, "--metadata", str(metadata), "--account", "TEST::1")
    cli.run("register", *lot, "--serial", "SRV-1", "--account", "TEST::1")
    db = tmp_path / "elsewhere.db"
    indexed = int(cli.run("index", "--db", str(db)).stdout.rsplit("at block", 1)[1].split()[0].rstrip(";"))
    cli.run("record", item.id_hex, "--step", "receiving", "--account", "TEST::1")  # after the index's block
    port = free_port()
    cli.run("serve", "--background", "--db", str(db), "--port", str(port))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/items/{item.id_hex}", timeout=10) as answer:
            page = json.loads(answer.read())
    finally:
        cli.run("serve", "--stop")
    log = (cli.home / "web" / "serve.log").read_text()
    expected = (
        f"history: the event index sqlite:///{db} (index at block {indexed} + chain to block {indexed + 1})"
    )
    assert expected in " ".join(log.split())
    assert page["index"]["source"] == "index" and page["index"]["indexed_block"] == indexed
    assert page["index"]["lag_blocks"] == 1 and len(page["index"]["notes"]) == 1
    assert [row["event"] for row in page["timeline"]] == ["LotRegistered", "ItemRegistered", "ItemObserved"]
