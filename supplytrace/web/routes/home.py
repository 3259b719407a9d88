"""The home page (scan or type a code), ``/check`` (a typed code, redirected to its page),
``/healthz`` and the favicon."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from supplytrace.chain.rpc import hex_int
from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.core.text import Msg
from supplytrace.web.deps import PageDep, item_url
from supplytrace.web.errors import (
    NOT_A_PRODUCT_CODE,
    PARSE_BASE,
    PageError,
    item_id_param,
    plain_identity_error,
)
from supplytrace.web.i18n import gettext as _
from supplytrace.web.i18n import keep_language

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def home(page: PageDep) -> HTMLResponse:
    return page.templates.html("home.html", title=_("Check a product"), cache=True)


@router.get("/check", include_in_schema=False)
async def check(code: str = "") -> Response:
    text = code.strip()
    if text.lower().startswith("0x") and "/" not in text:
        return RedirectResponse(keep_language(item_url(f"0x{item_id_param(text).hex()}")), status_code=303)
    try:
        key = _typed_key(text)
    except IdentityError as exc:
        raise PageError(
            400,
            NOT_A_PRODUCT_CODE,
            Msg("The code does not hold a valid GS1 product code with a serial number."),
            plain_identity_error(exc),
        ) from None
    if key is None:
        raise PageError(
            400,
            NOT_A_PRODUCT_CODE,
            Msg(
                "Type the web address printed under the QR code (it contains /01/ and /21/), the line "
                "of numbers under it ((01) … (21) …), the product number and serial number, or an item "
                "id starting with 0x."
            ),
        )
    return RedirectResponse(keep_language(key.path), status_code=303)


def _typed_key(text: str) -> ItemKey | None:
    """The item a shopper typed: a Digital Link URI, the label's human-readable line, or a GTIN
    and a serial separated by spaces; None when it is none of them."""
    marker = text.find("/01/")
    if marker >= 0:
        return ItemKey.from_digital_link(PARSE_BASE + text[marker:].split("?", 1)[0])
    if text.startswith("("):
        return ItemKey.from_hri(text)
    words = text.split()
    if len(words) == 2 and words[0].isascii() and words[0].isdigit():
        return ItemKey.create(words[0], words[1])
    return None


@router.get("/healthz", include_in_schema=False)
async def healthz(page: PageDep) -> JSONResponse:
    head = hex_int(await page.rpc.request("eth_blockNumber", []))
    return JSONResponse({"ok": True, "registry": page.context.registry.address, "head": head})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)
