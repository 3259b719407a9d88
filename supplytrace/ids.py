"""Moved to :mod:`supplytrace.core.ids` (this name goes once every caller has moved)."""

from __future__ import annotations

from supplytrace.core.ids import (  # noqa: F401
    MAX_CODE_LENGTH,
    IdentityError,
    ItemKey,
    check_code,
    encode_code,
    item_id,
    normalize_gtin,
    parse_item_id,
)


def decode_code(value: bytes) -> str:
    """Inverse of :func:`encode_code`."""
    return bytes(value).rstrip(b"\0").decode("ascii")
