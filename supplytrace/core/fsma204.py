"""The US FDA Food Traceability Rule (FSMA 204, 21 CFR 1 Subpart S) sortable spreadsheet: one
row per Critical Tracking Event (CTE) with its Key Data Elements (KDEs), from the registry's events.

| CTE             | registry event                                           | where, who          |
|-----------------|----------------------------------------------------------|---------------------|
| Initial packing | ``LotQuantityDeclared`` (a measured lot's registration)  | the lot's registrar |
|                 | ``ItemRegistered`` (items packed into a lot)             | the lot's registrar |
| Transformation  | ``LotTransformed`` (``registerTransformedLot``: a blend) | its registrar       |
| Shipping        | ``CustodyOffered``; a signed one-transaction handoff     | the sender, to the  |
|                 | (``CustodyTransferred`` with no open offer)              | receiver            |
| Receiving       | ``CustodyTransferred`` (accept, or the handoff)          | the receiver, from  |
|                 |                                                          | the sender          |

Packing into and unpacking from containers are not CTEs (a container's custody steps are: each
lot it holds then gets its row); a sale to a consumer is outside the rule, as are observations,
claims, recalls and naming. An offer later cancelled or rejected keeps its shipping row (no
receiving row follows it). Rows are aggregated per (CTE, transaction, lot, sender, receiver), so
a pallet of 1,000 items of one lot handed over in one transaction is one shipping row and one
receiving row of 1,000 each.

Quantity and unit of measure: a measured lot's own quantity in its unit (``g``, ``ml``, ``each``);
items of a measured lot count its per-item net quantity each; items of any other lot count 1
``each``. The traceability lot code (TLC) is the GS1 element string of GTIN and lot code,
``(01)09506000134352(10)LOT-1``; its source location is the lot's registrar, who assigned it.
The chain holds no GS1 GLN for an address, so a location is the address with its verified name
(published by the registry's admin) or, marked unverified, its self-description.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, assert_never

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.events import (
    BrandNamed,
    BrandUnnamed,
    CodesCommitted,
    CompanyPrefixAssigned,
    CompanyPrefixReleased,
    ContainerCreated,
    ContainerPacked,
    ContainerUnpacked,
    CustodyOffered,
    CustodyTransferred,
    GtinAssigned,
    GtinReleased,
    ItemClaimed,
    ItemObserved,
    ItemRegistered,
    ItemSold,
    Logged,
    LotClosed,
    LotQuantityDeclared,
    LotRecalled,
    LotRegistered,
    LotRenewed,
    LotTransformed,
    OfferCancelled,
    OfferRejected,
    ParticipantDescribed,
    RoleGranted,
    RoleRevoked,
)
from supplytrace.core.records import QuantityUnit
from supplytrace.core.rows import MAX_NESTING

Cte = Literal["Initial packing", "Transformation", "Shipping", "Receiving"]

#: The spreadsheet's columns: the rule's KDE names (21 CFR 1.1330-1.1350), one row per CTE.
COLUMNS = (
    "Critical tracking event",
    "Date",
    "Traceability lot code",
    "Product description",
    "Quantity",
    "Unit of measure",
    "Location description",
    "Location shipped from",
    "Location of the immediate recipient",
    "Traceability lot code source location",
    "Traceability lot codes of the food used",
    "Reference document type",
    "Reference document number",
)
#: What the reference document of every row is: the transaction that recorded the event.
REFERENCE_TYPE = "blockchain transaction"
#: How each unit is written in the "Unit of measure" column.
UNIT_WORDS = {QuantityUnit.EACH: "each", QuantityUnit.GRAM: "g", QuantityUnit.MILLILITRE: "ml"}


class Fsma204Error(SupplytraceError):
    """A date range the export cannot take; the message says which and how to write it."""


@dataclass(frozen=True)
class LotInfo:
    """What a row needs of a lot: its GS1 key, product, registrar and measure."""

    gtin14: str
    lot_code: str
    registrar: str | None = None
    product: str | None = None  # the lot metadata's product name, when known and verified
    unit: QuantityUnit = QuantityUnit.NONE  # NONE: the lot declared no quantity
    item_quantity: int = 0  # each item's net quantity (in ``unit``)

    @property
    def tlc(self) -> str:
        """The traceability lot code: GTIN and lot code as a GS1 element string."""
        return f"(01){self.gtin14}(10){self.lot_code}"

    @property
    def description(self) -> str:
        return self.product or f"GTIN {self.gtin14}"

    def per_item(self) -> tuple[int, str]:
        """One item's quantity and unit: its net quantity in a measured lot, else 1 each."""
        if self.unit is not QuantityUnit.NONE and self.item_quantity > 0:
            return self.item_quantity, UNIT_WORDS[self.unit]
        return 1, "each"


@dataclass(frozen=True)
class Party:
    """What is known of an address: its verified name and its (unverified) self-description."""

    verified_name: str | None = None
    description: str | None = None


def location(address: str | None, parties: Mapping[str, Party]) -> str:
    """An address as a location: ``Name (0x...)`` when the admin verified its name, else the
    address with its self-description marked unverified, else the address alone."""
    if not address:
        return ""
    party = parties.get(address, Party())
    if party.verified_name:
        return f"{party.verified_name} ({address})"
    if party.description:
        return f"{address} (self-described, unverified: {party.description})"
    return address


@dataclass
class CteRow:
    """One CTE of one lot in one transaction, with its KDEs (:data:`COLUMNS`)."""

    cte: Cte
    timestamp: int
    block_number: int
    log_index: int
    lot_id: int
    tlc: str
    product: str
    quantity: int
    unit: str
    location: str
    shipped_from: str
    recipient: str
    tlc_source: str
    tx_hash: str
    inputs: str = ""

    @property
    def date(self) -> str:
        """The event's block time, ISO 8601 UTC."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.timestamp))

    def cells(self) -> tuple[str | int, ...]:
        """The row's values in :data:`COLUMNS` order."""
        return (
            self.cte, self.date, self.tlc, self.product, self.quantity, self.unit, self.location,
            self.shipped_from, self.recipient, self.tlc_source, self.inputs, REFERENCE_TYPE, self.tx_hash,
        )  # fmt: skip


def parse_day(text: str, option: str) -> datetime:
    """A calendar day ``YYYY-MM-DD`` (UTC midnight), with one sentence for anything else."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise Fsma204Error(
            f"{option} {text!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-07-14)."
        ) from None
    return day.replace(tzinfo=UTC)


def day_range(since: str, until: str) -> tuple[int, int]:
    """The Unix times from the start of day ``since`` to the end of day ``until`` (UTC, both
    included); one sentence when either is not a date or ``since`` is after ``until``."""
    start, end = parse_day(since, "--from"), parse_day(until, "--to")
    if start > end:
        raise Fsma204Error(
            f"--from {start:%Y-%m-%d} is after --to {end:%Y-%m-%d}; give the earlier day as --from."
        )
    return int(start.timestamp()), int(end.timestamp()) + 86_399


@dataclass
class _Fold:
    """What the events said so far: each item's lot, what each container holds, open offers."""

    lots: Mapping[int, LotInfo]
    parties: Mapping[str, Party]
    item_lot: dict[bytes, int] = field(default_factory=dict)
    parent: dict[bytes, bytes] = field(default_factory=dict)  # item or container -> its container
    offered: dict[bytes, str] = field(default_factory=dict)  # item or container -> the offer's maker
    rows: dict[tuple[str, str, int, str, str], CteRow] = field(default_factory=dict)

    def items_in(self, subject: bytes) -> list[bytes]:
        """The items ``subject`` stands for: itself, or what the container holds at any depth."""
        if subject in self.item_lot:
            return [subject]
        boxes, found = {subject}, []
        for _ in range(MAX_NESTING + 1):
            inner = {child for child, box in self.parent.items() if box in boxes}
            found += [child for child in inner if child in self.item_lot]
            boxes = {child for child in inner if child not in self.item_lot}
            if not boxes:
                break
        return found

    def add(
        self, cte: Cte, log: Logged, lot_id: int, count: int, *, at: str | None, frm: str = "", to: str = ""
    ) -> None:
        """Add ``count`` items (or, for a lot's own quantity, ``count`` of its unit) to the row
        of (``cte``, the transaction, the lot, sender, receiver)."""
        lot = self.lots.get(lot_id)
        if lot is None:
            return  # a lot not exported (another lot's items on the same pallet)
        key = (cte, log.tx_hash, lot_id, frm, to)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = CteRow(
                cte, log.timestamp or 0, log.block_number, log.log_index, lot_id, lot.tlc, lot.description,
                0, "", location(at, self.parties), location(frm, self.parties), location(to, self.parties),
                location(lot.registrar, self.parties), log.tx_hash,
            )  # fmt: skip
        event = log.event
        if isinstance(event, LotQuantityDeclared | LotTransformed):  # the lot's own quantity
            row.quantity += count
            row.unit = UNIT_WORDS.get(QuantityUnit.of(event.unit), "")
        else:  # items
            per_item, row.unit = lot.per_item()
            row.quantity += count * per_item

    def custody(self, cte: Cte, log: Logged, subject: bytes, frm: str, to: str) -> None:
        by_lot: dict[int, int] = {}
        for item in self.items_in(subject):
            by_lot[self.item_lot[item]] = by_lot.get(self.item_lot[item], 0) + 1
        for lot_id, count in sorted(by_lot.items()):
            self.add(cte, log, lot_id, count, at=frm if cte == "Shipping" else to, frm=frm, to=to)


def cte_rows(
    events: Iterable[Logged],
    lots: Mapping[int, LotInfo],
    *,
    since: int,
    until: int,
    parties: Mapping[str, Party] | None = None,
    wanted: Collection[int] | None = None,
) -> list[CteRow]:
    """The CTE rows of ``events`` (chain order, block times set; every event of the exported lots
    and their items and containers, from the first, so that each item's lot and each pallet's
    contents are known) whose block time is in ``since``..``until`` (Unix times, both included),
    for the lots of ``lots`` (of ``wanted`` alone when given), sorted by date then chain order."""
    fold = _Fold(lots, parties or {})
    for log in events:
        inside = since <= (log.timestamp or 0) <= until
        event = log.event
        match event:
            case ItemRegistered():
                fold.item_lot[bytes(event.item_id)] = event.lot_id
                if inside:
                    registrar = lots[event.lot_id].registrar if event.lot_id in lots else None
                    fold.add("Initial packing", log, event.lot_id, 1, at=registrar)
            case LotQuantityDeclared():
                if inside and event.lot_id in lots:
                    fold.add(
                        "Initial packing", log, event.lot_id, event.quantity, at=lots[event.lot_id].registrar
                    )
            case LotTransformed():
                if inside and event.lot_id in lots:
                    fold.add(
                        "Transformation", log, event.lot_id, event.quantity, at=lots[event.lot_id].registrar
                    )
                    fold.rows[("Transformation", log.tx_hash, event.lot_id, "", "")].inputs = _inputs(
                        event, lots
                    )
            case CustodyOffered():
                fold.offered[bytes(event.item_id)] = event.from_
                if inside:
                    fold.custody("Shipping", log, bytes(event.item_id), event.from_, event.to)
            case CustodyTransferred():
                subject = bytes(event.item_id)
                if inside and fold.offered.get(subject) is None:  # a one-transaction signed handoff
                    fold.custody("Shipping", log, subject, event.from_, event.to)
                fold.offered.pop(subject, None)
                if inside:
                    fold.custody("Receiving", log, subject, event.from_, event.to)
            case OfferCancelled() | OfferRejected():
                fold.offered.pop(bytes(event.item_id), None)
            case ContainerPacked():
                for content in map(bytes, event.contents):
                    fold.parent[content] = bytes(event.container_id)
            case ContainerUnpacked():
                for content in map(bytes, event.contents):
                    fold.parent.pop(content, None)
                    if fold.offered.get(content) not in (None, event.custodian):
                        fold.offered.pop(content)  # its packer's open offer lapses, as on chain
            case ItemSold() | ItemClaimed() | ItemObserved() | LotRecalled():
                pass  # a sale to a consumer is outside the rule; the others are not CTEs
            case ContainerCreated() | CodesCommitted() | LotRegistered() | LotClosed() | LotRenewed():
                pass  # a lot's registration packs nothing until its quantity or items
            case BrandNamed() | BrandUnnamed() | ParticipantDescribed() | RoleGranted() | RoleRevoked():
                pass
            case GtinAssigned() | GtinReleased() | CompanyPrefixAssigned() | CompanyPrefixReleased():
                pass
            case _:
                assert_never(event)
    rows = [row for row in fold.rows.values() if wanted is None or row.lot_id in wanted]
    return sorted(rows, key=lambda r: (r.timestamp, r.block_number, r.log_index, r.cte != "Shipping"))


def input_lots(events: Iterable[Logged]) -> set[int]:
    """The lots the blends among ``events`` used (to name them by their TLCs)."""
    return {n for log in events if isinstance(log.event, LotTransformed) for n in log.event.input_lot_ids}


def _inputs(event: LotTransformed, lots: Mapping[int, LotInfo]) -> str:
    """The lots a blend used, each as its TLC (or lot id when not exported) with the quantity."""
    unit = UNIT_WORDS.get(QuantityUnit.of(event.unit), "")
    used = zip(event.input_lot_ids, event.input_quantities, strict=False)
    return "; ".join(
        f"{lots[lot].tlc if lot in lots else f'lot {lot}'} {quantity} {unit}".rstrip()
        for lot, quantity in used
    )
