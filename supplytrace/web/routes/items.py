"""Items: the GS1 Digital Link resolver (``/01/{gtin}[/10/{lot}]/21/{serial}``, what a phone
opens from the QR code), the same page by item id (``/item/{id}``) and its JSON
(``/api/items/{id}``).

Every item page reads the item's record live from the chain (one batched JSON-RPC request:
the head, ``getItem`` and, for a scanned code, the GTIN's owner) while the history source is
asked for the item's history at the same time.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.core.story import addresses
from supplytrace.web.deps import Page, PageDep
from supplytrace.web.errors import (
    NOT_A_PRODUCT_CODE,
    PARSE_BASE,
    PageError,
    item_id_param,
    plain_identity_error,
    wants_json,
)
from supplytrace.web.render import json_answer
from supplytrace.web.views.item import ItemView, item_view

router = APIRouter()


async def build_item(page: Page, item_id: bytes, key: ItemKey | None) -> ItemView:
    gtin = int(key.gtin) if key else None
    reads = page.reads
    async with page.deadline() as deadline:
        # The live record and the history are read at the same time; the status comes from the
        # former. The brand's role is asked as soon as the record names the brand.
        reading = asyncio.ensure_future(page.item_history(item_id, deadline))
        role: asyncio.Future[bool | None] | None = None
        try:
            record, head, gtin_owner = await reads.run(reads.item_at_head_read(item_id, gtin))
            role = asyncio.ensure_future(page.registrar_at(record.brand if record.registered else None, head))
            found = await reading
            parties = {record.brand, record.custodian, record.pending_receiver, gtin_owner}
            others = {a for a in parties if a} - addresses(e.event for e in found.events)
            # Rarely needed: the history names them all (the GTIN's owner may not be in it).
            more = await page.names(others, deadline) if others and found.answered else {}
            brand_registrar = await role
        finally:
            for task in (reading, role):
                if task is not None and not task.done():
                    task.cancel()
    history, indexed, answered = found.events, found.indexed, found.answered
    names = found.names | more
    return item_view(
        page.context,
        record=record,
        head=head,
        history=history,
        names=names,
        indexed_block=indexed,
        metadata=page.metadata.get(record.lot_metadata_hash) if record.registered else None,
        key=key,
        resolver=page.config.resolver,
        rpc_hint=page.config.rpc_hint,
        gtin_owner=gtin_owner,
        history_available=answered,
        brand_registrar=brand_registrar,
    )


def item_page(page: Page, view: ItemView) -> HTMLResponse:
    return page.templates.html("item.html", 200 if view.registered else 404, v=view, title=view.banner.title)


@router.api_route("/01/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def digital_link(request: Request, rest: str, page: PageDep) -> Response:
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    uri = PARSE_BASE + raw_path.decode("latin-1").split("?", 1)[0]
    try:
        key = ItemKey.from_digital_link(uri)
    except IdentityError as exc:
        raise PageError(
            400,
            NOT_A_PRODUCT_CODE,
            "The link does not hold a valid GS1 product code with a serial number, so no item can "
            "be looked up. If you scanned it from a product, the label may be damaged or fake.",
            plain_identity_error(exc),
        ) from None
    view = await build_item(page, key.id, key)
    # One URI, two answers by the Accept header (GS1 Digital Link): caches must keep them apart.
    answer: Response
    if wants_json(request):
        answer = json_answer(view.model_dump(mode="json"), status=200 if view.registered else 404)
    else:
        answer = item_page(page, view)
    answer.headers["Vary"] = "Accept"
    return answer


@router.api_route("/item/{item_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def item(item_id: str, page: PageDep) -> HTMLResponse:
    return item_page(page, await build_item(page, item_id_param(item_id), None))


@router.get(
    "/api/items/{item_id}",
    response_model=ItemView,
    responses={404: {"model": ItemView, "description": "Not registered by any brand."}},
    summary="An item's status (read live from the chain), lot details and custody history",
    tags=["items"],
)
async def api_item(item_id: str, page: PageDep) -> JSONResponse:
    view = await build_item(page, item_id_param(item_id), None)
    return json_answer(view.model_dump(mode="json"), 200 if view.registered else 404)
