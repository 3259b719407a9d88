"""keccak256 and EIP-55 checksummed addresses, without eth_utils' import cost on every command."""

from __future__ import annotations

import re
from functools import lru_cache

from Crypto.Hash import keccak as _keccak

ZERO_ADDRESS = "0x" + "00" * 20
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def keccak(data: bytes) -> bytes:
    """keccak256 of ``data`` (Ethereum's, not SHA3-256)."""
    return _keccak.new(digest_bits=256, data=bytes(data)).digest()


def keccak_text(text: str) -> bytes:
    return keccak(text.encode("utf-8"))


@lru_cache(maxsize=65536)
def checksum(address: bytes | str) -> str:
    """The EIP-55 form of a 20-byte address (bytes, or hex text with or without 0x)."""
    hex_address = (
        bytes(address).hex() if isinstance(address, bytes | bytearray) else address.lower().removeprefix("0x")
    )
    if len(hex_address) != 40:
        raise ValueError(f"{address!r} is not a 20-byte address")
    digest = keccak(hex_address.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(hex_address, digest[:40], strict=True)
    )


def is_address(text: str) -> bool:
    """0x and 40 hex digits; mixed case must be a valid EIP-55 checksum."""
    if not isinstance(text, str) or not _ADDRESS.fullmatch(text):
        return False
    body = text[2:]
    if body == body.lower() or body == body.upper():
        return True
    return checksum(text) == text


def address_or_none(word: bytes) -> str | None:
    """A 32-byte ABI word holding an address: its checksummed form, None for address(0)."""
    tail = bytes(word)[-20:]
    return None if not any(tail) else checksum(tail)
