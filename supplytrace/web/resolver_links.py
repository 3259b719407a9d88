"""A brand's own links (GS1 link types such as ``gs1:certificationInfo`` pointing at its web
site), per GTIN or per GTIN and lot: the resolver table, read once when the page starts from
the file ``SUPPLYTRACE_RESOLVER_LINKS`` names (TOML or JSON; ``docs/resolver.md``).

Every entry is checked at start: a file the page cannot trust stops it with one sentence naming
the entry and the fix. An item's links are those of its lot, then those of its GTIN (the
standard: links "from every level up to the primary key").
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.ids import IdentityError, check_code, normalize_gtin
from supplytrace.web.resolver import LINK_TYPES, Link, link_type_of

#: Bounds of a links file: its size, its entries, the links of one GTIN or lot, and each field.
MAX_FILE_BYTES = 1_000_000
MAX_ENTRIES = 10_000
MAX_LINKS_PER_KEY = 32
MAX_URL = 2000
MAX_TITLE = 200
MAX_NESTING = 16
_FIELDS = {"gtin", "lot", "type", "href", "title", "media", "lang"}


class ResolverLinksError(SupplytraceError):
    """The links file cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class ResolverLinks:
    """The resolver table: links by GTIN-14, and by (GTIN-14, lot code)."""

    by_gtin: Mapping[str, tuple[Link, ...]] = field(default_factory=dict)
    by_lot: Mapping[tuple[str, str], tuple[Link, ...]] = field(default_factory=dict)
    #: Re-issued codes: a GTIN printed on labels that the brand now registers under another
    #: (a corrected GTIN): its links resolve to the new GTIN's (301) where the old code names
    #: nothing on the chain. Old GTIN-14 -> new GTIN-14.
    moved: Mapping[str, str] = field(default_factory=dict)

    def links(self, gtin14: str, lot: str | None = None) -> list[Link]:
        """The links of a GTIN, or of a lot of it: the lot's, then the GTIN's."""
        own = self.by_lot.get((gtin14, lot), ()) if lot is not None else ()
        return [*own, *self.by_gtin.get(gtin14, ())]

    def has_lots(self, gtin14: str) -> bool:
        """Whether some lot of ``gtin14`` has links of its own."""
        return gtin14 in self._lot_gtins

    @functools.cached_property
    def _lot_gtins(self) -> frozenset[str]:
        return frozenset(gtin for gtin, _lot in self.by_lot)

    def __len__(self) -> int:
        return sum(map(len, self.by_gtin.values())) + sum(map(len, self.by_lot.values()))


NO_LINKS = ResolverLinks()


def load_links(path: Path) -> ResolverLinks:
    """The table in ``path`` (``.toml`` or ``.json``: a list ``links`` of entries), checked."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ResolverLinksError(
                f"resolver links file {path} is {size:,} bytes, more than {MAX_FILE_BYTES:,}; "
                "keep one brand's links in it."
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResolverLinksError(
            f"cannot read resolver links file {path} ({exc.strerror}); check SUPPLYTRACE_RESOLVER_LINKS."
        ) from None
    except UnicodeDecodeError:
        raise ResolverLinksError(f"resolver links file {path} is not UTF-8 text; save it as UTF-8.") from None
    if _nesting(text) > MAX_NESTING:  # before parsing: a C parser nested deep enough crashes
        raise ResolverLinksError(
            f"resolver links file {path} nests brackets more than {MAX_NESTING} deep; "
            "it holds only a list of links."
        )
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ResolverLinksError(
            f"resolver links file {path} is not valid {kind} ({exc}); fix its syntax."
        ) from None
    moved = _moved(path, document.get("moved", []) if isinstance(document, dict) else [])
    entries = document.get("links", [] if moved else None) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ResolverLinksError(
            f"resolver links file {path} must hold a list named links ([[links]] in TOML); "
            "see docs/resolver.md."
        )
    if len(entries) > MAX_ENTRIES:
        raise ResolverLinksError(
            f"resolver links file {path} has {len(entries):,} links, more than {MAX_ENTRIES:,}."
        )
    by_gtin: dict[str, list[Link]] = {}
    by_lot: dict[tuple[str, str], list[Link]] = {}
    for number, entry in enumerate(entries, 1):
        try:
            gtin, lot, link = _entry(entry)
        except ValueError as exc:
            raise ResolverLinksError(f"resolver links file {path}, link {number}: {exc}") from None
        links = by_gtin.setdefault(gtin, []) if lot is None else by_lot.setdefault((gtin, lot), [])
        if len(links) == MAX_LINKS_PER_KEY:
            raise ResolverLinksError(
                f"resolver links file {path}, link {number}: more than {MAX_LINKS_PER_KEY} links for one "
                "GTIN or lot; keep the ones a shopper needs."
            )
        links.append(link)
    return ResolverLinks(
        {k: tuple(v) for k, v in by_gtin.items()}, {k: tuple(v) for k, v in by_lot.items()}, moved
    )


def _moved(path: Path, entries: Any) -> dict[str, str]:
    """The file's re-issued GTINs (``[[moved]]`` tables of ``gtin`` and ``to``), checked: each
    old GTIN once, never to itself, and never to a GTIN that moved on (no chains, no loops)."""
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise ResolverLinksError(
            f"resolver links file {path}: moved must be a list ([[moved]] in TOML) of at most "
            f"{MAX_ENTRIES:,} tables with gtin and to; see docs/resolver.md."
        )
    moved: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        where = f"resolver links file {path}, moved {number}"
        if not isinstance(entry, dict) or set(entry) != {"gtin", "to"}:
            raise ResolverLinksError(f"{where}: give exactly gtin (the printed one) and to (the new one).")
        try:
            old, new = (normalize_gtin(_text(entry, name, 14)) for name in ("gtin", "to"))
        except (IdentityError, ValueError) as exc:
            raise ResolverLinksError(f"{where}: {exc}") from None
        if old == new or old in moved:
            raise ResolverLinksError(f"{where}: GTIN {old} is moved twice or to itself; keep one entry.")
        moved[old] = new
    chained = next((old for old, new in moved.items() if new in moved), None)
    if chained is not None:
        raise ResolverLinksError(
            f"resolver links file {path}: GTIN {chained} moves to {moved[chained]}, which moves on; "
            "point every old GTIN at the current one."
        )
    return moved


def _entry(entry: Any) -> tuple[str, str | None, Link]:
    """(GTIN-14, lot code or None, the link) of one entry; ValueError with the fix."""
    if not isinstance(entry, dict):
        raise ValueError("each link is a table with gtin, type, href and title; see docs/resolver.md.")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; use only {', '.join(sorted(_FIELDS))}.")
    try:
        gtin = normalize_gtin(_text(entry, "gtin", 14))
        lot = check_code(entry["lot"], "lot code") if "lot" in entry else None
    except IdentityError as exc:
        raise ValueError(str(exc)) from None
    kind = link_type_of(_text(entry, "type", 100))
    if kind is None or kind in ("linkset", "defaultLink"):
        raise ValueError(
            f"type {entry['type']!r} is not a GS1 link type this resolver knows; use one such as "
            f"gs1:certificationInfo ({len(LINK_TYPES) - 1} are listed in supplytrace/web/resolver.py)."
        )
    href = _text(entry, "href", MAX_URL)
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.netloc or not _plain(href):
        raise ValueError(
            f"href {href[:80]!r} must be an http:// or https:// address of printable ASCII "
            "(percent-encode the rest)."
        )
    title = _text(entry, "title", MAX_TITLE)
    if not title.isprintable():
        raise ValueError("title must be printable text on one line.")
    media = entry.get("media", "text/html")
    if not (isinstance(media, str) and 0 < len(media) <= 100 and _plain(media) and "/" in media):
        raise ValueError(f"media {media!r} must be a media type such as text/html or application/pdf.")
    langs = entry.get("lang", [])
    langs = [langs] if isinstance(langs, str) else langs
    if not (isinstance(langs, list) and len(langs) <= 8 and all(_language(x) for x in langs)):
        raise ValueError("lang must be a language tag such as en or zh-CN, or a list of them.")
    return gtin, lot, Link(kind, href, title, media, tuple(langs))


def _nesting(text: str) -> int:
    """How deep the file's brackets nest (those in strings too: an upper bound), without parsing."""
    depth = deepest = 0
    for bracket in re.sub(r"[^\[\]{}]+", "", text):
        depth = depth + 1 if bracket in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    return deepest


def _text(entry: dict[str, Any], name: str, limit: int) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is missing or empty; give it as text.")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters; shorten it.")
    return value.strip()


def _plain(text: str) -> bool:
    """Printable ASCII with nothing that would end a header value or a URI in one: no space,
    quote, comma, semicolon or angle bracket."""
    return all(33 <= ord(c) < 127 and c not in '"<>,;\\' for c in text)


def _language(tag: Any) -> bool:
    return (
        isinstance(tag, str)
        and 0 < len(tag) <= 35
        and all(p.isalnum() and p.isascii() for p in tag.split("-"))
    )
