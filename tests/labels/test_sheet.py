"""Label sheets: pages, one decodable QR per label, escaped HRI text, labels inside their cells.

The PDF is rasterized with pypdfium2 and the SVG with resvg (both self-contained wheels), and
every QR code on each page is decoded with zxing-cpp.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from supplytrace.core.ids import ItemKey
from supplytrace.labels.sheet import A4_24, SheetLayout, hri_elements, hri_lines, write_label_sheet
from tests.labels.test_qr import read_qr_codes, render_svg

BASE = "https://id.example.com"
SVG = "{http://www.w3.org/2000/svg}"
LOT = "HONEY/2026&A"
#: 30 items of one lot, serials with characters that must be escaped in XML and encoded in URIs.
KEYS = [ItemKey.create("09506000134352", f"J{i:02d}&<\"'>", LOT) for i in range(30)]
URIS = {key.digital_link(BASE) for key in KEYS}
TITLE = "Lot HONEY/2026&A <test>"


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("labels")
    svg, pdf = write_label_sheet(KEYS, BASE, folder / "lot.svg", folder / "lot.pdf", title=TITLE)
    return svg, pdf


@pytest.fixture(scope="module")
def svg_root(sheet: tuple[Path, Path]) -> ET.Element:
    return ET.parse(sheet[0]).getroot()  # fails unless the SVG is well-formed XML


def _pages(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}g[@class='page']")


def _labels(page: ET.Element) -> list[ET.Element]:
    return page.findall(f"{SVG}g[@class='label']")


def test_write_label_sheet__both_formats__returns_the_written_paths(sheet: tuple[Path, Path]) -> None:
    svg, pdf = sheet

    assert svg.suffix == ".svg" and svg.stat().st_size > 0
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_write_label_sheet__30_items_24_per_page__svg_has_2_pages(svg_root: ET.Element) -> None:
    pages = _pages(svg_root)

    assert A4_24.per_page == 24
    assert [len(_labels(page)) for page in pages] == [24, 6]
    assert len(svg_root.findall(f".//{SVG}path[@class='qr']")) == 30
    assert all(
        len(label.findall(f"{SVG}path[@class='qr']")) == 1 for page in pages for label in _labels(page)
    )


def test_write_label_sheet__special_characters__hri_text_escaped_in_svg(
    sheet: tuple[Path, Path], svg_root: ET.Element
) -> None:
    raw = sheet[0].read_text()
    texts = ["".join(node.itertext()) for node in svg_root.iter(f"{SVG}text")]

    assert "J00&amp;&lt;" in raw and "<test>" not in raw
    assert f"{TITLE} - page 1 of 2" in texts
    for key in KEYS:
        for element in hri_elements(key):
            assert any(element in text for text in texts), element
    assert "(01) 09506000134352  (10) HONEY/2026&A" in texts
    assert {node.text for node in svg_root.iter(f"{SVG}title")} >= URIS


def test_write_label_sheet__svg_rendered__every_qr_decodes_to_its_item(svg_root: ET.Element) -> None:
    image = render_svg(ET.tostring(svg_root, encoding="unicode"), dpi=200)

    decoded = [code.text for code in read_qr_codes(image)]

    assert len(decoded) == 30
    assert set(decoded) == URIS
    assert {ItemKey.from_digital_link(uri).id for uri in decoded} == {key.id for key in KEYS}


def test_write_label_sheet__30_items__pdf_has_2_a4_pages(sheet: tuple[Path, Path]) -> None:
    pdf = pdfium.PdfDocument(sheet[1])

    assert len(pdf) == 2
    width, height = pdf[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)


def test_write_label_sheet__pdf_rasterized__every_qr_decodes_to_its_item(sheet: tuple[Path, Path]) -> None:
    pdf = pdfium.PdfDocument(sheet[1])

    per_page = [[code.text for code in read_qr_codes(page.render(scale=200 / 72).to_pil())] for page in pdf]

    assert [len(codes) for codes in per_page] == [24, 6]
    assert set(per_page[0] + per_page[1]) == URIS


def test_write_label_sheet__pdf__qr_codes_are_vector_paths_and_text_is_text(sheet: tuple[Path, Path]) -> None:
    page = pdfium.PdfDocument(sheet[1])[1]

    kinds = {obj.type for obj in page.get_objects()}
    text = page.get_textpage().get_text_range()

    assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in kinds
    assert pdfium_c.FPDF_PAGEOBJ_PATH in kinds
    assert "(21) J29&<\"'>" in text
    assert f"{TITLE} - page 2 of 2" in text


def test_write_label_sheet__svg_geometry__qr_and_text_inside_their_label(svg_root: ET.Element) -> None:
    layout = A4_24
    for page in _pages(svg_root):
        for slot, label in enumerate(_labels(page)):
            left, top = layout.label_origin(slot)
            right, bottom = left + layout.label_width, top + layout.label_height
            qr = label.find(f"{SVG}path[@class='qr']")
            assert qr is not None
            x, y, scale = map(float, re.findall(r"[-\d.]+", qr.get("transform", "")))
            runs = [tuple(map(int, run)) for run in re.findall(r"M(\d+) (\d+)h(\d+)", qr.get("d", ""))]
            width = max(col + n for col, _, n in runs) + 4  # + the quiet zone on the right
            height = max(row + 1 for _, row, _ in runs) + 4  # + the quiet zone below
            assert left <= x and x + width * scale <= right + 1e-6
            assert top <= y and y + height * scale <= bottom + 1e-6
            for text in label.findall(f"{SVG}text"):
                assert top < float(text.get("y", "nan")) <= bottom - layout.padding


def test_hri_lines__short_codes__one_line_in_gs1_hri_style() -> None:
    key = ItemKey.create("09506000134352", "SERIAL", "LOT")

    assert hri_lines(key, A4_24.chars_per_line) == ["(01) 09506000134352  (10) LOT  (21) SERIAL"]


def test_hri_lines__longest_codes__wrapped_between_elements_within_the_label() -> None:
    key = ItemKey.create("09506000134352", "S" * 20, "L" * 20)

    lines = hri_lines(key, A4_24.chars_per_line)

    assert lines == ["(01) 09506000134352", "(10) " + "L" * 20, "(21) " + "S" * 20]
    assert all(len(line) <= A4_24.chars_per_line for line in lines)


def test_hri_lines__no_lot__gtin_and_serial_only() -> None:
    assert hri_elements(ItemKey.create("9506000134352", "7")) == ["(01) 09506000134352", "(21) 7"]


def test_sheet_layout__default__a4_grid_centred() -> None:
    assert (A4_24.columns, A4_24.rows, A4_24.label_width, A4_24.label_height) == (3, 8, 63.5, 33.9)
    assert A4_24.margin_left == pytest.approx(7.25)
    assert A4_24.margin_top == pytest.approx(12.9)
    assert A4_24.label_origin(23) == pytest.approx((7.25 + 2 * 66.0, 12.9 + 7 * 33.9))


def test_sheet_layout__grid_wider_than_page__raises() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        SheetLayout(columns=4)


def test_write_label_sheet__custom_layout__pages_follow_its_capacity(tmp_path: Path) -> None:
    (svg,) = write_label_sheet(KEYS[:5], BASE, tmp_path / "two.svg", layout=SheetLayout(columns=2, rows=1))

    assert [len(_labels(page)) for page in _pages(ET.parse(svg).getroot())] == [2, 2, 1]


def test_write_label_sheet__no_output_path__raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="svg_path, pdf_path"):
        write_label_sheet(KEYS, BASE)


def test_write_label_sheet__no_items__raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no items"):
        write_label_sheet([], BASE, tmp_path / "empty.svg")
