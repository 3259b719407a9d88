"""Lot metadata: canonical JSON (RFC 8785, JCS) and the hash recorded on chain.

``metadata_hash = keccak256(jcs(metadata))``. Anyone holding the JSON can recompute the hash and
compare it with the lot's ``metadataHash`` on chain (``getLot(lotId)``, or the event that
registered the lot).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import rfc8785

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.hashing import keccak


class MetadataError(SupplytraceError, ValueError):
    """Lot metadata is not a JSON object that can be canonicalised."""


def canonical_json(metadata: Any) -> bytes:
    """RFC 8785 canonical bytes of a JSON object."""
    if not isinstance(metadata, dict):
        raise MetadataError('lot metadata must be a JSON object, e.g. {"product": "Acacia honey"}.')
    try:
        return rfc8785.dumps(metadata)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MetadataError(f"lot metadata cannot be canonicalised (RFC 8785): {exc}") from None


def metadata_hash(metadata: Any) -> bytes:
    """keccak256 of the canonical JSON of ``metadata``."""
    return keccak(canonical_json(metadata))


#: The deepest nesting lot metadata may have (the object itself is level 1).
MAX_DEPTH = 32


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise MetadataError(f"has the key {key!r} twice; JSON readers disagree on which one counts.")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise MetadataError(f"holds {name}, which is not a JSON number; write a number or a string.")


#: A JSON string (escapes included), and a bracket: what :func:`_too_deep` reads.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str) -> bool:
    """Whether ``text`` opens more than :data:`MAX_DEPTH` arrays or objects inside one another,
    counted over the raw text (strings left out) before any parser recurses into it: json's C
    parser recurses once per level, and with a raised recursion limit a deep enough file
    overflows the C stack (the process dies) before a RecursionError."""
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def parse_metadata(text: str) -> Any:
    """JSON strictly: a key twice, ``NaN`` or ``Infinity``, or more than :data:`MAX_DEPTH` levels
    are refused (:class:`MetadataError`), since parsers disagree on them."""
    if _too_deep(text):
        raise MetadataError(f"nests more than {MAX_DEPTH} levels deep; flatten it.")
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def load_metadata(path: Path) -> dict[str, Any]:
    """Read a lot metadata JSON file (strictly: :func:`parse_metadata`), with a sentence for a
    missing, malformed or ambiguous file."""
    try:
        data = parse_metadata(path.read_text(encoding="utf-8"))
    except MetadataError as exc:
        raise MetadataError(f"metadata file {path} {exc}") from None
    except FileNotFoundError:
        raise MetadataError(f"metadata file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise MetadataError(f"metadata file {path} is not UTF-8 text; save it as UTF-8 JSON.") from None
    except json.JSONDecodeError as exc:
        raise MetadataError(
            f"metadata file {path} is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from None
    if not isinstance(data, dict):
        raise MetadataError(f"metadata file {path} must hold a JSON object.")
    return data


def store_metadata(home: Path, metadata: dict[str, Any]) -> Path:
    """Keep the canonical JSON as ``{home}/metadata/0x<hash>.json`` so the page can serve and prove it."""
    folder = home / "metadata"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"0x{metadata_hash(metadata).hex()}.json"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(canonical_json(metadata))
        tmp.replace(path)
    return path
