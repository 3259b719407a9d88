"""QR codes: what a real decoder (zxing-cpp) reads back is exactly the item's Digital Link URI.

PNG codes are decoded as written; SVG codes are rasterized with resvg (a self-contained wheel,
no system libraries) and decoded the same way.
"""

from __future__ import annotations

import io
import string
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import resvg_py
import segno
import zxingcpp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.labels.qr import (
    ERROR_LEVEL,
    QUIET_ZONE,
    dark_runs,
    encode_uri,
    make_qr,
    qr_png,
    qr_png_bytes,
    qr_svg,
    qr_svg_text,
    symbol_modules,
)

BASE = "https://id.example.com"
SVG = "{http://www.w3.org/2000/svg}"
# GS1's 82-character set (AI 10 and 21), including "(" and ")", which must not be read as AI brackets.
CODE_CHARS = (
    "!\"%&'()*+,-./" + string.digits + ":;<=>?" + string.ascii_uppercase + "_" + string.ascii_lowercase
)
NEEDS_ENCODING = "/&%+?\"'"
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def read_qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    """Every QR code zxing-cpp finds in ``image``."""
    return zxingcpp.read_barcodes(image.convert("L"), formats=QR_ONLY)


def decode_png(png: str | Path | bytes) -> str:
    """The text of the single QR code in a PNG file or PNG bytes."""
    data = png if isinstance(png, bytes) else Path(png).read_bytes()
    codes = read_qr_codes(Image.open(io.BytesIO(data)))
    assert len(codes) == 1, f"expected one QR code, found {len(codes)}"
    return codes[0].text


def render_svg(svg: str, *, dpi: float = 0.0) -> Image.Image:
    """Rasterize an SVG document on white (resvg)."""
    return Image.open(io.BytesIO(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", dpi=dpi)))


def _with_check_digit(body: str) -> str:
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


gtins = (
    st.sampled_from([7, 11, 12, 13])
    .flatmap(lambda n: st.text(alphabet=string.digits, min_size=n, max_size=n).map(_with_check_digit))
    .filter(lambda gtin: int(gtin) != 0)
)  # an all-zero GTIN is refused (the contract rejects it)
codes = st.text(alphabet=CODE_CHARS, min_size=1, max_size=20)
item_keys = st.builds(ItemKey.create, gtins, codes, st.none() | codes)

SPECIAL = ItemKey.create("09506000134352", "S/1&%+?\"'", "L/&%+?\"'")
LONGEST = ItemKey.create("09506000134352", NEEDS_ENCODING * 2 + "%%%%%%", "?" * 20)


@settings(max_examples=150, deadline=None)
@given(key=item_keys)
@example(key=SPECIAL)
@example(key=LONGEST)
def test_decode_png__any_item_key__gives_back_its_digital_link(key: ItemKey) -> None:
    text = decode_png(qr_png_bytes(key, BASE, scale=4))

    assert text == key.digital_link(BASE)
    parsed = ItemKey.from_digital_link(text)
    assert parsed.id == key.id
    assert parsed == key


@settings(max_examples=40, deadline=None)
@given(key=item_keys)
@example(key=SPECIAL)
@example(key=LONGEST)
def test_decode_svg__any_item_key__gives_back_its_digital_link(key: ItemKey) -> None:
    image = render_svg(qr_svg_text(key, BASE), dpi=200)

    (code,) = read_qr_codes(image)
    assert code.text == key.digital_link(BASE)
    assert ItemKey.from_digital_link(code.text).id == key.id


def test_qr_png__written_to_a_file__decodes_to_the_digital_link(tmp_path: Path) -> None:
    path = qr_png(SPECIAL, BASE, tmp_path / "item.png")

    assert path == tmp_path / "item.png"
    assert decode_png(path) == SPECIAL.digital_link(BASE)


def test_qr_svg__written_to_a_file__is_svg_titled_with_the_uri(tmp_path: Path) -> None:
    path = qr_svg(SPECIAL, BASE, tmp_path / "item.svg")

    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == SPECIAL.digital_link(BASE)
    (code,) = read_qr_codes(render_svg(path.read_text(), dpi=200))
    assert code.text == SPECIAL.digital_link(BASE)


@pytest.mark.parametrize("key", [ItemKey.create("09506000134352", "1"), SPECIAL, LONGEST])
def test_make_qr__any_uri__error_level_q_as_documented(key: ItemKey) -> None:
    qr = make_qr(key, BASE)

    assert ERROR_LEVEL == "Q"
    assert qr.error == "Q"
    assert qr.designator == f"{qr.version}-Q"
    assert not qr.is_micro
    (code,) = read_qr_codes(Image.open(io.BytesIO(qr_png_bytes(key, BASE, scale=4))))
    assert code.ec_level == "Q"


def test_encode_uri__room_left_for_level_h__level_stays_q() -> None:
    # Digital Link URIs rarely leave room for H in the same version; a short text always does.
    text = "hello world example 12"
    assert segno.make(text, error="Q").error == "H"  # segno's default would boost it

    assert encode_uri(text).error == "Q"


def test_qr_png__any_scale__quiet_zone_of_four_white_modules() -> None:
    scale = 5
    qr = make_qr(SPECIAL, BASE)
    image = Image.open(io.BytesIO(qr_png_bytes(SPECIAL, BASE, scale=scale))).convert("L")
    size = symbol_modules(qr) * scale
    zone = QUIET_ZONE * scale

    assert QUIET_ZONE == 4
    assert symbol_modules(qr) == len(qr.matrix) + 8
    assert image.size == (size, size)
    frame = [(x, y) for x in range(size) for y in range(size) if min(x, y) < zone or max(x, y) >= size - zone]
    assert all(image.getpixel(p) == 255 for p in frame)
    assert image.getpixel((zone, zone)) == 0  # the finder pattern starts right after the zone


def test_qr_svg_text__module_size__symbol_size_includes_quiet_zone() -> None:
    qr = make_qr(SPECIAL, BASE)
    root = ET.fromstring(qr_svg_text(SPECIAL, BASE, module_mm=0.5))

    side = symbol_modules(qr) * 0.5
    assert root.get("width") == f"{side:g}mm"
    assert root.get("viewBox") == f"0 0 {side:g} {side:g}"


def test_dark_runs__any_symbol__cover_exactly_the_dark_modules() -> None:
    qr = make_qr(LONGEST, BASE)
    side = symbol_modules(qr)
    drawn = [[0] * side for _ in range(side)]
    for x, y, length in dark_runs(qr):
        for column in range(x, x + length):
            assert drawn[y][column] == 0, "runs overlap"
            drawn[y][column] = 1

    expected = [[0] * side for _ in range(side)]
    for row, modules in enumerate(qr.matrix):
        for column, dark in enumerate(modules):
            expected[row + QUIET_ZONE][column + QUIET_ZONE] = int(bool(dark))
    assert drawn == expected


def test_make_qr__uri_names_another_item__refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    other_uri = ItemKey.create("09506000134352", "OTHER").digital_link(BASE)
    monkeypatch.setattr(ItemKey, "digital_link", lambda self, base: other_uri)

    with pytest.raises(IdentityError, match="another item"):
        make_qr(SPECIAL, BASE)
