"""What a reader is told when a page cannot be shown: :class:`PageError` (a human page, or a JSON
body under ``/api``), and the parameters a page refuses with one."""

from __future__ import annotations

from fastapi import Request

from supplytrace.core.ids import IdentityError, parse_item_id
from supplytrace.core.text import Msg


class PageError(Exception):
    """An error with a human page (and a JSON body under /api); a ``title`` or ``message`` that is
    a :class:`~supplytrace.core.text.Msg` is said in the reader's language (``web.i18n``)."""

    def __init__(self, status: int, title: str, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.detail = status, title, message, detail


NOT_A_PRODUCT_CODE = Msg("This is not a product code we can read")


def item_id_param(text: str) -> bytes:
    try:
        return parse_item_id(text)
    except IdentityError:
        raise PageError(
            400,
            Msg("This is not an item id"),
            Msg(
                "An item id is 0x followed by 64 hexadecimal digits, e.g. as printed by `supplytrace status`."
            ),
        ) from None


def lot_id_param(text: str) -> int:
    # The length first: int() of thousands of digits is slow, and refused beyond 4,300 (a 500).
    if not (len(text) <= 10 and text.isascii() and text.isdigit()) or not 0 < int(text) < 2**32:
        raise PageError(
            400, Msg("This is not a lot number"), Msg("A lot number is a whole number: 1, 2, 3, …")
        )
    return int(text)


#: The highest page number a lot page accepts (a lot of 2^32 items has fewer pages).
MAX_PAGE = 100_000_000


def page_param(text: str) -> int:
    """A lot page's ``?page=N``: a whole number from 1."""
    if not (len(text) <= 9 and text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_PAGE:
        raise PageError(400, Msg("This is not a page number"), Msg("Pages are numbered 1, 2, 3, …"))
    return int(text)


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


#: The base the Digital Link parser is given for a path (never shown: see :func:`plain_identity_error`).
PARSE_BASE = "https://resolver.invalid"


def plain_identity_error(exc: IdentityError) -> str:
    return str(exc).replace(PARSE_BASE, "")
