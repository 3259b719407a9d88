"""The FSMA 204 export over a real chain: the event index (plus the chain after it) and the chain's
logs give the same rows; a measured harvest, its blend and the blend's bags on a pallet offered and
accepted make packing, transformation, shipping and receiving rows with the lots' quantities, the
product name from the verified metadata and the brand's verified name; the XLSX reads back with
openpyxl with the rule's KDEs as its header, rows by date; an empty range is a sentence."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from supplytrace.core.fsma204 import COLUMNS
from supplytrace.core.ids import container_id, encode_code, item_id, sscc_with_check_digit
from supplytrace.core.metadata import metadata_hash, store_metadata
from supplytrace.core.records import QuantityUnit
from supplytrace.service.exports import ExportError
from supplytrace.service.exports_fsma import check_out, csv_text, export_fsma204, write_fsma204
from supplytrace.web.lotdata import MetadataStore
from tests.conftest import HONEY_GTIN

EVER = {"since": 0, "until": 2**40}
SHRIMP = {"product": "Frozen shrimp mix, 500 g bag", "brand": "Gulf Seafood"}


_RUNS = itertools.count(1)


@pytest.fixture(scope="module")
def seafood(registry, admin, setup_brand):
    """The brand (owner of the GTIN: tests/conftest.py) with the name the admin verified and the
    company prefix its pallets' SSCCs start with."""
    registry.nameBrand(setup_brand, "Gulf Seafood", sender=admin)
    registry.assignCompanyPrefix(9506000, 7, setup_brand, sender=admin)
    return setup_brand


@pytest.fixture
def shipped(registry, seafood, distributor, tmp_path):
    """Two lots of its own (the chain may keep other tests' lots): a measured harvest (10 kg)
    and a blend of it whose two 500 g bags, on a pallet, the brand offered to the distributor,
    who accepted. Returns (harvest, blend, its code, metadata store)."""
    run = next(_RUNS)
    brand, gtin, gram = seafood, int(HONEY_GTIN), int(QuantityUnit.GRAM)
    catch, mix = f"CATCH-{run}", f"MIX-{run}"
    registry.registerMeasuredLot(gtin, encode_code(catch, "lot"), b"\1" * 32, 10_000, 500, gram, sender=brand)
    harvest = int(registry.lotCount())
    registry.registerTransformedLot(
        gtin, encode_code(mix, "lot"), metadata_hash(SHRIMP), [harvest], [1_000], 1_000, 500, sender=brand
    )
    blend = int(registry.lotCount())
    serials = [f"B{run}-1", f"B{run}-2"]
    registry.registerItems(blend, [encode_code(s) for s in serials], sender=brand)
    bags = [item_id(HONEY_GTIN, s) for s in serials]
    sscc = sscc_with_check_digit(f"0950600000000{run:04d}")
    registry.pack(int(sscc), bags, sender=brand)
    registry.offer(container_id(sscc), distributor, sender=brand)
    registry.accept(container_id(sscc), sender=distributor)
    store_metadata(tmp_path, SHRIMP)
    return harvest, blend, (catch, mix), MetadataStore(tmp_path / "metadata")


def test_export_fsma204__blend_on_a_pallet__every_cte_the_same_from_index_and_chain(
    shipped, sources, brand, distributor
) -> None:
    harvest, blend, (catch_code, mix_code), store = shipped
    index, chain, reads = sources(confirmations=2)  # the offer and accept from the chain's tail
    lots = [harvest, blend]

    rows = export_fsma204(index, reads, lot_ids=lots, metadata=store, **EVER)

    assert rows == export_fsma204(chain, reads, lot_ids=lots, metadata=store, **EVER)
    mix, catch = f"(01){HONEY_GTIN}(10){mix_code}", f"(01){HONEY_GTIN}(10){catch_code}"
    assert [(r.cte, r.tlc, r.quantity, r.unit) for r in rows] == [
        ("Initial packing", catch, 10_000, "g"),
        ("Transformation", mix, 1_000, "g"),
        ("Initial packing", mix, 1_000, "g"),  # two bags of 500 g
        ("Shipping", mix, 1_000, "g"),
        ("Receiving", mix, 1_000, "g"),
    ]
    assert rows[1].inputs == f"{catch} 1000 g" and rows[1].product == SHRIMP["product"]
    shipping, receiving = rows[3:]
    assert shipping.shipped_from == f"Gulf Seafood ({brand.address})"
    assert shipping.recipient == receiving.location == str(distributor.address)
    assert all(r.tx_hash.startswith("0x") and len(r.tx_hash) == 66 for r in rows)
    only = export_fsma204(chain, reads, lot_ids=[harvest], **EVER)
    assert [r.tlc for r in only] == [catch] and only[0].product == f"GTIN {HONEY_GTIN}"
    with pytest.raises(ExportError, match=r"no critical tracking event .* happened in these dates; widen"):
        export_fsma204(chain, reads, lot_ids=lots, since=0, until=rows[0].timestamp - 1)


def test_write_fsma204__xlsx__reads_back_with_the_kde_header_and_rows_by_date(
    shipped, sources, tmp_path
) -> None:
    _harvest, blend, _codes, store = shipped
    _index, chain, reads = sources()
    rows = export_fsma204(chain, reads, lot_ids=[blend], metadata=store, **EVER)
    out = tmp_path / "out" / "fsma204.xlsx"

    write_fsma204(rows, out)

    sheet = load_workbook(out, read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = table[0]
    assert tuple(header) == COLUMNS
    for kde in (
        "Traceability lot code", "Quantity", "Unit of measure", "Product description",
        "Location of the immediate recipient", "Location shipped from",
        "Traceability lot code source location", "Reference document type", "Reference document number",
    ):  # fmt: skip
        assert kde in header
    dates = [r[header.index("Date")] for r in table[1:]]
    assert len(dates) == len(rows) and dates == sorted(dates)
    assert [r[header.index("Quantity")] for r in table[1:]] == [r.quantity for r in rows]  # numbers
    assert {r[header.index("Reference document type")] for r in table[1:]} == {"blockchain transaction"}


def test_write_fsma204__a_formula_in_a_name__csv_and_xlsx_keep_it_text(shipped, sources, tmp_path) -> None:
    _harvest, blend, _codes, _store = shipped
    _index, chain, reads = sources()
    evil = '=HYPERLINK("http://evil.example","Click")'
    rows = [replace(r, product=evil) for r in export_fsma204(chain, reads, lot_ids=[blend], **EVER)]
    table = list(csv.reader(io.StringIO(csv_text(rows))))
    assert table[0] == list(COLUMNS)
    assert {r[COLUMNS.index("Product description")] for r in table[1:]} == {"'" + evil}
    write_fsma204(rows, tmp_path / "evil.xlsx")
    sheet = load_workbook(tmp_path / "evil.xlsx").active
    cells = [
        sheet.cell(row=n, column=COLUMNS.index("Product description") + 1) for n in range(2, len(rows) + 2)
    ]
    assert {(c.value, c.data_type) for c in cells} == {(evil, "s")}


def test_check_out__other_suffix__one_sentence(tmp_path) -> None:
    with pytest.raises(
        ExportError, match=r"is neither \.csv nor \.xlsx; name the file FILE\.csv or FILE\.xlsx"
    ):
        check_out(tmp_path / "fsma.json")


def test_export_fsma204__the_demo__xlsx_opens_with_the_rules_columns_every_cte_by_date(
    demo_chain, tmp_path
) -> None:
    """The acceptance of issue #15: the demo's spreadsheet (its story and its blend, the pallet
    handed over) opens in a real XLSX reader with the columns the rule names, and holds every CTE
    the export maps."""
    from supplytrace.demo import BLEND_JARS, BLEND_METADATA, BRAND_NAME, LOT_METADATA

    history, reads, store = demo_chain.history, demo_chain.reads, demo_chain.store
    rows = export_fsma204(history, reads, metadata=store, **EVER)
    out = tmp_path / "demo.xlsx"

    write_fsma204(rows, out)

    sheet = load_workbook(out).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(table[0]) == COLUMNS and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    found = [dict(zip(COLUMNS, r, strict=True)) for r in table[1:]]
    kinds = {r["Critical tracking event"] for r in found}
    assert kinds == {"Initial packing", "Transformation", "Shipping", "Receiving"}
    assert [r["Date"] for r in found] == sorted(r["Date"] for r in found)
    products = {r["Product description"] for r in found}
    assert {LOT_METADATA["product"]["en"], BLEND_METADATA["product"]} <= products  # the English name of three
    assert all(r["Traceability lot code source location"].startswith(BRAND_NAME) for r in found)
    assert all(isinstance(r["Quantity"], int) and r["Quantity"] > 0 for r in found)
    pallet = [r for r in found if r["Product description"] == BLEND_METADATA["product"]][-2:]
    assert [(r["Critical tracking event"], r["Quantity"], r["Unit of measure"]) for r in pallet] == [
        ("Shipping", BLEND_JARS * 500, "g"),  # the pallet's signed handoff: every jar, 500 g each
        ("Receiving", BLEND_JARS * 500, "g"),
    ]
