"""The home page (scan or type a code), ``/check`` (a typed code, redirected to its page),
``/healthz`` and the favicon."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from supplytrace.chain.rpc import hex_int
from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.web.deps import PageDep, item_url
from supplytrace.web.errors import (
    NOT_A_PRODUCT_CODE,
    PARSE_BASE,
    PageError,
    item_id_param,
    plain_identity_error,
)

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def home(page: PageDep) -> HTMLResponse:
    return page.templates.html("home.html", title="Check a product", cache=True)


@router.get("/check", include_in_schema=False)
async def check(code: str = "") -> Response:
    text = code.strip()
    if text.lower().startswith("0x") and "/" not in text:
        return RedirectResponse(item_url(f"0x{item_id_param(text).hex()}"), status_code=303)
    marker = text.find("/01/")
    if marker < 0:
        raise PageError(
            400,
            NOT_A_PRODUCT_CODE,
            "Type the web address printed under the QR code (it contains /01/ and /21/), "
            "or an item id starting with 0x.",
        )
    try:
        key = ItemKey.from_digital_link(PARSE_BASE + text[marker:].split("?", 1)[0])
    except IdentityError as exc:
        raise PageError(
            400,
            NOT_A_PRODUCT_CODE,
            "The code does not hold a valid GS1 product code with a serial number.",
            plain_identity_error(exc),
        ) from None
    return RedirectResponse(key.path, status_code=303)


@router.get("/healthz", include_in_schema=False)
async def healthz(page: PageDep) -> JSONResponse:
    head = hex_int(await page.rpc.request("eth_blockNumber", []))
    return JSONResponse({"ok": True, "registry": page.context.registry.address, "head": head})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)
