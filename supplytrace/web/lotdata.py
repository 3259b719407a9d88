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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from supplytrace.core.hashing import keccak
from supplytrace.core.metadata import MetadataError, parse_metadata
from supplytrace.core.text import display
from supplytrace.web.i18n import N_, country, in_language, is_language_map
from supplytrace.web.i18n import gettext as _

State = Literal["verified", "mismatch", "missing", "invalid"]

#: Keys shown first, in this order, with these labels; any other key follows, alphabetically.
KNOWN_KEYS = {
    "product": N_("Product"),
    "brand": N_("Brand named in the lot details"),
    "origin": N_("Origin"),
    "harvestDate": N_("Harvest date"),
    "productionDate": N_("Production date"),
    "bestBefore": N_("Best before"),
    "certificates": N_("Certificates"),
}
#: Inside an object, these keys come first (``type: lab-test; lab: ...``), the rest keep their order.
_FIRST = ("type", "name", "country", "region")
#: An origin's places, the most precise first; ``country`` is an ISO 3166-1 alpha-2 code.
ORIGIN_PLACES = ("place", "locality", "city", "region")
#: The most characters of one text, and the most lines (or certificates) of one fact, a page
#: shows: the brand writes what JSON it likes, and the page stays small whatever it holds.
TEXT_LIMIT = 200
FACT_LINES = 12
FACTS = 24
_WEB_LINK = re.compile(r"https?://[!-~]+", re.IGNORECASE)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class LotMetadata:
    state: State
    document: dict[str, Any] | None  # only when state == "verified"


@dataclass(frozen=True)
class Certificate:
    """A certificate as a named document: what it is, its SHA-256 fingerprint (``fingerprint``:
    the first 8 and last 4 hex digits) and a link to verify it (http or https only; ``host`` is
    the site it opens), and any other key as a line of ``notes``."""

    name: str
    sha256: str | None = None
    fingerprint: str | None = None
    url: str | None = None
    host: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FactRow:
    label: str
    lines: list[str]
    certificates: list[Certificate] = field(default_factory=list)


def text(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A text of the metadata as the page shows it: control characters made visible,
    bidirectional and other format characters dropped (:func:`core.text.display`), at most
    ``limit`` characters."""
    return display(str(value).encode("utf-8", "surrogatepass"), limit)


def humanize(key: str) -> str:
    """``harvestDate`` -> ``Harvest date``, ``lab_test`` -> ``Lab test``."""
    key = text(key)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ").split()
    shown = " ".join(words).lower()
    return shown[:1].upper() + shown[1:] if shown else key


def render_value(value: Any) -> list[str]:
    """A JSON value as lines of plain text (one line per list element); a text in several
    languages (:func:`~supplytrace.web.i18n.is_language_map`) in the reader's."""
    if is_language_map(value):
        return [text(in_language(value))]
    if isinstance(value, list):
        return [line for item in value for line in render_value(item)] or [_("none")]
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (k not in _FIRST, _FIRST.index(k) if k in _FIRST else 0))
        joined = "; ".join(f"{humanize(str(k)).lower()}: {' '.join(render_value(value[k]))}" for k in keys)
        return [text(joined)]
    if isinstance(value, bool):
        return [_("yes") if value else _("no")]
    if value is None:
        return [_("none")]
    return [text(value)]


def _note(key: str, value: Any) -> str:
    return _("%(key)s: %(value)s", key=humanize(key), value=text(" ".join(render_value(value))))


def _place(value: Any) -> str | None:
    """A place of an origin: a text, or a text in several languages in the reader's."""
    if is_language_map(value):
        return str(in_language(value))
    return value if isinstance(value, str) else None


def _listed(names: list[str]) -> str:
    """``Banat, Romania`` (``巴纳特、罗马尼亚``): names listed the reader's way."""
    joined = names[0]
    for name in names[1:]:
        joined = _("%(first)s, %(next)s", first=joined, next=name)
    return joined


def _country(code: str) -> str:
    """An ISO 3166-1 alpha-2 code's country in the reader's language; any other text as it is."""
    return country(code) or code


def origin_lines(value: Any, verb: str) -> list[str]:
    """An origin as sentences: ``{"country": "RO", "region": "Banat"}`` -> ``Harvested in Banat,
    Romania``; its other keys follow as ``Key: value`` lines; a text is shown as it is."""
    if isinstance(value, list):
        return [line for item in value for line in origin_lines(item, verb)] or [_("none")]
    if not isinstance(value, dict):
        return render_value(value)
    places = [k for k in (*ORIGIN_PLACES, "country") if (_place(value.get(k)) or "").strip()]
    names = [text(_country(_place(value[k]) or "") if k == "country" else _place(value[k])) for k in places]
    lines = [_(verb, places=_listed(names))] if names else []
    return lines + [_note(str(k), v) for k, v in value.items() if k not in places]


def _certificate(value: Any) -> Certificate:
    if not isinstance(value, dict):
        return Certificate(name=" ".join(render_value(value)))
    fields = dict(value)
    name = fields.pop("name", None)
    if is_language_map(name):
        name = in_language(name)
    if not isinstance(name, str) or not name.strip():
        kind = fields.get("type")
        name = humanize(kind) if isinstance(kind, str) and kind.strip() else _("Certificate")
        fields.pop("type", None)
    found: dict[str, Any] = {}
    notes = []
    if "sha256" in fields:
        sha = fields.pop("sha256")
        if isinstance(sha, str) and _SHA256.fullmatch(sha):
            found.update(sha256=sha.lower(), fingerprint=f"{sha[:8].lower()}…{sha[-4:].lower()}")
        else:
            notes.append(_("SHA-256 (not a valid fingerprint): %(value)s", value=text(sha)))
    if "url" in fields:
        url = fields.pop("url")
        host = urlsplit(url).hostname if isinstance(url, str) and _WEB_LINK.fullmatch(url) else None
        if isinstance(url, str) and host and len(url) <= TEXT_LIMIT:
            found.update(url=url, host=host)
        else:
            notes.append(_("Link (not a web address, so not opened): %(value)s", value=text(url)))
    notes += [_note(str(k), v) for k, v in fields.items()]
    return Certificate(name=text(name), notes=notes[:FACT_LINES], **found)


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= FACT_LINES:
        return lines
    return [*lines[:FACT_LINES], _("… and %(count)s more", count=len(lines) - FACT_LINES)]


def facts(document: dict[str, Any], *, brand_name: str | None = None) -> list[FactRow]:
    """A row for every top-level key (at most :data:`FACTS`), the known ones first; ``brand`` is
    left out when it repeats ``brand_name`` (the verified name shown anyway). The origin reads as
    a sentence (:func:`origin_lines`), each certificate as a named document (:class:`Certificate`)."""
    keys = [k for k in KNOWN_KEYS if k in document] + sorted(k for k in document if k not in KNOWN_KEYS)
    if brand_name is not None and document.get("brand") == brand_name:
        keys.remove("brand")
    verb = (
        N_("Harvested in %(places)s")
        if "harvestDate" in document
        else N_("Produced in %(places)s")
        if "productionDate" in document
        else N_("From %(places)s")
    )
    rows = []
    for key in keys[:FACTS]:
        label, value = _(KNOWN_KEYS[key]) if key in KNOWN_KEYS else humanize(key), document[key]
        if key == "certificates":
            listed = value if isinstance(value, list) else [value]
            rows.append(FactRow(label, [], [_certificate(c) for c in listed[:FACT_LINES]]))
        elif key == "origin":
            rows.append(FactRow(label, _capped(origin_lines(value, verb))))
        else:
            rows.append(FactRow(label, _capped(render_value(value))))
    return rows


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
