"""batch/receipt.py: the receipt a merchant opens in a spreadsheet. Cells that a spreadsheet
would run as a formula are neutralised (OWASP's CSV-injection rule: a leading ``'`` before ``=``,
``+``, ``-``, ``@``, tab or carriage return); the JSON Lines receipt keeps the exact values."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from supplytrace.batch.receipt import OUTCOME_REGISTERED, BatchResult, ReceiptRow, Sizing, write_receipt


def _result(serial: str, extra: dict[str, str]) -> BatchResult:
    row = ReceiptRow(
        line=2, gtin="09506000134352", serial=serial, lot="L1", lot_id=1, item_id="0x" + "ab" * 32,
        digital_link="https://id.example.com/01/09506000134352/10/L1/21/x", outcome=OUTCOME_REGISTERED,
        tx_hash="0x" + "cd" * 32, block=7, explorer_link=None, extra=extra,
    )  # fmt: skip
    sizing = Sizing(gas_cap=16_777_216, gas_budget=15_000_000, items_per_tx=10)
    return BatchResult(rows=(row,), transactions=(), sizing=sizing, extra_columns=tuple(extra))


@pytest.mark.parametrize("dangerous", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_write_receipt__cell_starting_a_formula__neutralised_with_a_quote(
    tmp_path: Path, dangerous: str
) -> None:
    path = write_receipt(_result(dangerous, {"note": dangerous}), tmp_path / "r.csv", jsonl=True)
    (row,) = list(csv.DictReader(path.open(newline="")))
    assert row["serial"] == "'" + dangerous
    assert row["note"] == "'" + dangerous
    (data,) = [json.loads(line) for line in path.with_name("r.csv.jsonl").read_text().splitlines()]
    assert data["serial"] == dangerous and data["metadata"] == {"note": dangerous}


def test_write_receipt__hyperlink_formula_in_an_extra_column__not_a_formula(tmp_path: Path) -> None:
    path = write_receipt(_result("JAR-1", {"note": '=HYPERLINK("http://evil","x")'}), tmp_path / "r.csv")
    (row,) = list(csv.DictReader(path.open(newline="")))
    assert row["note"] == '\'=HYPERLINK("http://evil","x")'
    assert row["serial"] == "JAR-1" and row["digital_link"].startswith("https://")


def test_write_receipt__plain_values__written_as_they_are(tmp_path: Path) -> None:
    path = write_receipt(_result("A-1=2", {"grade": "A+"}), tmp_path / "r.csv")
    (row,) = list(csv.DictReader(path.open(newline="")))
    assert (row["serial"], row["grade"], row["block"]) == ("A-1=2", "A+", "7")


def test_write_receipt__carriage_return_inside_a_cell__the_row_reads_back_whole(tmp_path: Path) -> None:
    path = write_receipt(_result("JAR-1", {"note": "two\rlines\nhere"}), tmp_path / "r.csv")
    rows = list(csv.DictReader(path.open(newline="")))
    assert len(rows) == 1 and rows[0]["note"] == "two\rlines\nhere"
