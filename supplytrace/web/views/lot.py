"""The lot page: the lot's live record (recalled? closed?), its details checked against the hash
on chain, its history and its first items with their live status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from supplytrace.chain.history import LotHistory, Participant
from supplytrace.core.records import ItemStatus, LotRecord
from supplytrace.core.story import Status, amount, replay
from supplytrace.web.i18n import N_, say
from supplytrace.web.i18n import gettext as _
from supplytrace.web.lineage import lot_facts
from supplytrace.web.lotdata import LotMetadata
from supplytrace.web.views.common import (
    HISTORY_UNAVAILABLE,
    REASON_LIMIT,
    Context,
    Contract,
    IndexState,
    LotDetails,
    Party,
    TimelineRow,
    hex32,
    index_state,
    lot_details,
)
from supplytrace.web.views.lineage import Lineage

#: What the lot page says when the lot's brand no longer holds REGISTRAR_ROLE.
REVOKED_LOT = N_(
    "The brand's registration rights were withdrawn; the items registered before remain on record, "
    "and no new items can be registered into this lot."
)
#: Items on one lot page.
ITEMS_PER_PAGE = 50


class LotItemRow(BaseModel):
    item_id: str
    serial: str
    status: Status
    url: str


class LotView(BaseModel):
    lot_id: int
    gtin: str
    lot_code: str
    brand: Party | None
    recalled: bool
    recalled_at: int | None = None
    recall_reason: str | None = None
    closed: bool
    recalled_through: str | None = Field(
        default=None,
        description="Why the lot reads as recalled when a lot it was made from is: 'Recalled because "
        "ingredient lot X (GTIN …, lot …) was recalled: <reason>'.",
    )
    quantity: str | None = Field(
        default=None,
        description="A measured lot's declared quantity, what is left and each item's, in words.",
    )
    stock: int | None = Field(default=None, description="What is left of the lot's quantity (live).")
    unit: str | None = Field(default=None, description="each, gram or millilitre (a measured lot).")
    lineage: Lineage | None = None
    details: LotDetails
    events: list[TimelineRow]
    item_count: int | None = Field(
        default=None, description="Items registered into the lot (None: not counted, e.g. without an index)."
    )
    items: list[LotItemRow]
    page: int = Field(default=1, description="Which page of the lot's items this is (from 1).")
    previous_page: str | None = Field(default=None, description="The previous page's address.")
    next_page: str | None = Field(default=None, description="The next page's address.")
    items_note: str | None = Field(default=None, description="Why this page lists no items, if it cannot.")
    brand_registrar: bool | None = Field(
        default=None,
        description="Whether the lot's brand still holds REGISTRAR_ROLE (False: its registration "
        "rights were withdrawn); None without a brand.",
    )
    registry: Contract
    index: IndexState
    warnings: list[str] = Field(default_factory=list)


def item_status(status: ItemStatus, recalled: bool) -> Status:
    """An item's status from ``itemStatuses`` and its lot's recall (as ``core.story.status_of``)."""
    if status is ItemStatus.UNKNOWN:
        return "unknown"
    if recalled:
        return "recalled"
    if status is ItemStatus.CLAIMED:
        return "claimed"
    return "sold" if status is ItemStatus.SOLD else "genuine"


def lot_view(
    ctx: Context,
    *,
    record: LotRecord,
    head: int,
    history: LotHistory | None,
    statuses: Sequence[tuple[ItemStatus, int]],
    names: Mapping[str, Participant],
    indexed_block: int | None,
    metadata: LotMetadata,
    history_available: bool = True,
    page: int = 1,
    brand_registrar: bool | None = None,
    lineage: Lineage | None = None,
) -> LotView:
    events = history.events if history else []
    through = lineage.recalls[0].sentence + "." if lineage and lineage.recalls else None
    # The lot's own events name no item: any id reads them.
    reason = replay(bytes(32), events).recall_reason
    recall_reason = reason.shown(REASON_LIMIT) if reason is not None else None
    warnings = []
    if not history_available:
        warnings.append(_(HISTORY_UNAVAILABLE))
    elif history is None:
        warnings.append(
            _("This lot's history is not indexed yet; the record above is read live from the chain.")
        )
    elif record.recalled and reason is None:
        warnings.append(_("The recall is not in the history index yet; its reason will show once it is."))
    if lineage is not None and lineage.note:
        warnings.append(lineage.note)
    items = []
    for item, (status, _lot) in zip(history.items if history else [], statuses, strict=False):
        item_hex = hex32(item.item_id)
        items.append(
            LotItemRow(
                item_id=item_hex,
                serial=str(item.serial),
                status=item_status(status, record.recalled or through is not None),
                url=ctx.item_url(item_hex),
            )
        )
    brand = ctx.party(record.registrar, names)
    if brand_registrar is False:
        warnings.insert(0, _(REVOKED_LOT))
    here = ctx.lot_url(record.lot_id)
    items_note = None
    if history is not None and not history.listed:
        items_note = _(
            "Items beyond the first %(count)s are listed from the event index, which this page does not "
            "have (its operator can build one with `supplytrace index`).",
            count=ITEMS_PER_PAGE,
        )
    return LotView(
        lot_id=record.lot_id,
        gtin=record.gtin14,
        lot_code=str(record.lot_code),
        brand=brand,
        recalled=record.recalled,
        recalled_at=record.recalled_at or None,
        recall_reason=recall_reason,
        closed=record.closed,
        recalled_through=through,
        quantity=_quantity(record, lot_facts(record.lot_id, events).quantity),
        stock=record.stock if record.measured else None,
        unit=record.unit.word if record.measured else None,
        lineage=lineage,
        details=lot_details(record.metadata_hash, metadata, brand),
        events=[ctx.timeline_row(e, names, lot_codes=lineage.lot_codes if lineage else None) for e in events],
        item_count=history.item_count if history else None,
        items=items,
        page=page,
        previous_page=f"{here}?page={page - 1}" if page > 1 else None,
        next_page=f"{here}?page={page + 1}" if history and history.more and history.listed else None,
        items_note=items_note,
        brand_registrar=brand_registrar,
        registry=ctx.registry,
        index=index_state(head, indexed_block, ctx.confirmations),
        warnings=warnings,
    )


def _quantity(record: LotRecord, declared: int | None) -> str | None:
    """``5,000 g declared, 3,750 g left, 250 g in each item`` (the stock is live; the declared
    quantity is the history's)."""
    if not record.measured:
        return None
    unit = record.unit
    parts = [_("%(amount)s declared", amount=say(amount(unit, declared)))] if declared is not None else []
    parts.append(_("%(amount)s left", amount=say(amount(unit, record.stock))))
    if record.item_quantity:
        parts.append(_("%(amount)s in each item", amount=say(amount(unit, record.item_quantity))))
    joined = parts[0]
    for part in parts[1:]:
        joined = _("%(first)s, %(next)s", first=joined, next=part)
    return joined
