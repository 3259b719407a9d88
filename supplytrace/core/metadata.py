"""Lot metadata: canonical JSON (RFC 8785, JCS) and the hash recorded on chain.

``metadata_hash = keccak256(jcs(metadata))``. Anyone holding the JSON can recompute the hash and
compare it with the lot's ``metadataHash`` on chain (``getLot(lotId)``, or the event that
registered the lot).
"""

from __future__ import annotations

import json
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


def load_metadata(path: Path) -> dict[str, Any]:
    """Read a lot metadata JSON file, with a clear error for a missing or malformed file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
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
