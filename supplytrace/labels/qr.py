"""QR codes that carry an item's GS1 Digital Link URI, the code a consumer scans.

The encoded text is exactly ``ItemKey.digital_link(base)``: a plain QR Code (ISO/IEC 18004, no
FNC1/GS1 mode, no ECI) holding the URI, as GS1 Digital Link prescribes, so any phone camera opens
it and any GS1-aware scanner can read the GS1 keys back out of it. Symbol choices, fixed for every
code so that what is documented is what is printed:

- **Error correction level Q** (about 25 % of the codewords recoverable). Labels on goods get
  scuffed, creased, wrapped round bottles and partly covered by tape; Q survives that better
  than M (15 %) and stays smaller than H (30 %). segno's ``boost_error`` is switched off, so
  segno never raises the level behind our back: every symbol reports exactly ``Q``.
- **Quiet zone of 4 modules**, the minimum ISO/IEC 18004 requires for QR Code, in every output.
- **Never a Micro QR**: phone cameras do not read Micro QR, and a URI does not fit one anyway.
- Version (size) and mask are left to segno: the smallest version that holds the URI at level Q.

Before encoding, the URI is parsed back and must name the same item (and lot): a label that
resolves to another item is the one failure a provenance label must never have.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import segno

from supplytrace.core.ids import IdentityError, ItemKey

#: QR error correction level of every symbol (see the module documentation).
ERROR_LEVEL = "Q"
#: Quiet zone, in modules, around every symbol (ISO/IEC 18004 minimum for QR Code).
QUIET_ZONE = 4
#: PNG pixels per module: a typical URI (version 6) gives 490 px square, crisp at 300 dpi up to 41 mm.
DEFAULT_PNG_SCALE = 10
#: SVG module size in millimetres: a typical URI (version 6) is then 24.5 mm square, quiet zone included.
DEFAULT_SVG_MODULE_MM = 0.5


def checked_uri(key: ItemKey, base: str) -> str:
    """``key.digital_link(base)``, verified to parse back to ``key`` (same GTIN, serial and lot).

    Raises :class:`~supplytrace.core.ids.IdentityError` otherwise.
    """
    uri = key.digital_link(base)
    if ItemKey.from_digital_link(uri) != key:
        raise IdentityError(
            f"the Digital Link URI {uri!r} does not identify {key}; refusing to print a code "
            "that resolves to another item."
        )
    return uri


def make_qr(key: ItemKey, base: str) -> segno.QRCode:
    """The QR symbol of ``key``'s Digital Link URI on resolver ``base`` (level Q, never boosted)."""
    return encode_uri(checked_uri(key, base))


def encode_uri(uri: str) -> segno.QRCode:
    """The QR symbol of ``uri`` with this module's fixed settings (prefer :func:`make_qr` for items)."""
    return segno.make(uri, error=ERROR_LEVEL, boost_error=False, micro=False)


def qr_png_bytes(key: ItemKey, base: str, *, scale: int = DEFAULT_PNG_SCALE) -> bytes:
    """The QR code of ``key`` as a black-on-white PNG, ``scale`` pixels per module."""
    out = io.BytesIO()
    make_qr(key, base).save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()


def qr_png(key: ItemKey, base: str, path: str | Path, *, scale: int = DEFAULT_PNG_SCALE) -> Path:
    """Write :func:`qr_png_bytes` to ``path`` and return it."""
    return _write(path, qr_png_bytes(key, base, scale=scale))


def qr_svg_text(key: ItemKey, base: str, *, module_mm: float = DEFAULT_SVG_MODULE_MM) -> str:
    """The QR code of ``key`` as a standalone SVG document sized in millimetres.

    The URI is the SVG's ``<title>`` (shown as a tooltip, read by screen readers).
    """
    uri = checked_uri(key, base)
    out = io.BytesIO()
    encode_uri(uri).save(out, kind="svg", scale=module_mm, unit="mm", border=QUIET_ZONE, title=uri)
    return out.getvalue().decode("utf-8")


def qr_svg(key: ItemKey, base: str, path: str | Path, *, module_mm: float = DEFAULT_SVG_MODULE_MM) -> Path:
    """Write :func:`qr_svg_text` to ``path`` and return it."""
    return _write(path, qr_svg_text(key, base, module_mm=module_mm).encode("utf-8"))


def dark_runs(qr: segno.QRCode) -> Iterator[tuple[int, int, int]]:
    """Horizontal runs of dark modules as ``(column, row, length)``, quiet zone included.

    Coordinates count modules from the top-left corner of the symbol *with* its quiet zone, so a
    renderer scales them by the module size and draws one rectangle per run: the label sheet
    draws QR codes this way as vector shapes in both SVG and PDF.
    """
    for row, modules in enumerate(qr.matrix):
        column = 0
        width = len(modules)
        while column < width:
            if modules[column]:
                start = column
                while column < width and modules[column]:
                    column += 1
                yield start + QUIET_ZONE, row + QUIET_ZONE, column - start
            else:
                column += 1


def symbol_modules(qr: segno.QRCode) -> int:
    """Width (= height) of a symbol in modules, quiet zone included."""
    return len(qr.matrix) + 2 * QUIET_ZONE


def _write(path: str | Path, data: bytes) -> Path:
    target = Path(path)
    target.write_bytes(data)
    return target
