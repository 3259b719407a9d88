"""Items: the item page (served at its GS1 Digital Link by ``web.routes.resolver``), the same
page by item id (``/item/{id}``) and its JSON (``/api/items/{id}``).

Every item page reads the item's record live from the chain (one batched JSON-RPC request:
the head, ``getItem`` and, for a scanned code, the GTIN's owner) while the history source is
asked for the item's history at the same time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from supplytrace.chain.history import NodeLook
from supplytrace.chain.reads import probed
from supplytrace.core.events import Logged
from supplytrace.core.ids import ItemKey
from supplytrace.core.records import ItemRecord
from supplytrace.core.story import addresses, code_roots, status_of
from supplytrace.web.deps import ItemHistory, Page, PageDep
from supplytrace.web.errors import (
    item_id_param,
)
from supplytrace.web.render import json_answer
from supplytrace.web.views.claim import checks_and_warning, claim_form
from supplytrace.web.views.item import ItemView, item_view

Tally = tuple[int, int | None, int, int]

router = APIRouter()


@dataclass(frozen=True)
class ItemRead:
    """An item page's view, and what the claim form needs of the reads behind it."""

    view: ItemView
    record: ItemRecord
    #: Roots of the lot's hidden codes whose tree documents this server holds.
    roots: list[bytes]


async def build_item(page: Page, item_id: bytes, key: ItemKey | None, *, scan: bool = False) -> ItemView:
    """The item's view; ``scan``: count this as a check of the item (an HTML page view)."""
    return (await read_item(page, item_id, key, scan=scan)).view


async def read_item(
    page: Page, item_id: bytes, key: ItemKey | None, *, scan: bool = False, error: str | None = None,
    typed: str = "",
) -> ItemRead:  # fmt: skip
    gtin = int(key.gtin) if key else None
    reads = page.reads
    # The index's check against the node rides in the live read's round trip (its checkpoint as
    # last read: when the index has moved on since, the history asks the node itself).
    checkpoint = page.source.checkpoint()
    look = NodeLook(*checkpoint) if checkpoint is not None else None
    async with page.deadline() as deadline:
        # The status comes from the live record. From the chain's logs, the history is read at the
        # same time; from an index, once the live read has looked at the node for it (then mostly
        # on the event loop, see web.deps). The brand's role and the checks are asked as soon as
        # the record names the item.
        reading: asyncio.Future[ItemHistory] | None = None
        if look is None:
            reading = asyncio.ensure_future(page.item_history(item_id, deadline))
        role: asyncio.Future[bool | None] | None = None
        tallying: asyncio.Future[Tally | None] | None = None
        try:
            live = reads.item_at_head_read(item_id, gtin)
            if look is None:
                record, head, gtin_owner = await reads.run(live)
            else:
                (record, head, gtin_owner), held = await reads.run(probed(live, look.block_hash))
                look.give(head, held)
                reading = asyncio.ensure_future(page.item_history(item_id, deadline, look))
            role = asyncio.ensure_future(page.registrar_at(record.brand if record.registered else None, head))
            if record.registered:
                claimed_at = record.updated_at if status_of(record) == "claimed" else None
                tallying = asyncio.ensure_future(
                    page.scan_tally(item_id, count=scan, claimed_at=claimed_at, deadline=deadline)
                )
            assert reading is not None  # (started in either branch above)
            found = await reading
            # A packed item: the case and pallet it is in (live, out to the outermost).
            containers = await page.outer_containers(record.container) if record.registered else []
            lineage, unchecked = None, False
            if record.registered and found.answered:  # a blend's origin, and recalls of its inputs
                lineage = await page.lineage(record.lot_id, deadline, found.events)
            elif record.registered:  # without history: is its lot measured, so maybe a blend?
                (lot,) = await reads.run(reads.lots_read([record.lot_id]))
                unchecked = lot is not None and lot.measured
            parties = {record.brand, record.custodian, record.pending_receiver, gtin_owner}
            others = {a for a in parties if a} - addresses(e.event for e in found.events)
            # Rarely needed: the history names them all (the GTIN's owner may not be in it).
            more = await page.names(others, deadline) if others and found.answered else {}
            payers = await page.payers(found.events, deadline) if found.answered else {}
            brand_registrar = await role
            tally = await tallying if tallying is not None else None
            roots = await _held_roots(page, record, found.events if found.answered else None)
        finally:
            if look is not None:
                look.fail()  # (no-op once given) the history must not wait on a read that failed
            for task in (reading, role, tallying):
                if task is not None and not task.done():
                    task.cancel()
    history, indexed, answered = found.events, found.indexed, found.answered
    names = found.names | more
    view = item_view(
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
        payers=payers,
        lineage=lineage,
        containers=containers,
        lineage_unchecked=unchecked,
    )
    form = None
    if page.claims is not None:
        relayer = page.claims.relayer is not None
        form = claim_form(view.item_id, view.item_status, has_codes=bool(roots), relayer=relayer)
        if form is not None and error is not None:
            form = form.model_copy(update={"error": error, "typed": typed})
    checks, warning = checks_and_warning(tally, view.item_status)
    update = {"claim": form, "checks": checks, "warnings": [*view.warnings, *([warning] if warning else [])]}
    return ItemRead(view.model_copy(update=update), record, roots)


async def _held_roots(page: Page, record: ItemRecord, events: list[Logged] | None) -> list[bytes]:
    """Roots of the item's lot's hidden codes whose tree documents the page holds: the lot's
    committed roots in the history (already read), or, when the history is unavailable,
    the documents held for the lot."""
    trees = page.claims.trees if page.claims is not None else None
    if trees is None or not record.registered:
        return []
    chain_id, registry = page.config.chain_id, page.config.registry
    if events is None:
        return await anyio.to_thread.run_sync(trees.roots_of_lot, chain_id, registry, record.lot_id)
    return [r for r in code_roots(events, record.lot_id) if trees.path(chain_id, registry, r).is_file()]


def item_page(page: Page, view: ItemView) -> HTMLResponse:
    return page.templates.html("item.html", 200 if view.registered else 404, v=view, title=view.banner.title)


@router.api_route("/item/{item_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def item(request: Request, item_id: str, page: PageDep) -> HTMLResponse:
    scan = request.method == "GET"
    return item_page(page, await build_item(page, item_id_param(item_id), None, scan=scan))


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
