"""Lot metadata for the page: the canonical JSON kept under ``$SUPPLYTRACE_HOME/metadata`` by its hash,
re-hashed before anything in it is shown.

``lot create`` (and the demo) store each lot's metadata as ``metadata/0x<keccak>.json`` holding
its RFC 8785 canonical bytes. The page trusts nothing about that file: it hashes the bytes it
read and shows the facts only if they hash to the value recorded on chain for the lot.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from supplytrace.core.hashing import keccak
from supplytrace.core.metadata import MetadataError, parse_metadata

State = Literal["verified", "mismatch", "missing", "invalid"]

#: Keys shown first, in this order, with these labels; any other key follows, alphabetically.
KNOWN_KEYS = {
    "product": "Product",
    "brand": "Brand named in the lot details",
    "origin": "Origin",
    "harvestDate": "Harvest date",
    "productionDate": "Production date",
    "bestBefore": "Best before",
    "certificates": "Certificates",
}
#: Inside an object, these keys come first (``type: lab-test; lab: ...``), the rest keep their order.
_FIRST = ("type", "name", "country", "region")


@dataclass(frozen=True)
class LotMetadata:
    state: State
    document: dict[str, Any] | None  # only when state == "verified"


def humanize(key: str) -> str:
    """``harvestDate`` -> ``Harvest date``, ``lab_test`` -> ``Lab test``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:] if text else key


def render_value(value: Any) -> list[str]:
    """A JSON value as lines of plain text (one line per list element)."""
    if isinstance(value, list):
        return [line for item in value for line in render_value(item)] or ["none"]
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (k not in _FIRST, _FIRST.index(k) if k in _FIRST else 0))
        return ["; ".join(f"{humanize(str(k)).lower()}: {' '.join(render_value(value[k]))}" for k in keys)]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if value is None:
        return ["none"]
    return [str(value)]


def facts(document: dict[str, Any], *, brand_name: str | None = None) -> list[tuple[str, list[str]]]:
    """(label, lines) for every top-level key, the known ones first; ``brand`` is left out when it
    repeats ``brand_name`` (the verified name shown anyway)."""
    keys = [k for k in KNOWN_KEYS if k in document] + sorted(k for k in document if k not in KNOWN_KEYS)
    if brand_name is not None and document.get("brand") == brand_name:
        keys.remove("brand")
    return [(KNOWN_KEYS.get(k) or humanize(k), render_value(document[k])) for k in keys]


class MetadataStore:
    """Reads ``{folder}/0x<hash>.json`` and checks its keccak256 against the hash on chain.

    A file that checked out is remembered by (size, mtime), so a page view costs one ``stat``;
    a replaced file is read and hashed again.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[bytes, tuple[tuple[int, int], LotMetadata]] = {}
        self._lock = threading.Lock()

    def get(self, metadata_hash: bytes) -> LotMetadata:
        path = self.folder / f"0x{metadata_hash.hex()}.json"
        try:
            stat = os.stat(path)
        except OSError:
            return LotMetadata("missing", None)
        stamp = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(metadata_hash)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        result = self._check(path, metadata_hash)
        with self._lock:
            self._cache[metadata_hash] = (stamp, result)
        return result

    @staticmethod
    def _check(path: Path, metadata_hash: bytes) -> LotMetadata:
        try:
            raw = path.read_bytes()
        except OSError:
            return LotMetadata("missing", None)
        if keccak(raw) != metadata_hash:
            return LotMetadata("mismatch", None)
        try:
            document = parse_metadata(raw.decode("utf-8"))  # strict: no deep nesting, no duplicates
        except (UnicodeDecodeError, json.JSONDecodeError, MetadataError):
            return LotMetadata("invalid", None)
        if not isinstance(document, dict):
            return LotMetadata("invalid", None)
        return LotMetadata("verified", document)
