"""Strings that come from the chain: kept as the raw bytes, shown safely.

Any address can describe itself with any bytes and a registrar chooses the bytes of its serials,
lot codes and business steps, so nothing read from a log or a view is trusted to be UTF-8, to be
free of control characters or to read in the direction it seems to. :class:`ChainText` keeps the
exact bytes (stored raw by the index: ``A\\x00B`` and ``A`` stay two values) and has one lenient
rendering, :func:`display`, which never raises:

- invalid UTF-8 becomes U+FFFD;
- C0 control characters become their visible Control Pictures (U+2400-U+241F: NUL shows as
  ``␀``), DEL ``␡``, C1 controls U+FFFD, so no escape sequence reaches a terminal and ``A\\x00B``
  never shows as ``A`` or ``AB``;
- bidirectional controls and other invisible format characters (U+202E RIGHT-TO-LEFT OVERRIDE,
  U+2066-U+2069 isolates, zero-width spaces, ...) are dropped, so a description cannot reverse
  the text around it; line and paragraph separators become spaces;
- with ``limit``, at most that many characters, ending in ``…``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Format characters kept: zero-width joiner/non-joiner (emoji sequences, Indic scripts).
_KEPT_FORMAT = frozenset("\u200c\u200d")
_PRINTABLE_ASCII = frozenset(range(0x20, 0x7F))
#: GS1's 82-character set (GS1 General Specifications, figure 7.11-1): serials and lot codes.
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
CSET82_TEXT = "letters, digits and !\"%&'()*+,-./:;<=>?_"


def _char(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0:
        return "\ufffd"
    category = unicodedata.category(ch)
    if category == "Cf" and ch not in _KEPT_FORMAT:
        return ""
    if category in ("Zl", "Zp"):
        return " "
    return ch


def display(raw: bytes, limit: int | None = None) -> str:
    """The text of ``raw`` to show a person (see the module documentation); never raises."""
    raw = bytes(raw)
    if limit is not None:
        raw = raw[: 4 * limit + 4]  # a character takes at most 4 bytes: the rest is never shown
    text = _short(raw) if len(raw) <= 256 else _render(raw)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def _render(raw: bytes) -> str:
    if all(b in _PRINTABLE_ASCII for b in raw):
        return raw.decode("ascii")
    return "".join(_char(ch) for ch in raw.decode("utf-8", errors="replace"))


#: Names, codes and steps repeat on every page: remember the short ones (long ones are rare and
#: would make the cache a way to fill memory).
_short = lru_cache(maxsize=8192)(_render)


def strip_padding(word: bytes) -> bytes:
    """A left-aligned ``bytes32`` code without its zero padding (interior NULs kept)."""
    return bytes(word).rstrip(b"\0")


@dataclass(frozen=True, slots=True)
class ChainText:
    """Text as the chain holds it: ``raw`` bytes (a ``bytes32`` code without its zero padding, or
    an ABI ``string``). ``str()`` is the safe rendering (:func:`display`)."""

    raw: bytes

    @classmethod
    def from_word(cls, word: bytes) -> ChainText:
        """A left-aligned, zero-padded ``bytes32`` code (serial, lot code, business step)."""
        return cls(strip_padding(word))

    @classmethod
    def of(cls, text: str) -> ChainText:
        """The chain form of ``text`` (UTF-8)."""
        return cls(text.encode("utf-8"))

    def __str__(self) -> str:
        return display(self.raw)

    def shown(self, limit: int | None = None) -> str:
        """:func:`display` of the bytes, at most ``limit`` characters."""
        return display(self.raw, limit)

    @property
    def exact(self) -> str | None:
        """The text itself when the bytes are printable ASCII (every GS1 code is), else None:
        the form to put in a URI or a GS1 element string, never a lossy rendering."""
        raw = self.raw
        if raw and all(b in _PRINTABLE_ASCII for b in raw):
            return raw.decode("ascii")
        return None

    def __bool__(self) -> bool:
        return bool(self.raw)


class Msg(str):
    """A sentence of the story in English that keeps its ``template`` (``opened lot %(lot)s``)
    and ``params``, so that a reader (the page) can say it in another language: the template is
    a gettext message id (``pybabel extract -k Msg``, docs/languages.md). Everywhere else it is
    the plain English ``str`` it equals. A whole number given as an ``int`` is a quantity (``1,500``
    in English, ``1.500`` in Romanian); one given as text (a GTIN, a block) is shown as written."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> Msg:
        # Whole numbers read 1,500 in English; a reader formats them its own way (params kept).
        english = {k: f"{v:,}" if type(v) is int else v for k, v in params.items()}
        made = super().__new__(cls, template % english if params else template)
        made.template = template
        made.params = params
        return made
