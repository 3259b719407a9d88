"""The GS1 Digital Link routes, answered as a GS1-Conformant Resolver (standard 1.2):
``/01/{gtin}[/22/..][/10/{lot}][/21/{serial}]`` (an item, a lot, or a product), ``/00/{sscc}``
(a case or pallet) and the resolver description ``/.well-known/gs1resolver``.

The default link of an item, lot or container is its verification page, served at the link
itself (``linkType=gs1:pip`` too); ``linkType=linkset`` (or ``Accept: application/linkset+json``)
answers the RFC 9264 linkset; another link type the resolver has redirects there (307) with the
rest of the query string; a link type it does not have, or does not know, gets the default link.
Every answer carries the links in a ``Link`` header. A GTIN of 8, 12 or 13 digits is redirected
(301) to its 14-digit form; a GTIN the brand's links file says moved (re-issued codes) to the
new one (301), unless the code is registered under the old GTIN. CORS and OPTIONS:
``web.app.ResolverCors``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from supplytrace.core.ids import ItemKey, encode_code
from supplytrace.core.text import Msg
from supplytrace.web.deps import Page, PageDep
from supplytrace.web.errors import NOT_A_PRODUCT_CODE, PageError, wants_json
from supplytrace.web.i18n import gettext as _
from supplytrace.web.render import NO_STORE, json_answer
from supplytrace.web.resolver import (
    DESCRIPTION_PATH,
    LINKSET_MEDIA,
    DigitalLink,
    DigitalLinkError,
    Link,
    accept_languages,
    choose,
    default_link,
    description,
    link_header,
    link_type_of,
    linkset_body,
    parse_path,
    passed_on,
    with_default,
    with_query,
)
from supplytrace.web.routes.containers import build_container
from supplytrace.web.routes.items import item_page, read_item
from supplytrace.web.routes.lots import build_lot

router = APIRouter()
Serve = Callable[[], Awaitable[Response]]


@router.api_route(DESCRIPTION_PATH, methods=["GET", "HEAD"], include_in_schema=False)
async def resolver_description(page: PageDep) -> JSONResponse:
    """The resolver description file (GS1 Conformant Resolver 1.2)."""
    body = description(page.config.resolver.rstrip("/"), "supplytrace verification page")
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=3600"})


def _read_path(request: Request, title: str = NOT_A_PRODUCT_CODE) -> DigitalLink:
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    try:
        return parse_path(raw_path.decode("latin-1").split("?", 1)[0])
    except DigitalLinkError as exc:
        raise PageError(
            400, title, f"{exc} If you scanned it from a label, the label may be damaged or fake."
        ) from None


def _canonical(request: Request, link: DigitalLink) -> Response | None:
    """A permanent redirect to the 14-digit form of a link with a shorter GTIN, query kept."""
    if link.canonical:
        return None
    query = request.url.query
    return RedirectResponse(link.path + (f"?{query}" if query else ""), 301)


@router.api_route("/01/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def gtin_link(request: Request, rest: str, page: PageDep) -> Response:
    link = _read_path(request)
    redirect = _canonical(request, link)
    if redirect is not None:
        return redirect
    table = page.config.resolver_links
    moved = table.moved.get(link.key)
    if moved is not None and not await _on_chain(page, link):  # a re-issued code's old link
        query = request.url.query
        return RedirectResponse(replace(link, key=moved).path + (f"?{query}" if query else ""), 301)
    anchor = page.config.resolver.rstrip("/") + link.path
    key = link.item
    if key is not None:
        key = ItemKey.create(key.gtin, key.serial, key.lot)
        lot = link.lot
        if table.has_lots(key.gtin):  # links of the item's own lot (which the link may not name)
            record = await page.reads.run(page.reads.item_read(key.id))
            lot = (record.lot_code.exact if record.registered else None) or lot
        links = [*_own(page, anchor, f"/api/items/{key.id_hex}", "item"), *table.links(key.gtin, lot)]
        return await _answer(request, anchor, links, lambda: _item(request, page, key))
    if link.lot is not None:
        lot_id = await page.reads.run(
            page.reads.lot_id_read(int(link.key), encode_code(link.lot, "lot code"))
        )
        if lot_id == 0:
            raise PageError(
                404,
                Msg("No such lot"),
                Msg(
                    "No brand has registered lot %(lot)s of product %(gtin)s on the %(network)s.",
                    lot=link.lot or "",
                    gtin=str(link.key),
                    network=page.config.network_label,
                ),
            )
        links = [*_own(page, anchor, f"/api/lots/{lot_id}", "lot"), *table.links(link.key, link.lot)]
        return await _answer(request, anchor, links, lambda: _lot(page, lot_id))
    return await _answer(request, anchor, table.links(link.key), None)


@router.api_route("/00/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def sscc_link(request: Request, rest: str, page: PageDep) -> Response:
    code = _read_path(request, "This is not a case or pallet code").key
    anchor = f"{page.config.resolver.rstrip('/')}/00/{code}"
    links = _own(page, anchor, f"/api/containers/{code}", "case or pallet")
    return await _answer(request, anchor, links, lambda: _container(request, page, code))


async def _on_chain(page: Page, link: DigitalLink) -> bool:
    """Whether the item or lot ``link`` names is registered (under the link's own GTIN): then
    it is what the link shows, whatever the links file says of its GTIN."""
    key = link.item
    if key is not None:
        record = await page.reads.run(page.reads.item_read(ItemKey.create(key.gtin, key.serial).id))
        return record.registered
    if link.lot is not None:
        code = encode_code(link.lot, "lot code")
        return await page.reads.run(page.reads.lot_id_read(int(link.key), code)) != 0
    return False


def _own(page: Page, anchor: str, api: str, what: str) -> list[Link]:
    """The links the page itself offers for a code: its verification page (the default link,
    which also tells a recall first) and its history as JSON."""
    base = page.config.resolver.rstrip("/")
    return [
        Link("pip", anchor, f"Verification page of this {what}: genuine or not and where it has been"),
        Link("recallStatus", anchor, f"Recall status of this {what} (on its verification page)"),
        Link("traceability", base + api, f"Custody history of this {what} (JSON)", "application/json"),
    ]


async def _answer(request: Request, anchor: str, links: list[Link], serve: Serve | None) -> Response:
    """The resolver's answer for a code whose links are ``links`` and whose own page (at
    ``anchor``) ``serve`` builds."""
    every = with_default(links)
    kind = link_type_of(request.query_params.get("linkType"))
    query = passed_on(request.url.query)
    accept = request.headers.get("accept", "")
    answer: Response
    if kind == "linkset" or LINKSET_MEDIA in accept:
        media = "application/json" if wants_json(request) and LINKSET_MEDIA not in accept else LINKSET_MEDIA
        answer = Response(linkset_body(anchor, every), media_type=media, headers=NO_STORE)
    else:
        languages = accept_languages(request.headers.get("accept-language", ""))
        # A link type the resolver does not have (or know) gets the default link (the standard).
        chosen = (choose(every, kind, languages) if kind else None) or default_link(every)
        if chosen is None:
            raise PageError(
                404,
                Msg("No page for a product code alone"),
                Msg(
                    "This link names a product but no item, and its brand has set no links for it. The "
                    "verification page checks single items: scan the item's own code (with /21/ and its "
                    "serial)."
                ),
            )
        if chosen.href == anchor and serve is not None:
            answer = await serve()
        else:
            answer = RedirectResponse(with_query(chosen.href, query), 307, headers=NO_STORE)
    answer.headers["Link"] = link_header(every, f"{anchor}?linkType=linkset")
    answer.headers["Vary"] = "Accept, Accept-Language"
    return answer


async def _item(request: Request, page: Page, key: ItemKey) -> Response:
    html = not wants_json(request)
    read = await read_item(page, key.id, key, scan=html and request.method == "GET")
    view = read.view
    if not html:  # one URI, two answers by the Accept header (GS1 Digital Link)
        return json_answer(view.model_dump(mode="json"), status=200 if view.registered else 404)
    return item_page(page, view)


async def _lot(page: Page, lot_id: int) -> Response:
    view = await build_lot(page, lot_id)
    return page.templates.html("lot.html", v=view, title=_("Lot %(lot)s", lot=view.lot_code))


async def _container(request: Request, page: Page, sscc: str) -> Response:
    view = await build_container(page, sscc)
    if wants_json(request):
        return json_answer(view.model_dump(mode="json"))
    return page.templates.html(
        "container.html", v=view, title=_("Case or pallet (00) %(sscc)s", sscc=view.sscc)
    )


@router.api_route("/{compressed}", methods=["GET", "HEAD"], include_in_schema=False)
async def compressed_link(compressed: str) -> Response:
    """A path of one segment of base64url letters, as a compressed GS1 Digital Link is: no
    maintained Python library decompresses these (``docs/resolver.md``), so the page says so."""
    if not (len(compressed) >= 8 and all(c.isascii() and (c.isalnum() or c in "-_") for c in compressed)):
        raise StarletteHTTPException(404)
    raise PageError(
        400,
        NOT_A_PRODUCT_CODE,
        Msg(
            "This looks like a compressed GS1 Digital Link, which this page cannot read; scan the code "
            "with an app that shows the full link (/01/<GTIN>/21/<serial>) and open that."
        ),
    )
