"""QR code generation speed: PNG and SVG codes per second, for distinct items, in memory.

Each rate is measured over a fixed number of codes sized for about two seconds on the reference
machine (2 cores), each for a different serial of one lot, so nothing is cached between codes.
The count includes the whole per-item path a label run takes: the Digital Link URI (biip), its
parse-back check, QR encoding (segno, level Q) and serialization. No chain is needed.

Time is this process's CPU time: the loop is single-threaded, so on an idle machine it equals
wall time, and other work on a busy machine (tests, other benchmarks) does not skew the rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from supplytrace.core.ids import ItemKey
from supplytrace.labels.qr import qr_png_bytes, qr_svg_text

BASE = "https://id.example.com"
GTIN = "09506000134352"
PNG_CODES = 220
SVG_CODES = 330


def _rate(make: Callable[[ItemKey, str], object], count: int) -> float:
    keys = [ItemKey.create(GTIN, f"BENCH{i:06d}", "LOT-BENCH-1") for i in range(count)]
    started = time.process_time()
    for key in keys:
        make(key, BASE)
    return round(count / (time.process_time() - started), 1)


def measure() -> dict[str, float]:
    """``{"qr.png_per_s": ..., "qr.svg_per_s": ...}``."""
    return {"qr.png_per_s": _rate(qr_png_bytes, PNG_CODES), "qr.svg_per_s": _rate(qr_svg_text, SVG_CODES)}
