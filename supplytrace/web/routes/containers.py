"""Containers: the page of a case or pallet, served at its GS1 Digital Link (``/00/{sscc}``, AI 00)
by ``web.routes.resolver``, and its JSON (``/api/containers/{sscc}``, or the Digital Link with
``Accept: application/json``).

The record is read live (``getContainer``, and the containers it is packed in, out to the
outermost, whose custodian holds it); its history (what was packed into it and taken out, its
custody steps and its pallets' moves while it was inside) comes from the history source. It
lists what it holds now, at most ``CONTENTS_SHOWN`` with their live status, and the count.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from supplytrace.chain.reads import Read
from supplytrace.chain.rpc import RpcError, hex_int
from supplytrace.core.ids import IdentityError, container_id, normalize_sscc
from supplytrace.core.records import ContainerRecord
from supplytrace.core.story import addresses, contents
from supplytrace.core.text import Msg
from supplytrace.web.deps import Page, PageDep
from supplytrace.web.errors import PageError
from supplytrace.web.render import json_answer
from supplytrace.web.views.container import CONTENTS_SHOWN, ContainerView, container_view, contents_rows

router = APIRouter()
A = TypeVar("A")
B = TypeVar("B")


def sscc_param(text: str) -> str:
    """The 18 digits of an SSCC with a valid check digit, or the page's one-sentence 400."""
    try:
        if len(text) > 18:
            raise IdentityError("too long")
        return normalize_sscc(text)
    except IdentityError:
        raise PageError(
            400,
            Msg("This is not a case or pallet code"),
            Msg(
                "A case's or pallet's code (GS1 SSCC) is the 18 digits after (00) on its label, the last "
                "one a check digit. If you scanned it from a label, the label may be damaged or fake."
            ),
        ) from None


def _at_head(read: Read[ContainerRecord]) -> Read[tuple[int, ContainerRecord]]:
    """``read`` and the chain's head, in one round trip."""

    def parse(results: list[Any]) -> tuple[int, ContainerRecord]:
        if isinstance(results[0], RpcError):
            raise results[0]
        return hex_int(results[0]), read.parse(results[1:])

    return Read([("eth_blockNumber", []), *read.calls], parse)


def _together(reads: list[Read[ContainerRecord]]) -> Read[list[ContainerRecord]]:
    """Several one-call reads in one batch."""
    return Read(
        [call for read in reads for call in read.calls],
        lambda results: [read.parse([answer]) for read, answer in zip(reads, results, strict=True)],
    )


def _pair(first: Read[A], second: Read[B]) -> Read[tuple[A, B]]:
    """Two reads in one batch."""
    split = len(first.calls)
    return Read(
        [*first.calls, *second.calls],
        lambda results: (first.parse(results[:split]), second.parse(results[split:])),
    )


async def build_container(page: Page, sscc: str) -> ContainerView:
    box = container_id(sscc)
    reads = page.reads
    async with page.deadline() as deadline:
        reading = asyncio.ensure_future(page.container_history(box, deadline))
        try:
            head, record = await reads.run(_at_head(reads.container_read(box)))
            if not record.exists:
                raise PageError(
                    404,
                    Msg("No such case or pallet"),
                    Msg(
                        "Nothing was ever packed into a case or pallet with code (00) %(sscc)s on the "
                        "%(network)s.",
                        sscc=sscc,
                        network=page.config.network_label,
                    ),
                )
            chain = await page.outer_containers(record.container)
            found = await reading
        finally:
            if not reading.done():
                reading.cancel()
        held = contents(box, found.events) if found.answered else None
        shown = (held or [])[:CONTENTS_SHOWN]
        # Each content's live status, and whether it is a container (a container's id reads as an
        # item's too): one batch.
        statuses, found_boxes = await reads.run(_pair(reads.statuses_read(shown), _together(
            [reads.container_read(c) for c in shown]
        ))) if shown else ([], [])  # fmt: skip
        inner = {c: box for c, box in zip(shown, found_boxes, strict=True) if box.exists}
        parties = {record.custodian, record.pending_receiver}
        others = {a for a in parties if a} - addresses(e.event for e in found.events)
        more = await page.names(others, deadline) if others and found.answered else {}
    return container_view(
        page.context,
        record=record,
        sscc=sscc,
        head=head,
        chain=chain,
        history=found.events,
        held=held,
        rows=contents_rows(page.context, shown, statuses, inner),
        names=found.names | more,
        indexed_block=found.indexed,
        history_available=found.answered,
    )


@router.get(
    "/api/containers/{sscc}",
    response_model=ContainerView,
    summary="A case or pallet (GS1 SSCC): its live custodian, where it is, what it holds and its history",
    tags=["containers"],
)
async def api_container(sscc: str, page: PageDep) -> JSONResponse:
    view = await build_container(page, sscc_param(sscc))
    return json_answer(view.model_dump(mode="json"))
