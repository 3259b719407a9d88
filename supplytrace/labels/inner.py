"""Inner labels: the hidden code printed inside a pack, on the same sheet layout as the outer
labels (:mod:`.sheet`), in the same order, so label N inside goes with label N outside.

Each label carries the printed code (``7KQM-2XHD-9PRW``) in large monospaced type and, below it,
"Enter this code at" the item's page (its GS1 Digital Link, where the QR code outside leads)
"after opening", wrapped to the label. The codes come from the printer's codes file written by
``register-batch --hidden-codes`` (columns ``digital_link`` and ``code``), read as hostile CSV.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from supplytrace.core.codes import normalize, printed
from supplytrace.labels.sheet import _MONO_ADVANCE_EM, _PDF_FONT, _PT_MM, _SVG_FONT, A4_24, SheetLayout, _mm

CODE_FONT_PT = 15.0
NOTE_FONT_PT = 6.0


@dataclass(frozen=True)
class InnerLabel:
    code: str  # canonical (normalize)
    page_url: str  # the item's page: its Digital Link


def read_codes(path: str | Path) -> dict[str, str]:
    """Digital Link -> code (canonical) of a codes file; rows without a valid code or an http(s)
    link are left out. Raises ValueError when the file is not a codes file."""
    text = Path(path).read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"digital_link", "code"} <= set(reader.fieldnames or ()):
        raise ValueError(f"{path} is not a codes file (it needs the columns digital_link and code).")
    codes = {}
    for row in reader:
        link, code = (row.get("digital_link") or "").strip(), normalize(row.get("code") or "")
        if code is not None and link.startswith(("https://", "http://")):
            codes[link] = code
    return codes


def note_lines(url: str, max_chars: int) -> list[str]:
    """ "Enter this code at", the URL cut to ``max_chars`` a line, "after opening"."""
    parts = [url[i : i + max_chars] for i in range(0, len(url), max_chars)]
    return ["Enter this code at", *parts, "after opening"]


def _lines(label: InnerLabel, layout: SheetLayout) -> tuple[float, list[tuple[float, float, str]]]:
    """(left, [(baseline y from the label's top, font pt, text)]) of a label's text."""
    note_mm = NOTE_FONT_PT * _PT_MM
    max_chars = int((layout.label_width - 2 * layout.padding) / (note_mm * _MONO_ADVANCE_EM))
    code_mm = CODE_FONT_PT * _PT_MM
    y = layout.padding + code_mm
    out = [(y, CODE_FONT_PT, printed(label.code))]
    y += note_mm * 0.6
    for line in note_lines(label.page_url, max_chars):
        y += note_mm * 1.2
        out.append((y, NOTE_FONT_PT, line))
    return layout.label_width / 2, out


def _text_attrs(x: float, y: float, size_pt: float) -> dict[str, str]:
    return {
        "x": _mm(x),
        "y": _mm(y),
        "font-family": _SVG_FONT,
        "font-size": _mm(size_pt * _PT_MM),
        "text-anchor": "middle",
        "fill": "#000",
    }


def write_inner_sheet(
    labels: Sequence[InnerLabel],
    svg_path: str | Path,
    pdf_path: str | Path,
    *,
    title: str = "supplytrace inner labels",
    layout: SheetLayout = A4_24,
) -> list[Path]:
    """Write the inner labels as SVG (pages stacked) and PDF (one page a sheet); returns the paths."""
    if not labels:
        raise ValueError("no codes to put on inner labels.")
    pages = [labels[i : i + layout.per_page] for i in range(0, len(labels), layout.per_page)]
    gap = 10.0
    height = len(pages) * layout.page_height + (len(pages) - 1) * gap
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": f"{_mm(layout.page_width)}mm",
            "height": f"{_mm(height)}mm",
            "viewBox": f"0 0 {_mm(layout.page_width)} {_mm(height)}",
        },
    )
    ET.SubElement(svg, "title").text = title
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(pdf_path), pagesize=(layout.page_width * mm, layout.page_height * mm), invariant=True)
    canvas.setCreator("supplytrace")
    canvas.setTitle(title)
    for number, page_labels in enumerate(pages):
        offset = number * (layout.page_height + gap)
        page = ET.SubElement(svg, "g", {"class": "page", "transform": f"translate(0 {_mm(offset)})"})
        ET.SubElement(page, "rect", {"width": _mm(layout.page_width), "height": _mm(layout.page_height),
                                     "fill": "#fff", "stroke": "#bbb", "stroke-width": "0.2"})  # fmt: skip
        for slot, label in enumerate(page_labels):
            left, top = layout.label_origin(slot)
            centre, lines = _lines(label, layout)
            group = ET.SubElement(page, "g", {"class": "inner-label"})
            x = left + centre
            for baseline, size, text in lines:
                ET.SubElement(group, "text", _text_attrs(x, top + baseline, size)).text = text
                canvas.setFont(_PDF_FONT + ("-Bold" if size == CODE_FONT_PT else ""), size)
                canvas.drawCentredString(x * mm, (layout.page_height - top - baseline) * mm, text)
        canvas.showPage()
    svg_target = Path(svg_path)
    svg_target.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n",
        encoding="utf-8",
    )
    canvas.save()
    return [svg_target, Path(pdf_path)]
