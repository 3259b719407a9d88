"""Labels of items of a blended lot: the origin line EU Directive 2024/1438 asks of a honey blend
(``core.lineage.origin_label``) printed under the HRI text, in the SVG and the PDF, with every QR
code still decodable."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pypdfium2 as pdfium

from supplytrace.core.ids import ItemKey
from supplytrace.core.lineage import LotInput, Transformation, origin_label, origin_shares
from supplytrace.labels.sheet import A4_24, ORIGIN_LINES, origin_lines, write_label_sheet
from tests.labels.test_qr import read_qr_codes, render_svg

BASE = "https://id.example.com"
SVG = "{http://www.w3.org/2000/svg}"
#: Two harvests (lots 1 RO, 2 BG) blended 620 g + 380 g into lot 3.
BLEND = {3: Transformation(3, (LotInput(1, 620), LotInput(2, 380)), 1_000, "gram")}
LABEL = origin_label(origin_shares(3, {1: "RO", 2: "BG"}, BLEND))
BLENDED = [ItemKey.create("09506000134352", f"B{i}", "BLEND-A") for i in range(3)]
PLAIN = ItemKey.create("09506000134352", "P1", "HONEY-A")


def _texts(svg: Path) -> list[list[str]]:
    root = ET.parse(svg).getroot()
    return [
        ["".join(t.itertext()) for t in label.findall(f"{SVG}text")]
        for label in root.iter(f"{SVG}g")
        if label.get("class") == "label"
    ]


def test_write_label_sheet__items_of_a_blend__origin_line_under_the_hri_text(tmp_path: Path) -> None:
    origins = {key.id: LABEL for key in BLENDED}

    svg, pdf = write_label_sheet(
        [*BLENDED, PLAIN], BASE, tmp_path / "s.svg", tmp_path / "s.pdf", origins=origins
    )

    assert LABEL == "Blend of honey from Romania (62 %), Bulgaria (38 %)"
    labels = _texts(svg)
    for lines in labels[:3]:
        assert " ".join(lines[1:]) == LABEL  # after the one HRI line, the origin, wrapped between words
        assert all(len(line) <= A4_24.chars_per_line for line in lines)
    assert not any("Blend" in line for line in labels[3])  # an item of a single lot prints none
    assert "Bulgaria (38 %)" in " ".join(pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range().split())
    decoded = {code.text for code in read_qr_codes(render_svg(svg.read_text(), dpi=200))}
    assert decoded == {key.digital_link(BASE) for key in [*BLENDED, PLAIN]}


def test_origin_lines__very_long_origin__cut_to_its_lines_with_an_ellipsis() -> None:
    shares = tuple((code, Fraction(1, 8)) for code in ("RO", "BG", "HU", "AT", "SK", "PL", "UA", "MD"))

    lines = origin_lines(origin_label(shares) + "\x07", 44)

    assert len(lines) == ORIGIN_LINES and lines[-1].endswith("…")
    assert all(len(line) <= 44 and line.isprintable() for line in lines)
