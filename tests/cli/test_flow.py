"""The merchant's whole flow through the CLI, each step a real `supplytrace` process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from supplytrace.core.ids import ItemKey
from tests.cli.conftest import BRAND, DISTRIBUTOR, HONEY_GTIN, RETAILER, Cli


def _status(cli: Cli, *item: str) -> dict[str, str]:
    out = cli.run("status", *item).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}


def test_flow__brand_to_consumer__every_step_recorded(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    # Register one item and a batch from a CSV.
    cli.run("register", "--gtin", HONEY_GTIN, "--serial", "JAR-1", "--lot", "HONEY-A", "--account", "TEST::1")
    rows = tmp_path / "jars.csv"
    rows.write_text(
        "gtin,serial,lot,colour\n" + "".join(f"{HONEY_GTIN},JAR-{n},HONEY-A,amber\n" for n in range(2, 8))
    )
    out = cli.run("register-batch", str(rows), "--yes", "--account", "TEST::1").stdout
    receipt = list(csv.DictReader(rows.with_suffix(".receipt.csv").open()))
    assert len(receipt) == 6, out
    key = ItemKey.create(HONEY_GTIN, "JAR-2", "HONEY-A")
    assert receipt[0]["item_id"] == key.id_hex
    assert receipt[0]["digital_link"] == key.digital_link("http://127.0.0.1:8000")

    uri = ItemKey.create(HONEY_GTIN, "JAR-1", "HONEY-A").digital_link("https://id.example.com")
    # Two-step handoff brand -> distributor, by Digital Link URI.
    cli.run("offer", uri, "--to", DISTRIBUTOR, "--account", "TEST::1")
    assert _status(cli, uri)["pending_receiver"] == DISTRIBUTOR
    cli.run("accept", uri, "--account", "TEST::2")
    assert _status(cli, uri)["custodian"] == DISTRIBUTOR
    # Signed one-transaction handoff distributor -> retailer, acceptance as a string.
    acceptance = cli.run("sign-acceptance", uri, "--from", DISTRIBUTOR, "--account", "TEST::3").stdout
    cli.run("handoff", "".join(acceptance.split()), "--account", "TEST::2")
    state = _status(cli, uri)
    assert state["custodian"] == RETAILER
    assert state["custody_nonce"] == "2"
    # Whole-lot offer of the batch, then the receiver rejects, then the brand re-offers and cancels.
    cli.run("offer", "--lot", f"{HONEY_GTIN}:HONEY-A", "--to", DISTRIBUTOR, "--account", "TEST::1")
    cli.run("reject", "--lot", f"{HONEY_GTIN}:HONEY-A", "--account", "TEST::2")
    cli.run("offer", "--lot", "1", "--to", DISTRIBUTOR, "--account", "TEST::1")
    cli.run("cancel", "--lot", "1", "--account", "TEST::1")
    assert _status(cli, key.id_hex)["pending_receiver"] == "None"
    # Observation, sale, recall.
    cli.run("record", uri, "--step", "inspecting", "--account", "TEST::3")
    cli.run("sell", uri, "--account", "TEST::3")
    assert _status(cli, uri)["status"] == "sold"
    cli.run(
        "recall",
        f"{HONEY_GTIN}:HONEY-A",
        "--reason",
        "Residue found; return for a refund.",
        "--account",
        "TEST::1",
    )
    assert _status(cli, key.id_hex)["recalled"] == "True"

    history = cli.run("history", uri).stdout
    for phrase in (
        "registered this item (serial JAR-1",
        "offered it to",
        "handed it over to",
        "recorded a step: inspecting",
        "sold it to a customer",
        "recalled the whole lot",
    ):
        assert phrase in history, history
    assert "http://127.0.0.1:8000/tx/0x" in history

    # QR codes and a label sheet for the lot.
    out_dir = tmp_path / "out"
    cli.run("qr", uri, "--out", str(out_dir))
    assert (out_dir / f"{HONEY_GTIN}-JAR-1.png").stat().st_size > 0
    assert (out_dir / f"{HONEY_GTIN}-JAR-1.svg").read_text().lstrip().startswith("<")
    cli.run("labels", "--lot", "1", "--out", str(out_dir))
    assert list(out_dir.glob("labels-*.pdf")) and list(out_dir.glob("labels-*.svg"))
    # The lot metadata was kept canonically for the verification page.
    (stored,) = (cli.home / "metadata").glob("0x*.json")
    assert json.loads(stored.read_text())["product"] == "Acacia honey 500 g"
    assert _status(cli, uri)["lot_metadata_hash"] == stored.stem
    assert BRAND in cli.run("lot", "show", "1").stdout
