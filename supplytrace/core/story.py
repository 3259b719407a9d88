"""The story: each event as one plain-language step, and an item's status in words.

The command line's ``history`` and the page's timeline tell the same story from
:func:`describe`: who did what, to whom, with what detail. Addresses stay addresses here; the
page turns them into names (verified, or self-described and marked so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, assert_never

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
    RegistryEvent,
    RoleGranted,
    RoleRevoked,
)
from supplytrace.core.hashing import checksum
from supplytrace.core.records import DEFAULT_ADMIN_ROLE, REGISTRAR_ROLE, ItemRecord, QuantityUnit

Status = Literal["genuine", "sold", "claimed", "recalled", "unknown"]


@dataclass(frozen=True)
class Step:
    """One event in plain words: ``actor`` ``verb`` ``counterpart`` (``detail``). ``actor`` is
    None when the event does not name one (a registration: the lot's brand)."""

    actor: str | None
    verb: str
    counterpart: str | None = None
    detail: str | None = None
    item_id: bytes | None = None  # the item the step is about, for lists of several items

    @property
    def addresses(self) -> set[str]:
        return {a for a in (self.actor, self.counterpart) if a}

    def sentence(self, name: Mapping[str, str] | None = None) -> str:
        """The whole step as one line; ``name`` maps addresses to what to call them."""
        names = name or {}
        who = names.get(self.actor, self.actor) if self.actor else None
        other = names.get(self.counterpart, self.counterpart) if self.counterpart else None
        verb = self.verb if who else self.verb[:1].upper() + self.verb[1:]
        text = " ".join(part for part in (who, verb, other) if part)
        return f"{text} ({self.detail})" if self.detail else text


def _code(value: object) -> str:
    return str(value)


def pallet(container_id: bytes, ssccs: Mapping[bytes, int] | None = None) -> str:
    """A container as a sentence names it: ``pallet (00) 012345678901234567`` by its SSCC (the
    human-readable form of GS1 AI 00), else by the start of its id."""
    sscc = (ssccs or {}).get(bytes(container_id))
    return f"pallet (00) {sscc:018d}" if sscc else f"pallet 0x{bytes(container_id).hex()[:8]}…"


def _lot(lot_id: int, lot_codes: Mapping[int, str] | None) -> str:
    return f"lot {(lot_codes or {}).get(lot_id) or lot_id}"


def _custody(
    event: CustodyOffered | OfferCancelled | OfferRejected | CustodyTransferred,
    verb: str,
    ssccs: Mapping[bytes, int] | None,
) -> Step:
    """A custody step; one of a container (``ssccs`` names it) says which, since an item's
    timeline shows the moves of the pallets it was in."""
    item_id = bytes(event.item_id)
    detail = f"with {pallet(item_id, ssccs)}" if ssccs and item_id in ssccs else None
    actor, other = (event.to, event.from_) if isinstance(event, OfferRejected) else (event.from_, event.to)
    return Step(actor, verb, other, detail=detail, item_id=item_id)


def describe(
    event: RegistryEvent,
    *,
    brand: str | None = None,
    lot_codes: Mapping[int, str] | None = None,
    ssccs: Mapping[bytes, int] | None = None,
) -> Step:
    """``event`` as a :class:`Step`. ``brand`` is the lot's registrar (the actor of an item's
    registration); ``lot_codes`` names lots by code instead of by number, ``ssccs`` containers
    by SSCC (their ``ContainerCreated``) instead of by id."""
    match event:
        case LotRegistered():
            return Step(
                event.registrar, f"opened lot {_code(event.lot_code)}", detail=f"GTIN {event.gtin:014d}"
            )
        case ItemRegistered():
            code = (lot_codes or {}).get(event.lot_id)
            return Step(
                brand,
                "registered this item",
                detail=f"serial {_code(event.serial)}, lot {code or event.lot_id}",
                item_id=event.item_id,
            )
        case CustodyOffered():
            return _custody(event, "offered it to", ssccs)
        case OfferCancelled():
            return _custody(event, "withdrew the offer to", ssccs)
        case OfferRejected():
            return _custody(event, "declined the offer from", ssccs)
        case CustodyTransferred():
            return _custody(event, "handed it over to", ssccs)
        case ItemObserved():
            detail = f"data fingerprint 0x{event.data_hash.hex()}" if any(event.data_hash) else None
            return Step(
                event.by, f"recorded a step: {_code(event.biz_step)}", detail=detail, item_id=event.item_id
            )
        case ItemSold():
            return Step(event.seller, "sold it to a customer", item_id=event.item_id)
        case ItemClaimed():
            return Step(
                None, "claimed by its buyer with the code inside the pack; it was last held by",
                event.custodian, item_id=event.item_id,
            )  # fmt: skip
        case CodesCommitted():
            return Step(None, f"hidden codes were sealed inside the packs of {event.count} items of the lot")
        case LotQuantityDeclared():
            unit = QuantityUnit.of(event.unit)
            return Step(
                None, f"the lot holds {unit.amount(event.quantity)}",
                detail=f"{unit.amount(event.item_quantity)} in each item" if event.item_quantity else None,
            )  # fmt: skip
        case LotTransformed():
            unit = QuantityUnit.of(event.unit)
            used = ", ".join(
                f"{_lot(lot_id, lot_codes)} ({unit.amount(quantity)})"
                for lot_id, quantity in zip(event.input_lot_ids, event.input_quantities, strict=False)
            )
            return Step(None, f"blended from {used}", detail=f"{unit.amount(event.quantity)} made")
        case ContainerCreated():
            return Step(
                event.custodian, f"labelled {pallet(event.container_id, {event.container_id: event.sscc})}"
            )
        case ContainerPacked():
            return Step(
                event.custodian, f"packed {_count(event.contents)} into {pallet(event.container_id, ssccs)}",
                item_id=event.container_id,
            )  # fmt: skip
        case ContainerUnpacked():
            return Step(
                event.custodian, f"took {_count(event.contents)} out of {pallet(event.container_id, ssccs)}",
                item_id=event.container_id,
            )  # fmt: skip
        case LotRecalled():
            reason = f"Reason: {_code(event.reason)}" if event.reason else None
            return Step(event.by, "recalled the whole lot", detail=reason)
        case LotClosed():
            return Step(event.by, "closed the lot to new items")
        case LotRenewed():
            return Step(event.by, "renewed the lot", detail="still a brand owning its GTIN")
        case BrandNamed():
            verb = (
                f"is named {_code(event.name)} by the registry's admin"
                if event.name
                else "has no verified name"
            )
            return Step(event.brand, verb)
        case BrandUnnamed():
            return Step(event.brand, "no longer has a verified name")
        case ParticipantDescribed():
            return Step(
                event.participant, "described itself", detail=f"unverified: {_code(event.description)}"
            )
        case RoleGranted():
            return Step(event.sender, f"gave the {_role(event.role)} role to", event.account)
        case RoleRevoked():
            return Step(event.sender, f"took the {_role(event.role)} role from", event.account)
        case GtinAssigned():
            return Step(event.registrar, f"was assigned GTIN {event.gtin:014d}")
        case GtinReleased():
            return Step(event.registrar, f"no longer holds GTIN {event.gtin:014d}")
        case CompanyPrefixAssigned():
            return Step(event.registrar, f"was assigned company prefix {event.prefix:0{event.length}d}")
        case CompanyPrefixReleased():
            return Step(event.registrar, f"no longer holds company prefix {event.prefix:0{event.length}d}")
        case _:
            assert_never(event)


def _count(contents: tuple[bytes, ...]) -> str:
    return "1 item" if len(contents) == 1 else f"{len(contents)} items"


def _role(role: bytes) -> str:
    if role == REGISTRAR_ROLE:
        return "brand"
    if role == DEFAULT_ADMIN_ROLE:
        return "registry admin"
    return f"0x{role.hex()[:8]}…"


def addresses(events: Iterable[RegistryEvent]) -> set[str]:
    """Every address the events' steps name (to look up names for)."""
    found: set[str] = set()
    for event in events:
        found |= describe(event).addresses
    return found


def status_of(record: ItemRecord) -> Status:
    """What a shopper is told first: unknown, recalled (over all else), claimed, sold, or genuine."""
    if not record.registered:
        return "unknown"
    if record.recalled:
        return "recalled"
    if record.claimed:
        return "claimed"
    if record.sold:
        return "sold"
    return "genuine"


def code_roots(logs: Iterable[Logged], lot_id: int) -> list[bytes]:
    """The hidden-code roots committed for lot ``lot_id`` in ``logs``, first seen first."""
    roots = [
        bytes(log.event.root)
        for log in logs
        if isinstance(log.event, CodesCommitted) and log.event.lot_id == lot_id
    ]
    return list(dict.fromkeys(roots))


def relayable(event: RegistryEvent) -> bool:
    """Whether ``event`` records a custody action that may have been relayed (see :func:`relayed_by`)."""
    return isinstance(
        event, CustodyOffered | OfferCancelled | OfferRejected | CustodyTransferred | ItemObserved | ItemSold
    )


def relayed_by(event: RegistryEvent, sender: str) -> str | None:
    """Who sent, and paid for, a custody action signed by its actor (a relayed action): the
    transaction's ``sender`` when it is none of the parties the event names; None otherwise
    (a direct call, or an event that is not a custody action)."""
    match event:
        case CustodyOffered() | OfferCancelled() | OfferRejected() | CustodyTransferred():
            parties = {event.from_, event.to}
        case ItemObserved():
            parties = {event.by}
        case ItemSold():
            parties = {event.seller}
        case _:
            return None
    if not sender:
        return None
    payer = checksum(sender)
    return None if payer in parties else payer
