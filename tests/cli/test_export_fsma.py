"""`supplytrace export-fsma204`: a lot's items registered, offered as one batch and accepted make
an XLSX a real reader opens, with the rule's KDEs as its header and one row per CTE; bad dates,
an empty range and another file type are one sentence each. Real processes, real devnet."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from supplytrace.core.fsma204 import COLUMNS
from tests.cli.conftest import BRAND, DISTRIBUTOR, HONEY_GTIN, Cli

WIDE = ("--from", "2000-01-01", "--to", "2100-12-31")
LOT = f"{HONEY_GTIN}:HONEY-A"


def test_export_fsma204__registered_offered_accepted__xlsx_with_kde_header_one_row_per_cte(
    deployed: Cli, tmp_path: Path
) -> None:
    cli = deployed
    for serial in ("F-1", "F-2", "F-3"):
        cli.run(
            "register", "--gtin", HONEY_GTIN, "--serial", serial, "--lot", "HONEY-A", "--account", "TEST::1"
        )
    cli.run("offer", "--lot", LOT, "--to", DISTRIBUTOR, "--account", "TEST::1", "--yes")
    cli.run("accept", "--lot", LOT, "--account", "TEST::2", "--yes")
    out = tmp_path / "fsma204.xlsx"

    result = cli.run("export-fsma204", *WIDE, "--lot", LOT, "--out", str(out))

    assert "critical tracking events" in result.stderr and f"written to {out}" in result.stderr
    table = [list(row) for row in load_workbook(out).active.iter_rows(values_only=True)]
    assert tuple(table[0]) == COLUMNS
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in table[1:]]
    assert [r["Date"] for r in rows] == sorted(r["Date"] for r in rows)
    moves = [(r["Critical tracking event"], r["Quantity"], r["Unit of measure"]) for r in rows[-2:]]
    assert moves == [("Shipping", 3, "each"), ("Receiving", 3, "each")]  # one batch: one row each
    assert {r["Traceability lot code"] for r in rows} == {f"(01){HONEY_GTIN}(10)HONEY-A"}
    assert {r["Product description"] for r in rows} == {"Acacia honey 500 g"}  # the verified metadata
    assert rows[-2]["Location shipped from"] == f"Hillside Apiaries ({BRAND})"
    assert rows[-2]["Location of the immediate recipient"] == DISTRIBUTOR
    csv_out = cli.run("export-fsma204", *WIDE, "--lot", LOT).stdout
    assert csv_out.splitlines()[0] == ",".join(COLUMNS) and len(csv_out.splitlines()) == len(table)


def test_export_fsma204__bad_dates_empty_range_other_file__one_sentence_each(deployed: Cli) -> None:
    bad = deployed.error("export-fsma204", "--from", "2026-02-30", "--to", "2026-03-01")
    assert "--from '2026-02-30' is not a date; write it as YYYY-MM-DD (e.g. 2026-07-14)." in bad, bad
    backwards = deployed.error("export-fsma204", "--from", "2026-03-02", "--to", "2026-03-01")
    assert "--from 2026-03-02 is after --to 2026-03-01; give the earlier day as --from." in backwards
    empty = deployed.error("export-fsma204", "--from", "2001-01-01", "--to", "2001-01-31", "--out", "x.xlsx")
    assert "happened in these dates; widen --from/--to or name other lots." in empty, empty
    assert not (deployed.workdir / "x.xlsx").exists()
    other = deployed.error("export-fsma204", *WIDE, "--out", "fsma.json")
    assert "is neither .csv nor .xlsx; name the file FILE.csv or FILE.xlsx." in other, other
