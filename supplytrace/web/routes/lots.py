"""Lots: ``/lot/{id}`` and its JSON (``/api/lots/{id}``): the lot's live record, its history and
its first items with their live status."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from supplytrace.core.story import addresses
from supplytrace.web.deps import Page, PageDep
from supplytrace.web.errors import PageError, lot_id_param
from supplytrace.web.render import json_answer
from supplytrace.web.views.lot import LotView, lot_view

router = APIRouter()


async def build_lot(page: Page, lot_id: int) -> LotView:
    reads = page.reads
    record, head = await reads.run(reads.lot_at_head_read(lot_id))
    if record is None:
        raise PageError(
            404,
            "No such lot",
            f"No brand has registered a lot number {lot_id} on the {page.config.network_label}.",
        )
    history, indexed, answered = await page.lot_history(lot_id)
    shown = [i.item_id for i in history.items] if history else []
    statuses = await reads.run(reads.statuses_read(shown))
    names = await page.names(
        addresses(e.event for e in (history.events if history else [])) | {record.registrar}
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
    )


@router.api_route("/lot/{lot_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def lot(lot_id: str, page: PageDep) -> HTMLResponse:
    view = await build_lot(page, lot_id_param(lot_id))
    return page.templates.html("lot.html", v=view, title=f"Lot {view.lot_code}")


@router.get(
    "/api/lots/{lot_id}",
    response_model=LotView,
    summary="A lot's record (read live from the chain), details, recall and first items",
    tags=["lots"],
)
async def api_lot(lot_id: str, page: PageDep) -> JSONResponse:
    view = await build_lot(page, lot_id_param(lot_id))
    return json_answer(view.model_dump(mode="json"))
