"""Product identity: the one derivation of an item id from its GS1 key.

Specified in ``docs/spec/item-id.md``; the contract computes the same value
(``ProvenanceRegistry.itemIdOf``)::

    item_id = keccak256(abi.encode(uint256 gtin14, bytes32 serial))

``gtin14`` is the GTIN-14 read as an integer; ``serial`` is the GS1 serial number (AI 21, 1-20
characters of GS1's 82-character set) as ASCII bytes, left-aligned and zero-padded to 32 bytes.
Lot codes (AI 10) are encoded the same way. Parsing and check digits come from ``biip``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gtin import Gtin
from eth_abi import encode
from eth_utils import keccak

MAX_CODE_LENGTH = 20
#: GS1 General Specifications, figure 7.11-1: the 82 characters allowed in AI 10 and AI 21.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


class IdentityError(ValueError):
    """A GTIN, serial, lot code, item id or Digital Link URI is not valid; the message says why."""


def normalize_gtin(value: str | int) -> str:
    """The GTIN-14 form (14 digits) of a GTIN-8, -12, -13 or -14, check digit verified."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise IdentityError(f"GTIN {text!r} must contain digits only (8, 12, 13 or 14 of them).")
    try:
        gtin14 = Gtin.parse(text).as_gtin_14()
    except ParseError as exc:
        raise IdentityError(f"GTIN {text!r} is not valid: {exc}") from None
    if int(gtin14) == 0:
        raise IdentityError(f"GTIN {text!r} is all zeros; use the GTIN printed on the pack.")
    return gtin14


def check_code(value: str, what: str = "serial") -> str:
    """Validate a GS1 serial (AI 21) or lot code (AI 10): 1-20 characters of the 82-character set."""
    if not isinstance(value, str) or not _CSET82.fullmatch(value):
        raise IdentityError(
            f"{what} {value!r} must be 1 to 20 characters of GS1's 82-character set "
            "(letters, digits and !\"%&'()*+,-./:;<=>?_)."
        )
    return value


def encode_code(value: str, what: str = "serial") -> bytes:
    """The bytes32 form of a serial or lot code: ASCII, left-aligned, zero-padded."""
    return check_code(value, what).encode("ascii").ljust(32, b"\0")


def decode_code(value: bytes) -> str:
    """Inverse of :func:`encode_code`."""
    return bytes(value).rstrip(b"\0").decode("ascii")


def item_id(gtin: str | int, serial: str) -> bytes:
    """The 32-byte item id of GTIN + serial (see the module documentation)."""
    gtin14 = normalize_gtin(gtin)
    return keccak(encode(["uint256", "bytes32"], [int(gtin14), encode_code(serial)]))


def parse_item_id(value: str) -> bytes:
    """A 0x-prefixed 64-hex-digit item id as bytes."""
    text = value.strip().lower()
    if not re.fullmatch(r"0x[0-9a-f]{64}", text):
        raise IdentityError(f"{value!r} is not an item id: expected 0x followed by 64 hex digits.")
    return bytes.fromhex(text[2:])


@dataclass(frozen=True)
class ItemKey:
    """The GS1 key of one physical item (SGTIN), optionally with its lot code."""

    gtin: str  # GTIN-14
    serial: str
    lot: str | None = None

    @classmethod
    def create(cls, gtin: str | int, serial: str, lot: str | None = None) -> ItemKey:
        return cls(
            gtin=normalize_gtin(gtin),
            serial=check_code(serial, "serial"),
            lot=None if lot is None else check_code(lot, "lot code"),
        )

    @property
    def id(self) -> bytes:
        return item_id(self.gtin, self.serial)

    @property
    def id_hex(self) -> str:
        return "0x" + self.id.hex()

    def digital_link(self, base: str) -> str:
        """The GS1 Digital Link URI on resolver ``base`` (e.g. ``https://id.example.com``).

        Qualifiers in GS1 order (``/01/{gtin14}/10/{lot}/21/{serial}``), each value
        percent-encoded as one path segment (GS1 Digital Link URI syntax 1.2, section 4; the same
        encoding biip renders). Built directly rather than through GS1 element-string text, which
        is slow for large batches and would read "(" and ")" in a lot or serial as AI brackets;
        ``from_digital_link`` (biip) parses every such URI back to the same key (tested).
        """
        path = f"/01/{self.gtin}"
        if self.lot is not None:
            path += f"/10/{quote(self.lot, safe='')}"
        return f"{_check_base(base)}{path}/21/{quote(self.serial, safe='')}"

    @classmethod
    def from_digital_link(cls, uri: str) -> ItemKey:
        """Parse a GS1 Digital Link URI with a GTIN and a serial (lot optional, extra attributes ignored)."""
        try:
            parsed = GS1DigitalLinkURI.parse(uri.strip())
        except ParseError as exc:
            raise IdentityError(f"{uri!r} is not a GS1 Digital Link URI: {exc}") from None
        values = {es.ai.ai: es.value for es in parsed.element_strings}
        if "01" not in values or "21" not in values:
            raise IdentityError(
                f"{uri!r} does not identify one item: it needs a GTIN (/01/) and a serial (/21/)."
            )
        return cls.create(values["01"], values["21"], values.get("10"))


def _check_base(base: str) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise IdentityError(
            f"resolver base {base!r} must be an http(s) URL such as https://id.example.com "
            "(an optional path prefix is allowed; no query string)."
        )
    return base.rstrip("/")
