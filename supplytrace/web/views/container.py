"""The container page (a case or a pallet, by its GS1 SSCC: ``/00/{sscc}``): who holds it now
(read live, through the containers it is packed in), where it is, what it holds now and its
custody timeline; and where a packed item is, for the item page.

What it holds comes from the history (its packings minus its unpackings:
:func:`core.story.contents`), each content's status live; at most :data:`CONTENTS_SHOWN` are
listed, with the count of all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from supplytrace.chain.history import Participant
from supplytrace.core.events import Logged
from supplytrace.core.records import ContainerRecord, ItemStatus
from supplytrace.core.story import Status, ssccs
from supplytrace.web.i18n import gettext as _
from supplytrace.web.views.common import (
    HISTORY_UNAVAILABLE,
    Context,
    Contract,
    IndexState,
    Party,
    TimelineRow,
    hex32,
    index_state,
    short_address,
)

#: Contents a container page lists (the count says how many in all).
CONTENTS_SHOWN = 50


def sscc_url(sscc: str) -> str:
    """The GS1 Digital Link path of a container: ``/00/{sscc}``."""
    return f"/00/{sscc}"


class ContainerLink(BaseModel):
    """A case or pallet, as another page names and links it."""

    container_id: str
    sscc: str | None = None
    kind: str = Field(description="'case' (inside another, or holding items only) or 'pallet'.")
    label: str = Field(description="How a sentence names it: 'pallet (00) 095060000000000428'.")
    url: str | None = None


class ContentRow(BaseModel):
    """Something a container holds now: an item (with its live status) or a container."""

    id: str
    kind: str = Field(description="'item' or 'container'.")
    sscc: str | None = None
    status: Status | None = Field(default=None, description="An item's live status.")
    lot_id: int | None = None
    label: str
    url: str | None = None


class ContainerView(BaseModel):
    container_id: str
    sscc: str
    exists: bool
    custodian: Party | None = None
    pending_receiver: Party | None = None
    custody_changes: int = 0
    updated_at: int | None = None
    level: int = 0
    packed_in: list[ContainerLink] = Field(
        default_factory=list, description="The containers it is in, innermost first (live)."
    )
    location: str | None = None
    holds: list[ContentRow] = Field(default_factory=list, description=f"The first {CONTENTS_SHOWN}.")
    holds_count: int | None = Field(
        default=None, description="How many things it holds now (None: the history is unavailable)."
    )
    timeline: list[TimelineRow] = Field(default_factory=list)
    registry: Contract
    index: IndexState
    warnings: list[str] = Field(default_factory=list)


def links(chain: Sequence[ContainerRecord]) -> list[ContainerLink]:
    """``chain`` (innermost first) as links: the outermost is the pallet and those inside it
    cases; one alone is a pallet if it ever held a container, else a case."""
    out = []
    for n, record in enumerate(chain):
        outermost = n == len(chain) - 1
        kind = "pallet" if outermost and (len(chain) > 1 or record.level > 1) else "case"
        sscc = record.sscc18
        out.append(
            ContainerLink(
                container_id=record.container_id_hex,
                sscc=sscc,
                kind=kind,
                label=_label(kind, sscc, record.container_id_hex),
                url=sscc_url(sscc) if sscc else None,
            )
        )
    return out


def _label(kind: str, sscc: str | None, container_id: str) -> str:
    """How a sentence names a container: ``pallet (00) 095060000000000428``."""
    if kind == "pallet":
        if sscc:
            return _("pallet (00) %(sscc)s", sscc=sscc)
        return _("pallet %(id)s", id=short_address(container_id))
    return _("case (00) %(sscc)s", sscc=sscc) if sscc else _("case %(id)s", id=short_address(container_id))


def location(chain: Sequence[ContainerLink]) -> str | None:
    """``It is packed in case (00) …, on pallet (00) …. It moves with its pallet: …``."""
    if not chain:
        return None
    places = [
        _("on %(container)s", container=c.label)
        if c.kind == "pallet"
        else _("in %(container)s", container=c.label)
        for c in chain
    ]
    joined = places[0]
    for place in places[1:]:
        joined = _("%(first)s, %(next)s", first=joined, next=place)
    if chain[-1].kind == "pallet":
        return _(
            "It is packed %(places)s. It moves with its pallet: whoever holds the pallet holds it, and it "
            "cannot move alone until it is unpacked.",
            places=joined,
        )
    return _(
        "It is packed %(places)s. It moves with its case: whoever holds the case holds it, and it cannot "
        "move alone until it is unpacked.",
        places=joined,
    )


def contents_rows(
    ctx: Context,
    held: Sequence[bytes],
    statuses: Sequence[tuple[ItemStatus, int]],
    inner: Mapping[bytes, ContainerRecord],
) -> list[ContentRow]:
    """Rows of the first contents ``held``: an item by its live status, a container by its SSCC."""
    rows = []
    for content, (status, lot_id) in zip(held, statuses, strict=False):
        shown = hex32(content)
        box = inner.get(content)
        if box is not None and box.exists and box.sscc18:
            rows.append(
                ContentRow(
                    id=shown,
                    kind="container",
                    sscc=box.sscc18,
                    label=_("case (00) %(sscc)s", sscc=box.sscc18),
                    url=sscc_url(box.sscc18),
                )
            )  # fmt: skip
            continue
        item_status: Status = (
            "unknown"
            if status is ItemStatus.UNKNOWN
            else "claimed"
            if status is ItemStatus.CLAIMED
            else "sold"
            if status is ItemStatus.SOLD
            else "genuine"
        )
        rows.append(
            ContentRow(
                id=shown, kind="item", status=item_status, lot_id=lot_id or None,
                label=_("item %(id)s", id=short_address(shown)), url=ctx.item_url(shown),
            )
        )  # fmt: skip
    return rows


def container_view(
    ctx: Context,
    *,
    record: ContainerRecord,
    sscc: str,
    head: int,
    chain: Sequence[ContainerRecord],
    history: Sequence[Logged],
    held: Sequence[bytes] | None,
    rows: list[ContentRow],
    names: Mapping[str, Participant],
    indexed_block: int | None,
    history_available: bool,
) -> ContainerView:
    packed_in = links(chain)
    named = ssccs(history) | {bytes(r.container_id): r.sscc for r in (record, *chain) if r.exists}
    warnings = [] if history_available else [HISTORY_UNAVAILABLE]
    return ContainerView(
        container_id=record.container_id_hex,
        sscc=sscc,
        exists=record.exists,
        custodian=ctx.party(record.custodian, names),
        pending_receiver=ctx.party(record.pending_receiver, names),
        custody_changes=record.custody_nonce,
        updated_at=record.updated_at or None,
        level=record.level,
        packed_in=packed_in,
        location=location(packed_in),
        holds=rows,
        holds_count=len(held) if held is not None else None,
        timeline=[ctx.timeline_row(e, names, ssccs=named) for e in history],
        registry=ctx.registry,
        index=index_state(head, indexed_block, ctx.confirmations),
        warnings=warnings,
    )
