"""What the pages read of a lot's lineage: the lots it was blended from, at any depth.

A blend's inputs are on chain only as events (a transformation's), so the graph comes from the
history source, lot by lot (:func:`read_lineage`, in a worker thread); whether a lot of it is
recalled comes from the live records (``getLot`` of every lot found, one batch: the page checks
the ancestors live, as issue #14 asks). The graph never changes once written (a lot is blended
once, when it is made), so a lagging index can only miss a lot made after its checkpoint, which
the index's chain tail covers.

Bounded: a page reads at most :data:`MAX_PAGE_LOTS` lots of a lineage; beyond that it says it
cannot show the whole of it (no origin label, and that it could not check every ingredient).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from supplytrace.chain.history import HistorySource
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.events import Logged, subject_ids
from supplytrace.core.lineage import Transformation, origin_label, origin_shares
from supplytrace.core.records import LotRecord, QuantityUnit
from supplytrace.core.reducer import State, transformations_of
from supplytrace.core.text import ChainText, Msg

#: The most lots a page reads of one lineage (the lot itself included).
MAX_PAGE_LOTS = 32


@dataclass(frozen=True)
class LotFacts:
    """What a lot's own events say: how it was made, how much it declared, why it was recalled."""

    lot_id: int
    made: Transformation | None = None
    quantity: int | None = None  # declared (measured or made), in ``unit``
    unit: QuantityUnit = QuantityUnit.NONE
    recall_reason: ChainText | None = None


@dataclass(frozen=True)
class LineageRead:
    """The lots a page read of a lineage, by id (the lot asked about first)."""

    lot_id: int
    lots: dict[int, LotFacts] = field(default_factory=dict)
    #: False when the page did not read every lot of it (too many, or one the history lacks).
    complete: bool = True

    @property
    def transformations(self) -> dict[int, Transformation]:
        return {n: f.made for n, f in self.lots.items() if f.made is not None}

    @property
    def made(self) -> bool:
        """Whether the lot asked about was made by a transformation (a blend)."""
        own = self.lots.get(self.lot_id)
        return own is not None and own.made is not None


def lot_facts(lot_id: int, events: list[Logged]) -> LotFacts:
    """The facts of lot ``lot_id`` from events that include its own (others are ignored), folded
    by the reducer; a history it cannot fold (no registration first) says nothing."""
    state = State()
    try:
        for log in events:
            if subject_ids(log.event) == (None, lot_id):
                state.apply(log if log.timestamp is not None else log.stamped(0))
    except SupplytraceError:  # IndexCorruptError: an event of a lot whose registration is missing
        return LotFacts(lot_id)
    row = state.lots.get(lot_id)
    if row is None:
        return LotFacts(lot_id)
    unit = QuantityUnit.of(row.unit)
    return LotFacts(
        lot_id,
        transformations_of(state.lot_inputs, state.lots).get(lot_id),
        row.quantity if unit is not QuantityUnit.NONE else None,
        unit,
        ChainText(row.recall_reason) if row.recall_reason is not None else None,
    )


def read_lineage(source: HistorySource, lot_id: int, own_events: list[Logged] | None = None) -> LineageRead:
    """Lot ``lot_id`` and the lots it was made from, breadth first, at most
    :data:`MAX_PAGE_LOTS` (``own_events``: its events, when the page has them already). Runs in
    a worker thread (the source's drivers block)."""
    lots: dict[int, LotFacts] = {}
    queue = [lot_id]
    complete = True
    while queue:
        lot = queue.pop(0)
        if lot in lots:
            continue
        if len(lots) >= MAX_PAGE_LOTS:
            complete = False
            break
        if lot == lot_id and own_events is not None:
            events = own_events
        else:
            found = source.lot(lot, 0, bounded=True)
            if found is None:
                complete = False
                lots[lot] = LotFacts(lot)
                continue
            events = found.events
        facts = lots[lot] = lot_facts(lot, events)
        if facts.made is not None:
            queue += [used.lot_id for used in facts.made.inputs if used.lot_id not in lots]
    return LineageRead(lot_id, lots, complete)


def country_of(document: Mapping[str, Any] | None) -> str | None:
    """The ``origin.country`` of a lot's metadata document, or None."""
    origin = (document or {}).get("origin")
    country = origin.get("country") if isinstance(origin, dict) else None
    return country if isinstance(country, str) and country.strip() else None


def blend_label(
    read: LineageRead,
    records: Mapping[int, LotRecord | None],
    document: Callable[[bytes], Mapping[str, Any] | None],
    *,
    locale: str = "en",
) -> Msg | None:
    """The origin label of a blend (EU 2024/1438: "Blend of honey from Romania (62 %), ..."), or
    None for a lot no transformation made or a lineage not wholly read. ``records``: the live
    records of the lots read; ``document``: a lot's verified metadata by its hash (None when it
    is missing or does not match: that lot's origin is unknown). Raises LineageError."""
    if not (read.complete and read.made):
        return None
    transformations = read.transformations
    origins: dict[int, str | None] = {}
    for lot_id in read.lots:
        if lot_id in transformations:
            continue
        record = records.get(lot_id)
        origins[lot_id] = country_of(document(record.metadata_hash)) if record is not None else None
    return origin_label(origin_shares(read.lot_id, origins, transformations), locale=locale)
