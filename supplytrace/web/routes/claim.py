"""``POST /item/{id}/claim``: the code inside the lid, from the item page's form (a plain HTML
form: no JavaScript, no cookie).

In this order (``web.claims`` has the thresholds and why):

1. the form must come from this site (its ``Origin``, else its ``Referer``): 403 otherwise;
2. the attempt is counted in the item's and the client's windows; over a limit the answer is
   the locked page, the same bytes whatever the code (429);
3. the code is normalized (``core.codes.normalize``); one that cannot be a code is not counted
   and the form says so;
4. the item is read live; a claimed item (someone was first) goes to its page;
5. the code's proof is looked up in the brand's tree documents the server holds: none is a
   wrong code, counted, and the form says so; nothing is sent;
6. a right code is not counted and is sent as ``claim(item, code, proof)`` from the server's
   relayer account; once mined, 303 to the item page, which now says it was opened.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from supplytrace.core.codes import normalize
from supplytrace.core.errors import ContractRevertError, SupplytraceError
from supplytrace.core.text import Msg
from supplytrace.web.claims import (
    KEEP_ATTEMPTS,
    LOCKED_MESSAGE,
    LOCKED_TITLE,
    NO_RELAYER,
    NOT_A_CODE,
    WRONG_CODE,
    Claims,
    counters,
    locked_until,
    over_limit,
)
from supplytrace.web.deps import Page, PageDep, item_url
from supplytrace.web.errors import PageError, item_id_param
from supplytrace.web.i18n import gettext as _
from supplytrace.web.i18n import keep_language
from supplytrace.web.routes.items import ItemRead, item_page, read_item
from supplytrace.web.views.common import fmt_iso

router = APIRouter()
logger = logging.getLogger("supplytrace.web")

#: The largest form body read (a code is 12 characters; the form has one field).
MAX_BODY = 1024


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def same_site(request: Request, page: Page) -> bool:
    """Whether the form was sent from a page of this site: its Origin (else Referer) names this
    host (the request's Host header) or the resolver's."""
    sent = request.headers.get("origin")
    if sent is None or sent == "null":
        sent = request.headers.get("referer")
    origin = _origin(sent) if sent else None
    if origin is None:
        return False
    ours = {(request.url.scheme, (request.headers.get("host") or "").lower())}
    resolver = _origin(page.config.resolver)
    if resolver is not None:
        ours.add(resolver)
    return origin in ours or origin[1] in {host for _scheme, host in ours}


async def _code_field(request: Request) -> str:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PageError(413, Msg("Request not understood"), Msg("The form sent more than a code."))
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    return (fields.get("code") or [""])[0]


def _locked(page: Page, item_hex: str, until: int) -> Response:
    """The locked answer: nothing in it depends on the code (or on anything but the item and
    the window)."""
    error = PageError(
        429,
        Msg(LOCKED_TITLE),
        Msg("%(message)s (until %(time)s)", message=Msg(LOCKED_MESSAGE), time=fmt_iso(until)),
    )
    answer = page.templates.html("error.html", 429, e=error, title=_(LOCKED_TITLE), back=item_url(item_hex))
    answer.headers["Retry-After"] = str(max(1, until - int(page.clock())))
    return answer


def _with_error(page: Page, read: ItemRead, message: str, typed: str) -> Response:
    view = read.view
    form = view.claim.model_copy(update={"error": message, "typed": typed[:40]}) if view.claim else None
    return page.templates.html(
        "item.html", 400, v=view.model_copy(update={"claim": form}), title=view.banner.title
    )


@router.post("/item/{item_id}/claim", include_in_schema=False)
async def claim(request: Request, item_id: str, page: PageDep) -> Response:
    item = item_id_param(item_id)
    item_hex = "0x" + item.hex()
    if not same_site(request, page):
        raise PageError(
            403, Msg("Not allowed"), Msg("Codes can only be entered from this site's own item page.")
        )
    claims = page.claims
    if claims is None or claims.book is None or claims.trees is None or claims.relayer is None:
        raise PageError(404, Msg("Codes cannot be entered here"), Msg(NO_RELAYER))
    book = claims.book
    now = page.clock()
    client = claims.keys.key(request.client.host if request.client else "", now)
    counted = counters(item, client, now)
    counts = await anyio.to_thread.run_sync(book.attempt, counted)
    if over_limit(counts):
        return _locked(page, item_hex, locked_until(counts, now))
    if claims.prune_due(now):
        await anyio.to_thread.run_sync(book.prune, int(now) - KEEP_ATTEMPTS)
    typed = await _code_field(request)
    code = normalize(typed)
    if code is None:
        await anyio.to_thread.run_sync(book.refund, counted)
        read = await read_item(page, item, None)
        return _with_error(page, read, _(NOT_A_CODE), typed) if read.view.claim else _to_item(item_hex)
    read = await read_item(page, item, None)
    if read.view.claim is None:  # claimed (or unknown, recalled, without codes held): its page says
        await anyio.to_thread.run_sync(book.refund, counted)
        return item_page(page, read.view) if not read.view.registered else _to_item(item_hex)
    proof = await anyio.to_thread.run_sync(
        _proof, claims, page.config.chain_id, page.config.registry, read, item, code
    )
    if proof is None:
        return _with_error(page, read, _(WRONG_CODE), typed)
    await anyio.to_thread.run_sync(book.refund, counted)
    try:
        await anyio.to_thread.run_sync(claims.relay, page.config.registry, item, code, proof)
    except ContractRevertError as exc:
        if exc.name != "ItemAlreadyClaimed":  # someone else was first: the page says so
            raise _not_sent(exc) from None
    except SupplytraceError as exc:
        raise _not_sent(exc) from None
    return _to_item(item_hex)


def _proof(
    claims: Claims, chain_id: int, registry: str, read: ItemRead, item: bytes, code: str
) -> list[bytes] | None:
    if claims.trees is None:
        return None
    return claims.trees.proof(chain_id, registry, read.record.lot_id, read.roots, item, code)


def _to_item(item_hex: str) -> Response:
    return RedirectResponse(keep_language(item_url(item_hex)), status_code=303)


def _not_sent(exc: Exception) -> PageError:
    logger.warning("a right code could not be sent as a claim: %s", exc)
    return PageError(
        503,
        Msg("Your code could not be recorded"),
        Msg(
            "The code is right, but this server could not record it on the chain just now. Try again in "
            "a few minutes."
        ),
    )
