"""Inner labels: each item's hidden code in large type with the page to enter it at, on the
outer labels' layout and in their order; the codes file read as hostile CSV."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from supplytrace.core.codes import new_code, printed
from supplytrace.labels.inner import InnerLabel, note_lines, read_codes, write_inner_sheet

SVG = "{http://www.w3.org/2000/svg}"
LABELS = [
    InnerLabel(new_code(), f"https://id.example.com/01/09506000134352/10/A&B/21/J{i:02d}") for i in range(30)
]


def test_write_inner_sheet__30_codes__two_pages_each_code_printed_with_its_page(tmp_path: Path) -> None:
    svg, pdf = write_inner_sheet(LABELS, tmp_path / "inner.svg", tmp_path / "inner.pdf")

    pages = ET.parse(svg).getroot().findall(f"{SVG}g[@class='page']")
    assert [len(p.findall(f"{SVG}g[@class='inner-label']")) for p in pages] == [24, 6]
    texts = [[t.text for t in g.findall(f"{SVG}text")] for p in pages for g in p.findall(f"{SVG}g")]
    assert [t[0] for t in texts] == [printed(label.code) for label in LABELS]
    assert all(t[1] == "Enter this code at" and t[-1] == "after opening" for t in texts)
    assert ["".join(t[2:-1]) for t in texts] == [label.page_url for label in LABELS]
    document = pdfium.PdfDocument(str(pdf))
    assert len(document) == 2
    first_page = document[0].get_textpage().get_text_range()
    assert printed(LABELS[0].code) in first_page and printed(LABELS[24].code) not in first_page


def test_note_lines__long_url__cut_to_the_width() -> None:
    lines = note_lines("x" * 100, 48)
    assert lines == ["Enter this code at", "x" * 48, "x" * 48, "x" * 4, "after opening"]


def test_read_codes__hostile_rows__only_valid_codes_with_http_links(tmp_path: Path) -> None:
    code = new_code()
    path = tmp_path / "items.codes.csv"
    path.write_text(
        "serial,digital_link,code,item_id,code_root\n"
        f"A,https://id.example.com/01/1/21/A,{printed(code)},0x,0x\n"
        "B,https://id.example.com/01/1/21/B,=HYPERLINK(1),0x,0x\n"
        f"C,javascript:alert(1),{printed(new_code())},0x,0x\n"
    )
    assert read_codes(path) == {"https://id.example.com/01/1/21/A": code}


def test_read_codes__not_a_codes_file__value_error(tmp_path: Path) -> None:
    path = tmp_path / "receipt.csv"
    path.write_text("line,gtin,serial\n2,1,A\n")
    with pytest.raises(ValueError, match="not a codes file"):
        read_codes(path)
