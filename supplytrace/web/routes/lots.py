"""Lots: ``/lot/{id}[?page=N]`` and its JSON (``/api/lots/{id}[?page=N]``): the lot's live record,
its history and one page of its items with their live status (the page never reads more than
one page of items from the chain: ``HistorySource.lot(..., bounded=True)``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from supplytrace.core.story import addresses
from supplytrace.core.text import Msg
from supplytrace.web.deps import Page, PageDep
from supplytrace.web.errors import PageError, lot_id_param, page_param
from supplytrace.web.i18n import gettext as _
from supplytrace.web.render import json_answer
from supplytrace.web.views.lot import LotView, lot_view

router = APIRouter()
#: ``?page=N``: which page of the lot's items (from 1).
PAGE_QUERY = Query("1", alias="page", description="Which page of the lot's items, from 1.")


async def build_lot(page: Page, lot_id: int, number: int = 1) -> LotView:
    reads = page.reads
    async with page.deadline() as deadline:
        record, head = await reads.run(reads.lot_at_head_read(lot_id))
        if record is None:
            raise PageError(
                404,
                Msg("No such lot"),
                Msg(
                    "No brand has registered a lot number %(lot)s on the %(network)s.",
                    lot=str(lot_id),
                    network=page.config.network_label,
                ),
            )
        (history, indexed, answered), brand_registrar = await asyncio.gather(
            page.lot_history(lot_id, deadline, number),
            page.registrar_at(record.registrar, head),
        )
        # A blend: what it was made from, its origin, and recalls of its inputs (checked live).
        lineage = (
            await page.lineage(lot_id, deadline, history.events if history else None) if answered else None
        )
        shown = [i.item_id for i in history.items] if history else []
        statuses = await reads.run(reads.statuses_read(shown))
        names = await page.names(
            addresses(e.event for e in (history.events if history else [])) | {record.registrar}, deadline
        )
    return lot_view(
        page.context,
        record=record,
        head=head,
        history=history,
        statuses=statuses,
        names=names,
        indexed_block=indexed,
        metadata=page.metadata.get(record.metadata_hash),
        history_available=answered,
        page=number,
        brand_registrar=brand_registrar,
        lineage=lineage,
    )


@router.api_route("/lot/{lot_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def lot(lot_id: str, page: PageDep, number: str = PAGE_QUERY) -> HTMLResponse:
    view = await build_lot(page, lot_id_param(lot_id), page_param(number))
    return page.templates.html("lot.html", v=view, title=_("Lot %(lot)s", lot=view.lot_code))


@router.get(
    "/api/lots/{lot_id}",
    response_model=LotView,
    summary="A lot's record (read live from the chain), details, recall and first items",
    tags=["lots"],
)
async def api_lot(lot_id: str, page: PageDep, number: str = PAGE_QUERY) -> JSONResponse:
    view = await build_lot(page, lot_id_param(lot_id), page_param(number))
    return json_answer(view.model_dump(mode="json"))
