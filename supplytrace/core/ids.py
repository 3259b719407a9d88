"""Product identity: GS1 keys, the one derivation of an item id, Digital Link URIs, and the
explaining validators of batch rows.

Specified in ``docs/spec/item-id.md``; the contract computes the same value
(``ProvenanceRegistry.itemIdOf``)::

    item_id = keccak256(abi.encode(uint256 gtin14, bytes32 serial))

``gtin14`` is the GTIN-14 read as an integer; ``serial`` is the GS1 serial number (AI 21, 1-20
characters of GS1's 82-character set) as ASCII bytes, left-aligned and zero-padded to 32 bytes.
Lot codes (AI 10) are encoded the same way. Parsing and check digits come from ``biip``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.hashing import keccak
from supplytrace.core.text import CSET82, CSET82_TEXT

MAX_CODE_LENGTH = 20
#: GS1 General Specifications, figure 7.11-1: the 82 characters allowed in AI 10 and AI 21.
_SHORT_GTIN = re.compile(r"\(01\)(\d{8}|\d{12}|\d{13})(?=\(|$)")
_CSET82_CODE = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_LOT_CREATE = "`supplytrace lot create`"


class IdentityError(SupplytraceError, ValueError):
    """A GTIN, serial, lot code, item id or Digital Link URI is not valid; the message says why."""


def normalize_gtin(value: str | int) -> str:
    """The GTIN-14 form (14 digits) of a GTIN-8, -12, -13 or -14, check digit verified."""
    return _gtin14(str(value).strip())


@functools.lru_cache(maxsize=4096)
def _gtin14(text: str) -> str:
    """(A few products' GTINs are asked again and again: the page parses one per scan.)"""
    from biip import ParseError
    from biip.gtin import Gtin

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
    if not isinstance(value, str) or not _CSET82_CODE.fullmatch(value):
        raise IdentityError(
            f"{what} {value!r} must be 1 to 20 characters of GS1's 82-character set ({CSET82_TEXT})."
        )
    return value


def encode_code(value: str, what: str = "serial") -> bytes:
    """The bytes32 form of a serial or lot code: ASCII, left-aligned, zero-padded."""
    return check_code(value, what).encode("ascii").ljust(32, b"\0")


def item_id_of(gtin14: str | int, serial: str) -> bytes:
    """The item id of a checked GTIN-14 and serial: keccak256(abi.encode(uint256, bytes32))."""
    return keccak(int(gtin14).to_bytes(32, "big") + serial.encode("ascii").ljust(32, b"\0"))


def item_id(gtin: str | int, serial: str) -> bytes:
    """The 32-byte item id of GTIN + serial (see the module documentation), both checked."""
    return item_id_of(normalize_gtin(gtin), check_code(serial))


def normalize_sscc(value: str | int) -> str:
    """The 18 digits of a GS1 SSCC (AI 00, a case's or pallet's code), check digit verified."""
    from biip import ParseError
    from biip.sscc import Sscc

    # The chain keeps an SSCC as an integer: its leading zeros (extension digit 0) are restored.
    text = f"{value:018d}" if isinstance(value, int) and value >= 0 else str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) != 18:
        raise IdentityError(f"SSCC {text!r} must be 18 digits (the number after (00) on the label).")
    try:
        Sscc.parse(text)
    except ParseError as exc:
        raise IdentityError(f"SSCC {text!r} is not valid: {exc}") from None
    if int(text) == 0:
        raise IdentityError("SSCC 0 is not an SSCC; use the code printed on the case or pallet.")
    return text


def container_id(sscc: str | int) -> bytes:
    """The registry's id of the container with SSCC ``sscc``: ``keccak256(abi.encode(0, sscc))``
    (GTIN 0 names no GTIN, so no item key collides); ``ProvenanceRegistry.containerIdOf``."""
    return keccak((0).to_bytes(32, "big") + int(normalize_sscc(sscc)).to_bytes(32, "big"))


def sscc_with_check_digit(body: str) -> str:
    """The SSCC of its first 17 digits (extension digit, company prefix, serial reference)."""
    from biip.checksums import gs1_standard_check_digit

    if not (body.isascii() and body.isdigit()) or len(body) != 17:
        raise IdentityError(f"{body!r} must be the 17 digits of an SSCC before its check digit.")
    return body + str(gs1_standard_check_digit(body))


_CONTAINER = re.compile(r"(?:\(00\)|00)?(\d{18})")
_CONTAINER_LINK = re.compile(r"https?://[^?#]*/00/(\d{18})(?:[/?#].*)?")


def sscc_of(text: str) -> str | None:
    """The SSCC (18 digits, check digit verified) that ``text`` names a container by: ``(00)``
    and 18 digits, ``00`` and 18 digits, the 18 digits alone, or a GS1 Digital Link URI with
    ``/00/`` and 18 digits; None if ``text`` names no container (an item, say)."""
    compact = "".join(str(text).split())
    match = _CONTAINER.fullmatch(compact) or _CONTAINER_LINK.fullmatch(compact)
    return normalize_sscc(match.group(1)) if match else None


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

    @functools.cached_property
    def id(self) -> bytes:  # computed once: a page asks for it several times
        return item_id_of(self.gtin, self.serial)

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
        return f"{_check_base(base)}{self.path}"

    @property
    def path(self) -> str:
        """The URI path of :meth:`digital_link`: ``/01/{gtin14}[/10/{lot}]/21/{serial}``."""
        path = f"/01/{self.gtin}"
        if self.lot is not None:
            path += f"/10/{quote(self.lot, safe='')}"
        return f"{path}/21/{quote(self.serial, safe='')}"

    @classmethod
    def from_hri(cls, text: str) -> ItemKey:
        """The key of a GS1 human-readable line as a label prints it, ``(01) GTIN (10) LOT (21)
        SERIAL`` (spaces optional: no GS1 code holds one)."""
        from biip import ParseError
        from biip.gs1_messages import GS1Message

        compact = "".join(text.split())
        # A GTIN-8, -12 or -13 typed after (01) is padded to the 14 digits the AI holds.
        compact = _SHORT_GTIN.sub(lambda m: "(01)" + m.group(1).zfill(14), compact)
        try:
            message = GS1Message.parse_hri(compact)
        except ParseError as exc:
            raise IdentityError(f"{text!r} is not a GS1 human-readable line: {exc}") from None
        values = {es.ai.ai: es.value for es in message.element_strings}
        if "01" not in values or "21" not in values:
            raise IdentityError(
                f"{text!r} does not identify one item: it needs a GTIN (01) and a serial number (21)."
            )
        return cls.create(values["01"], values["21"], values.get("10"))

    @classmethod
    def from_digital_link(cls, uri: str) -> ItemKey:
        """Parse a GS1 Digital Link URI with a GTIN and a serial (lot optional, extra attributes ignored)."""
        from biip import ParseError
        from biip.gs1_digital_link_uris import GS1DigitalLinkURI

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


# ----------------------------------------------------------------------------------------------
# Explaining validators (batch files): why a value is not a GTIN, a serial or a lot code
# ----------------------------------------------------------------------------------------------


def gtin_problem(value: str) -> str | None:
    """Why ``value`` is not a GTIN (one sentence with the fix), or None if it is one."""
    from biip.checksums import gs1_standard_check_digit

    if not value:
        return "the GTIN is empty; fill in the item's 8, 12, 13 or 14-digit GTIN."
    if not value.isdigit() or not value.isascii():
        if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", value):
            return (
                f"GTIN {value!r} was turned into a number by a spreadsheet; format the column as text "
                "and enter the GTIN's digits again."
            )
        return f"GTIN {value!r} must contain digits only; remove the other characters."
    if len(value) not in (8, 12, 13, 14):
        hint = (
            " (a spreadsheet may have dropped leading zeros: format the column as text)"
            if len(value) < 14
            else ""
        )
        return f"GTIN {value!r} has {len(value)} digits; a GTIN has 8, 12, 13 or 14 digits{hint}."
    expected = gs1_standard_check_digit(value[:-1])
    if int(value[-1]) != expected:
        return (
            f"GTIN {value!r} has a wrong check digit (the last digit should be {expected}); "
            "copy the GTIN again from the product's barcode."
        )
    if int(value) == 0:
        return "GTIN 0 is not a GTIN; fill in the item's GTIN."
    return None


def code_problem(value: str, what: str) -> str | None:
    """Why ``value`` is not a GS1 serial (AI 21) or lot code (AI 10), or None if it is one."""
    if not value:
        if what == "lot":
            return f"the lot is empty; give the code of the item's lot (created with {_LOT_CREATE})."
        return "the serial is empty; every item needs its serial number."
    name = "serial" if what == "serial" else "lot code"
    bad = sorted({c for c in value if c not in CSET82})
    problems = []
    if bad:
        shown = ", ".join("space" if c == " " else repr(c) for c in bad)
        problems.append(f"contains {shown}, which GS1 does not allow")
    if len(value) > MAX_CODE_LENGTH:
        problems.append(f"has {len(value)} characters, more than GS1's 20")
    if not problems:
        return None
    shortened = value if len(value) <= 30 else value[:27] + "..."
    return f"{name} {shortened!r} {' and '.join(problems)}; use 1 to 20 characters, only {CSET82_TEXT}."
