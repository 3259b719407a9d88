"""Printable sheets of item labels: a QR code (the item's Digital Link) over its GS1 HRI text.

Default sheet: A4 portrait with 24 labels of 63.5 x 33.9 mm in 3 columns x 8 rows, a 2.5 mm gap
between columns and none between rows, the grid centred on the page (12.9 mm top and bottom,
7.25 mm left and right). That is the common "24 per sheet" die-cut stock; pass another
:class:`SheetLayout` for other stock. Labels fill the sheet row by row; more keys than fit go on
further pages.

Each label carries, top to bottom:

- the QR code of :func:`supplytrace.labels.qr.make_qr` (level Q, 4-module quiet zone inside the box),
  centred, as large as the label leaves room for: a typical URI (version 6, 49 modules with the
  quiet zone) gets 0.53 mm modules, the longest possible (20-character lot and serial, all
  percent-encoded: version 11) 0.34 mm, still easy for a phone camera;
- the human-readable interpretation in GS1 HRI style, ``(01) 09506000134352  (10) LOT  (21) SERIAL``
  in a monospaced font, wrapped between elements when a line would not fit the label;
- for an item of a blended lot, the origin line EU Directive 2024/1438 asks of a honey blend
  (``Blend of honey from Romania (62 %), Bulgaria (38 %)``: ``core.lineage.origin_label``),
  wrapped between words.

Two outputs, drawn from the same placement so they match: one SVG file (pages stacked top to
bottom, each page a ``<g class="page">``; for screens and further editing) and a PDF (one PDF
page per sheet; the file to print). In both, QR codes are vector shapes built from segno's module
matrix, so they stay sharp at any printer resolution, and the text is real text.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno

from supplytrace.core.ids import ItemKey
from supplytrace.labels.qr import checked_uri, dark_runs, encode_uri, symbol_modules

_PT_MM = 25.4 / 72
#: Courier (PDF) and other monospaced fonts advance 0.6 em per character.
_MONO_ADVANCE_EM = 0.6
_LINE_SPACING = 1.25
#: Vertical space between stacked pages in the SVG, in millimetres.
SVG_PAGE_GAP_MM = 10.0
_SVG_FONT = "Courier New, Courier, Liberation Mono, DejaVu Sans Mono, monospace"
_PDF_FONT = "Courier"
_HEADER_FONT_PT = 8.0


@dataclass(frozen=True)
class SheetLayout:
    """A grid of identical labels on a page, centred; lengths in millimetres."""

    page_width: float = 210.0
    page_height: float = 297.0
    columns: int = 3
    rows: int = 8
    label_width: float = 63.5
    label_height: float = 33.9
    column_gap: float = 2.5
    row_gap: float = 0.0
    #: White margin inside each label, around the QR box and the text.
    padding: float = 1.0
    #: HRI text size in points.
    font_size_pt: float = 6.5

    def __post_init__(self) -> None:
        if self.columns < 1 or self.rows < 1:
            raise ValueError("a sheet needs at least one row and one column of labels.")
        if self.margin_left < 0 or self.margin_top < 0:
            raise ValueError(
                f"{self.columns} x {self.rows} labels of {self.label_width} x {self.label_height} mm "
                f"do not fit a {self.page_width} x {self.page_height} mm page."
            )

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def margin_left(self) -> float:
        grid = self.columns * self.label_width + (self.columns - 1) * self.column_gap
        return (self.page_width - grid) / 2

    @property
    def margin_top(self) -> float:
        grid = self.rows * self.label_height + (self.rows - 1) * self.row_gap
        return (self.page_height - grid) / 2

    @property
    def font_size(self) -> float:
        """HRI text size in millimetres."""
        return self.font_size_pt * _PT_MM

    @property
    def line_height(self) -> float:
        return self.font_size * _LINE_SPACING

    @property
    def chars_per_line(self) -> int:
        return math.floor((self.label_width - 2 * self.padding) / (self.font_size * _MONO_ADVANCE_EM))

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Top-left corner of the label in ``slot`` (0-based, row by row) of a page."""
        row, column = divmod(slot, self.columns)
        return (
            self.margin_left + column * (self.label_width + self.column_gap),
            self.margin_top + row * (self.label_height + self.row_gap),
        )


#: A4, 3 x 8 labels of 63.5 x 33.9 mm.
A4_24 = SheetLayout()


def hri_elements(key: ItemKey) -> list[str]:
    """The GS1 human-readable elements of ``key``: ``(01) gtin14``, ``(10) lot`` if any, ``(21) serial``."""
    elements = [f"(01) {key.gtin}"]
    if key.lot is not None:
        elements.append(f"(10) {key.lot}")
    elements.append(f"(21) {key.serial}")
    return elements


def hri_lines(key: ItemKey, max_chars: int) -> list[str]:
    """:func:`hri_elements` joined by two spaces, wrapped between elements at ``max_chars``."""
    lines: list[str] = []
    for element in hri_elements(key):
        if lines and len(lines[-1]) + 2 + len(element) <= max_chars:
            lines[-1] += "  " + element
        else:
            lines.append(element)
    return lines


#: The most lines an origin takes on a label (each one shrinks the QR code; a blend of four or
#: five countries fits in three lines of the default label).
ORIGIN_LINES = 3


def origin_lines(origin: str, max_chars: int) -> list[str]:
    """The origin line wrapped between words at ``max_chars`` (a word longer than that is cut
    into pieces), control characters dropped; beyond :data:`ORIGIN_LINES` lines the last one
    ends with an ellipsis (the page shows the whole line)."""
    text = " ".join("".join(c for c in origin if c.isprintable()).split())
    lines: list[str] = []
    for word in text.split(" "):
        pieces = [word[i : i + max_chars] for i in range(0, len(word), max_chars)] or [""]
        for piece in pieces:
            if lines and len(lines[-1]) + 1 + len(piece) <= max_chars:
                lines[-1] += " " + piece
            else:
                lines.append(piece)
    lines = [line for line in lines if line]
    if len(lines) > ORIGIN_LINES:
        lines = [*lines[: ORIGIN_LINES - 1], lines[ORIGIN_LINES - 1][: max_chars - 1] + "…"]
    return lines


@dataclass(frozen=True)
class _Label:
    """One label placed on its page: everything a renderer needs, in millimetres from the top-left."""

    uri: str
    qr: segno.QRCode
    qr_x: float
    qr_y: float
    module: float
    text_x: float
    #: (baseline y, text) of each HRI line.
    lines: tuple[tuple[float, str], ...]


def _place(key: ItemKey, base: str, layout: SheetLayout, slot: int, origin: str | None = None) -> _Label:
    left, top = layout.label_origin(slot)
    lines = hri_lines(key, layout.chars_per_line)
    if origin:
        lines += origin_lines(origin, layout.chars_per_line)
    text_height = len(lines) * layout.line_height
    box = min(
        layout.label_width - 2 * layout.padding,
        layout.label_height - 2 * layout.padding - text_height,
    )
    uri = checked_uri(key, base)
    qr = encode_uri(uri)
    first_baseline = top + layout.padding + box + layout.font_size
    return _Label(
        uri=uri,
        qr=qr,
        qr_x=left + (layout.label_width - box) / 2,
        qr_y=top + layout.padding,
        module=box / symbol_modules(qr),
        text_x=left + layout.label_width / 2,
        lines=tuple((first_baseline + i * layout.line_height, line) for i, line in enumerate(lines)),
    )


def _paginate(
    keys: Sequence[ItemKey], base: str, layout: SheetLayout, origins: Mapping[bytes, str]
) -> list[list[_Label]]:
    pages: list[list[_Label]] = []
    for index, key in enumerate(keys):
        page, slot = divmod(index, layout.per_page)
        if page == len(pages):
            pages.append([])
        pages[page].append(_place(key, base, layout, slot, origins.get(key.id)))
    return pages


def _header(title: str | None, page: int, pages: int) -> str | None:
    return None if title is None else f"{title} - page {page} of {pages}"


def _run_path(qr: segno.QRCode) -> str:
    """SVG path data of the dark modules, in module units (one closed rectangle per run)."""
    return "".join(f"M{x} {y}h{n}v1h-{n}z" for x, y, n in dark_runs(qr))


def _mm(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _render_svg(pages: list[list[_Label]], layout: SheetLayout, title: str | None) -> str:
    """The SVG document of the placed pages (stacked vertically)."""
    height = len(pages) * layout.page_height + (len(pages) - 1) * SVG_PAGE_GAP_MM
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": f"{_mm(layout.page_width)}mm",
            "height": f"{_mm(height)}mm",
            "viewBox": f"0 0 {_mm(layout.page_width)} {_mm(height)}",
        },
    )
    ET.SubElement(svg, "title").text = title or "supplytrace labels"
    text_style = {
        "font-family": _SVG_FONT,
        "font-size": _mm(layout.font_size),
        "text-anchor": "middle",
        "fill": "#000",
        "xml:space": "preserve",
    }
    for number, labels in enumerate(pages, start=1):
        offset = (number - 1) * (layout.page_height + SVG_PAGE_GAP_MM)
        page = ET.SubElement(
            svg, "g", {"class": "page", "id": f"page-{number}", "transform": f"translate(0 {_mm(offset)})"}
        )
        ET.SubElement(
            page,
            "rect",
            {
                "width": _mm(layout.page_width),
                "height": _mm(layout.page_height),
                "fill": "#fff",
                "stroke": "#bbb",
                "stroke-width": "0.2",
            },
        )
        header = _header(title, number, len(pages))
        if header is not None:
            ET.SubElement(
                page,
                "text",
                {
                    "x": _mm(layout.margin_left),
                    "y": _mm(layout.margin_top * 0.6),
                    "font-family": _SVG_FONT,
                    "font-size": _mm(_HEADER_FONT_PT * _PT_MM),
                    "fill": "#000",
                },
            ).text = header
        for label in labels:
            group = ET.SubElement(page, "g", {"class": "label"})
            ET.SubElement(group, "title").text = label.uri
            ET.SubElement(
                group,
                "path",
                {
                    "class": "qr",
                    "transform": f"translate({_mm(label.qr_x)} {_mm(label.qr_y)}) scale({label.module:.6f})",
                    "d": _run_path(label.qr),
                    "fill": "#000",
                    "shape-rendering": "crispEdges",
                },
            )
            for baseline, line in label.lines:
                attrs = {"x": _mm(label.text_x), "y": _mm(baseline), **text_style}
                ET.SubElement(group, "text", attrs).text = line
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n"


def _render_pdf(pages: list[list[_Label]], layout: SheetLayout, title: str | None, path: Path) -> None:
    """Write the placed pages as a PDF, one page per sheet (reportlab, vector QR codes)."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    page_height = layout.page_height * mm
    canvas = Canvas(str(path), pagesize=(layout.page_width * mm, page_height), invariant=True)
    canvas.setCreator("supplytrace")
    canvas.setTitle(title or "supplytrace labels")
    for number, labels in enumerate(pages, start=1):
        header = _header(title, number, len(pages))
        if header is not None:
            canvas.setFont(_PDF_FONT, _HEADER_FONT_PT)
            canvas.drawString(layout.margin_left * mm, page_height - layout.margin_top * 0.6 * mm, header)
        for label in labels:
            canvas.saveState()
            # Module coordinates run left-to-right, top-to-bottom like the SVG's: flip the y axis.
            canvas.translate(label.qr_x * mm, page_height - label.qr_y * mm)
            canvas.scale(label.module * mm, -label.module * mm)
            modules = canvas.beginPath()
            for x, y, n in dark_runs(label.qr):
                modules.rect(x, y, n, 1)
            canvas.drawPath(modules, stroke=0, fill=1)
            canvas.restoreState()
            canvas.setFont(_PDF_FONT, layout.font_size_pt)
            for baseline, line in label.lines:
                canvas.drawCentredString(label.text_x * mm, page_height - baseline * mm, line)
        canvas.showPage()
    canvas.save()


def write_label_sheet(
    keys: Sequence[ItemKey],
    base: str,
    svg_path: str | Path | None = None,
    pdf_path: str | Path | None = None,
    *,
    title: str | None = None,
    layout: SheetLayout = A4_24,
    origins: Mapping[bytes, str] | None = None,
) -> list[Path]:
    """Write a label sheet for ``keys`` (QR codes on resolver ``base``) as SVG and/or PDF.

    ``title`` names the document and, when given, is printed in each page's top margin with the
    page number. ``origins`` maps an item id to the origin line its label prints under the HRI
    text (an item of a blended lot: ``core.lineage.origin_label``). Returns the paths written
    (SVG first).
    """
    if not keys:
        raise ValueError("no items to put on labels.")
    if svg_path is None and pdf_path is None:
        raise ValueError("give svg_path, pdf_path or both: where should the label sheet go?")
    pages = _paginate(keys, base, layout, origins or {})
    written: list[Path] = []
    if svg_path is not None:
        target = Path(svg_path)
        target.write_text(_render_svg(pages, layout, title), encoding="utf-8")
        written.append(target)
    if pdf_path is not None:
        target = Path(pdf_path)
        _render_pdf(pages, layout, title, target)
        written.append(target)
    return written
