"""What the item and lot pages say of a blended lot: the origin label EU Directive 2024/1438 asks
of a honey blend, what the lot was made from, and why it reads as recalled when a lot it was made
from (at any depth) is recalled.

The graph comes from the history (``web.lineage``); whether each lot of it is recalled comes
from its live record; each leaf lot's origin from its metadata (``origin.country``), shown only
when the metadata the page holds matches the hash on chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from supplytrace.core.lineage import LineageError, recall_causes
from supplytrace.core.records import LotRecord, QuantityUnit
from supplytrace.core.text import Msg
from supplytrace.web.i18n import N_, reader_locale, say
from supplytrace.web.i18n import gettext as _
from supplytrace.web.lineage import MAX_PAGE_LOTS, LineageRead, blend_label
from supplytrace.web.lotdata import LotMetadata
from supplytrace.web.views.common import REASON_LIMIT, Context

#: What the page says when it did not read the whole lineage.
INCOMPLETE = Msg(
    "This lot is made from more lots than this page follows (%(count)s), or from lots the history does "
    "not show yet: its origin is not computed here, and a recall of a lot it was made from may not be shown.",
    count=str(MAX_PAGE_LOTS),
)
#: What the page says of a recall whose reason is not in the history yet.
NO_REASON_YET = N_("its reason is not in the history index yet")


class IngredientLot(BaseModel):
    """A lot a blend was made from, and how much of it the blend used."""

    lot_id: int
    gtin: str | None = None
    lot_code: str | None = None
    quantity: int = Field(description="How much of it the blend consumed, in `unit`.")
    unit: str = Field(description="each, gram or millilitre.")
    amount: str = Field(description="The quantity in words: 1,500 g.")
    recalled: bool = False
    url: str


class IngredientRecall(BaseModel):
    """A lot the item's lot was made from (at any depth) that is recalled."""

    lot_id: int
    gtin: str | None = None
    lot_code: str | None = None
    reason: str | None = None
    path: list[int] = Field(description="The lots from this one down to the recalled one.")
    url: str
    sentence: str


class Lineage(BaseModel):
    """A made lot's origin, inputs and the recalls that reach it."""

    origin_label: str | None = Field(
        default=None,
        description="The label line of a blend: 'Blend of honey from Romania (62 %), Bulgaria (38 %)'.",
    )
    made_from: list[IngredientLot] = Field(default_factory=list)
    recalls: list[IngredientRecall] = Field(
        default_factory=list, description="Recalled lots it was made from, nearest first."
    )
    complete: bool = True
    note: str | None = None

    @property
    def lot_codes(self) -> dict[int, str]:
        """The codes of the lots it was made from, to name them in a timeline."""
        return {i.lot_id: i.lot_code for i in self.made_from if i.lot_code is not None}


def _verified(found: LotMetadata | None) -> Mapping[str, Any] | None:
    return found.document if found is not None and found.state == "verified" else None


def lineage_view(
    ctx: Context,
    read: LineageRead,
    records: Mapping[int, LotRecord | None],
    metadata: Callable[[bytes], LotMetadata],
) -> Lineage:
    """The page's lineage of ``read.lot_id``: ``records`` the live records of the lots read,
    ``metadata`` the page's metadata store (checked against each lot's hash)."""
    transformations = read.transformations
    own = read.lots.get(read.lot_id)
    notes = [] if read.complete else [say(INCOMPLETE) or ""]

    def named(lot_id: int) -> tuple[str | None, str | None]:
        record = records.get(lot_id)
        return (record.gtin14, str(record.lot_code)) if record is not None else (None, None)

    recalled: dict[int, object] = {}
    for lot_id, facts in read.lots.items():
        record = records.get(lot_id)
        if record is not None and record.recalled:  # live: the history only adds the reason
            said = facts.recall_reason
            recalled[lot_id] = _NoReason() if said is None else said.shown(REASON_LIMIT)
    recalls: list[IngredientRecall] = []
    label = None
    try:
        for cause in recall_causes(read.lot_id, recalled, transformations):
            if cause.lot_id == read.lot_id:
                continue  # the lot's own recall: the page says it already
            gtin, code = named(cause.lot_id)
            why = None if isinstance(recalled[cause.lot_id], _NoReason) else cause.reason
            recalls.append(
                IngredientRecall(
                    lot_id=cause.lot_id,
                    gtin=gtin,
                    lot_code=code,
                    reason=why,
                    path=list(cause.path),
                    url=ctx.lot_url(cause.lot_id),
                    sentence=recall_sentence(cause.lot_id, gtin, code, why),
                )
            )
        label = say(
            blend_label(read, records, lambda digest: _verified(metadata(digest)), locale=reader_locale())
        )
    except LineageError as exc:
        notes.append(str(exc))
    made_from = []
    if own is not None and own.made is not None:
        unit = QuantityUnit.of(own.unit)
        for used in own.made.inputs:
            gtin, code = named(used.lot_id)
            record = records.get(used.lot_id)
            made_from.append(
                IngredientLot(
                    lot_id=used.lot_id,
                    gtin=gtin,
                    lot_code=code,
                    quantity=used.quantity,
                    unit=unit.word,
                    amount=say(unit.amount(used.quantity)) or "",
                    recalled=record is not None and record.recalled,
                    url=ctx.lot_url(used.lot_id),
                )
            )
    return Lineage(
        origin_label=label,
        made_from=made_from,
        recalls=recalls,
        complete=read.complete,
        note=" ".join(notes) or None,
    )


class _NoReason(str):
    """A recall whose reason the history does not hold yet (recalled live, not yet indexed)."""

    __slots__ = ()


def recall_sentence(lot_id: int, gtin: str | None, lot_code: str | None, reason: str | None) -> str:
    """ "Recalled because ingredient lot 4 (GTIN 09506000134352, lot H-RO) was recalled: residue"."""
    lot = str(lot_id)
    if gtin is not None:
        lot = _("%(lot)s (GTIN %(gtin)s, lot %(code)s)", lot=lot, gtin=gtin, code=lot_code or "")
    if reason:
        return _("Recalled because ingredient lot %(lot)s was recalled: %(reason)s", lot=lot, reason=reason)
    if reason is None:
        return _(
            "Recalled because ingredient lot %(lot)s was recalled (%(why)s)", lot=lot, why=_(NO_REASON_YET)
        )
    return _("Recalled because ingredient lot %(lot)s was recalled", lot=lot)
