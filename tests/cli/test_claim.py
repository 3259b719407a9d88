"""`supplytrace register-batch --hidden-codes` and `supplytrace claim` through real subprocesses:
the codes file told as secret, a claim with a code from it, a wrong code, a second claim."""

from __future__ import annotations

import csv
from pathlib import Path

from supplytrace.core.codes import new_code, printed
from supplytrace.core.ids import ItemKey
from tests.cli.conftest import HONEY_GTIN, RETAILER, Cli


def tx_count(cli: Cli, address: str) -> int:
    return int(str(cli.run_rpc("eth_getTransactionCount", [address, "latest"])), 16)


def test_register_batch_hidden_codes_then_claim__codes_file_secret_claim_once_wrong_code_sends_nothing(
    deployed: Cli, tmp_path: Path
) -> None:
    rows = tmp_path / "items.csv"
    serials = [f"CODE-{n}" for n in range(5)]
    rows.write_text("gtin,serial,lot\n" + "".join(f"{HONEY_GTIN},{s},HONEY-A\n" for s in serials))

    out = deployed.run(
        "register-batch", str(rows), "--hidden-codes", "--max-per-tx", "2", "--yes", "--account", "TEST::1"
    ).stdout
    text = " ".join(out.split())
    codes_path = tmp_path / "items.codes.csv"
    assert f"hidden codes of 5 items: {codes_path}" in text
    assert "SECRET" in text and "printer only" in text
    assert "code trees (3 committed roots)" in text
    with codes_path.open(newline="") as handle:
        printer = list(csv.DictReader(handle))
    assert [r["serial"] for r in printer] == serials
    assert (deployed.home / "codes").is_dir()

    labels = deployed.run(
        "labels", "--lot", f"{HONEY_GTIN}:HONEY-A", "--out", str(tmp_path), "--codes", str(codes_path)
    ).stdout
    assert "5 inner labels (SECRET, for the printer only)" in " ".join(labels.split())
    assert (tmp_path / "inner-labels-09506000134352-HONEY-A.pdf").is_file()
    inner_svg = (tmp_path / "inner-labels-09506000134352-HONEY-A.svg").read_text()
    assert all(r["code"] in inner_svg for r in printer)

    link = printer[0]["digital_link"]
    assert link == ItemKey.create(HONEY_GTIN, serials[0], "HONEY-A").digital_link("http://127.0.0.1:8000")
    before = tx_count(deployed, RETAILER)
    wrong = deployed.error("claim", link, printed(new_code()), "--account", "TEST::3")
    assert "is not the hidden code of item" in wrong and "nothing was sent" in wrong
    assert tx_count(deployed, RETAILER) == before

    claimed = deployed.run("claim", link, printer[0]["code"], "--account", "TEST::3").stdout
    assert "claimed 0x" in claimed and "tx 0x" in claimed
    assert "claimed" in deployed.run("status", link).stdout.lower()

    again = deployed.error("claim", link, printer[0]["code"], "--account", "TEST::3")
    assert "was already claimed on" in again

    by_serial = deployed.run(
        "claim", "--gtin", HONEY_GTIN, "--serial", serials[1], printer[1]["code"], "--account", "TEST::3"
    ).stdout
    assert "claimed 0x" in by_serial

    not_a_code = deployed.error("claim", link, "hello", "--account", "TEST::3")
    assert "is not a hidden code" in not_a_code
