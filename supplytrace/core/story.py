"""The story: each event as one plain-language step, an item's status in words, and what its
history says against its live record (:func:`verdict`).

The command line's ``history`` and the page's timeline tell the same story from
:func:`describe`: who did what, to whom, with what detail. Addresses stay addresses here; the
page turns them into names (verified, or self-described and marked so).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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
    subject_ids,
)
from supplytrace.core.hashing import checksum
from supplytrace.core.records import DEFAULT_ADMIN_ROLE, REGISTRAR_ROLE, ItemRecord, QuantityUnit
from supplytrace.core.reducer import ItemChange
from supplytrace.core.rows import MAX_NESTING
from supplytrace.core.text import ChainText, Msg

Status = Literal["genuine", "sold", "claimed", "recalled", "unknown"]


@dataclass(frozen=True)
class Step:
    """One event in plain words: ``actor`` ``verb`` ``counterpart`` (``detail``). ``actor`` is
    None when the event does not name one (a registration: the lot's brand)."""

    actor: str | None
    verb: Msg
    counterpart: str | None = None
    detail: Msg | None = None
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


def pallet(container_id: bytes, ssccs: Mapping[bytes, int] | None = None) -> Msg:
    """A container as a sentence names it: ``pallet (00) 012345678901234567`` by its SSCC (the
    human-readable form of GS1 AI 00), else by the start of its id."""
    sscc = (ssccs or {}).get(bytes(container_id))
    if sscc:
        return Msg("pallet (00) %(sscc)s", sscc=f"{sscc:018d}")
    return Msg("pallet %(id)s", id=f"0x{bytes(container_id).hex()[:8]}…")


def _lot(lot_id: int, lot_codes: Mapping[int, str] | None) -> Msg:
    return Msg("lot %(lot)s", lot=(lot_codes or {}).get(lot_id) or str(lot_id))


def amount(unit: QuantityUnit, quantity: int) -> Msg:
    """``quantity`` of ``unit`` (:meth:`QuantityUnit.amount`), its number left to the reader."""
    if unit == QuantityUnit.GRAM:
        return Msg("%(quantity)s g", quantity=quantity)
    if unit == QuantityUnit.MILLILITRE:
        return Msg("%(quantity)s ml", quantity=quantity)
    return Msg("%(quantity)s each", quantity=quantity)


def _custody(
    event: CustodyOffered | OfferCancelled | OfferRejected | CustodyTransferred,
    verb: Msg,
    ssccs: Mapping[bytes, int] | None,
) -> Step:
    """A custody step; one of a container (``ssccs`` names it) says which, since an item's
    timeline shows the moves of the pallets it was in."""
    item_id = bytes(event.item_id)
    detail = Msg("with %(pallet)s", pallet=pallet(item_id, ssccs)) if ssccs and item_id in ssccs else None
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
    by SSCC (their ``ContainerCreated``) instead of by id. Verbs and details are :class:`Msg`,
    so a reader can say them in another language."""
    match event:
        case LotRegistered():
            return Step(
                event.registrar,
                Msg("opened lot %(lot)s", lot=_code(event.lot_code)),
                detail=Msg("GTIN %(gtin)s", gtin=f"{event.gtin:014d}"),
            )
        case ItemRegistered():
            code = (lot_codes or {}).get(event.lot_id)
            return Step(
                brand,
                Msg("registered this item"),
                detail=Msg(
                    "serial %(serial)s, lot %(lot)s",
                    serial=_code(event.serial),
                    lot=code or str(event.lot_id),
                ),
                item_id=event.item_id,
            )
        case CustodyOffered():
            return _custody(event, Msg("offered it to"), ssccs)
        case OfferCancelled():
            return _custody(event, Msg("withdrew the offer to"), ssccs)
        case OfferRejected():
            return _custody(event, Msg("declined the offer from"), ssccs)
        case CustodyTransferred():
            return _custody(event, Msg("handed it over to"), ssccs)
        case ItemObserved():
            fingerprint = f"0x{event.data_hash.hex()}"
            detail = Msg("data fingerprint %(hash)s", hash=fingerprint) if any(event.data_hash) else None
            return Step(
                event.by, Msg("recorded a step: %(step)s", step=_code(event.biz_step)), detail=detail,
                item_id=event.item_id,
            )  # fmt: skip
        case ItemSold():
            return Step(event.seller, Msg("sold it to a customer"), item_id=event.item_id)
        case ItemClaimed():
            return Step(
                None, Msg("claimed by its buyer with the code inside the pack; it was last held by"),
                event.custodian, item_id=event.item_id,
            )  # fmt: skip
        case CodesCommitted():
            sealed = Msg(
                "hidden codes were sealed inside the packs of %(count)s items of the lot",
                count=str(event.count),
            )
            return Step(None, sealed)
        case LotQuantityDeclared():
            unit = QuantityUnit.of(event.unit)
            each = amount(unit, event.item_quantity)
            return Step(
                None, Msg("the lot holds %(amount)s", amount=amount(unit, event.quantity)),
                detail=Msg("%(amount)s in each item", amount=each) if event.item_quantity else None,
            )  # fmt: skip
        case LotTransformed():
            unit = QuantityUnit.of(event.unit)
            used = [
                Msg("%(lot)s (%(amount)s)", lot=_lot(lot_id, lot_codes), amount=amount(unit, quantity))
                for lot_id, quantity in zip(event.input_lot_ids, event.input_quantities, strict=False)
            ]
            return Step(
                None, Msg("blended from %(lots)s", lots=_listed(used)),
                detail=Msg("%(amount)s made", amount=amount(unit, event.quantity)),
            )  # fmt: skip
        case ContainerCreated():
            return Step(
                event.custodian,
                Msg(
                    "labelled %(pallet)s", pallet=pallet(event.container_id, {event.container_id: event.sscc})
                ),
            )
        case ContainerPacked():
            box = pallet(event.container_id, ssccs)
            verb = Msg("packed %(count)s into %(pallet)s", count=_count(event.contents), pallet=box)
            return Step(event.custodian, verb, item_id=event.container_id)
        case ContainerUnpacked():
            box = pallet(event.container_id, ssccs)
            verb = Msg("took %(count)s out of %(pallet)s", count=_count(event.contents), pallet=box)
            return Step(event.custodian, verb, item_id=event.container_id)
        case LotRecalled():
            reason = Msg("Reason: %(reason)s", reason=_code(event.reason)) if event.reason else None
            return Step(event.by, Msg("recalled the whole lot"), detail=reason)
        case LotClosed():
            return Step(event.by, Msg("closed the lot to new items"))
        case LotRenewed():
            return Step(event.by, Msg("renewed the lot"), detail=Msg("still a brand owning its GTIN"))
        case BrandNamed():
            verb = (
                Msg("is named %(name)s by the registry's admin", name=_code(event.name))
                if event.name
                else Msg("has no verified name")
            )
            return Step(event.brand, verb)
        case BrandUnnamed():
            return Step(event.brand, Msg("no longer has a verified name"))
        case ParticipantDescribed():
            return Step(
                event.participant, Msg("described itself"),
                detail=Msg("unverified: %(description)s", description=_code(event.description)),
            )  # fmt: skip
        case RoleGranted():
            return Step(event.sender, Msg("gave the %(role)s role to", role=_role(event.role)), event.account)
        case RoleRevoked():
            return Step(
                event.sender, Msg("took the %(role)s role from", role=_role(event.role)), event.account
            )
        case GtinAssigned():
            return Step(event.registrar, Msg("was assigned GTIN %(gtin)s", gtin=f"{event.gtin:014d}"))
        case GtinReleased():
            return Step(event.registrar, Msg("no longer holds GTIN %(gtin)s", gtin=f"{event.gtin:014d}"))
        case CompanyPrefixAssigned():
            prefix = f"{event.prefix:0{event.length}d}"
            return Step(event.registrar, Msg("was assigned company prefix %(prefix)s", prefix=prefix))
        case CompanyPrefixReleased():
            prefix = f"{event.prefix:0{event.length}d}"
            return Step(event.registrar, Msg("no longer holds company prefix %(prefix)s", prefix=prefix))
        case _:
            assert_never(event)


def _listed(parts: list[Msg]) -> Msg:
    """Parts joined with commas: ``a, b, c`` (a reader may join them its own way)."""
    joined = parts[0] if parts else Msg("nothing")
    for part in parts[1:]:
        joined = Msg("%(first)s, %(next)s", first=joined, next=part)
    return joined


def _count(contents: tuple[bytes, ...]) -> Msg:
    if len(contents) == 1:
        return Msg("1 item")
    return Msg("%(count)s items", count=str(len(contents)))


def _role(role: bytes) -> Msg:
    if role == REGISTRAR_ROLE:
        return Msg("brand")
    if role == DEFAULT_ADMIN_ROLE:
        return Msg("registry admin")
    return Msg("%(role)s", role=f"0x{role.hex()[:8]}…")


def addresses(events: Iterable[RegistryEvent]) -> set[str]:
    """Every address the events' steps name (to look up names for)."""
    found: set[str] = set()
    for event in events:
        found |= describe(event).addresses
    return found


def status_of(record: ItemRecord, recall_causes: Iterable[object] = ()) -> Status:
    """What a shopper is told first: unknown, recalled (over all else), claimed, sold, or genuine.
    ``recall_causes`` (:meth:`~supplytrace.core.reducer.State.recall_causes`) make an item of a
    lot blended from a recalled lot read recalled too, though the chain's record says its own lot
    is not."""
    if not record.registered:
        return "unknown"
    if record.recalled or any(True for _ in recall_causes):
        return "recalled"
    if record.claimed:
        return "claimed"
    if record.sold:
        return "sold"
    return "genuine"


def ssccs(logs: Iterable[Logged]) -> dict[bytes, int]:
    """The SSCC of each container created in ``logs`` (to name pallets: :func:`pallet`)."""
    return {
        bytes(log.event.container_id): log.event.sscc
        for log in logs
        if isinstance(log.event, ContainerCreated)
    }


def _moves(item_id: bytes, logs: Iterable[Logged]) -> Iterator[tuple[Logged, list[bytes]]]:
    """Each of ``logs`` that belongs in the item's timeline (see :func:`timeline`), with the
    containers holding the item after it, innermost first."""
    item_id = bytes(item_id)
    chain: list[bytes] = []
    for log in logs:
        event = log.event
        if isinstance(event, ContainerCreated):
            yield log, chain  # names a pallet (its SSCC) the timeline may show
            continue
        if isinstance(event, ContainerPacked | ContainerUnpacked):
            box, contents = bytes(event.container_id), set(map(bytes, event.contents))
            packing = isinstance(event, ContainerPacked)
            if item_id in contents:
                chain = [box] if packing else []
            elif chain and packing and chain[-1] in contents:
                chain = [*chain, box]  # its pallet went into a bigger one
            elif not packing and box in chain[1:] and chain[chain.index(box) - 1] in contents:
                chain = chain[: chain.index(box)]  # its pallet came out of the bigger one
            else:
                continue
            yield log, chain
            continue
        subject = subject_ids(event)[0]
        if subject is None or bytes(subject) == item_id or bytes(subject) in chain:
            yield log, chain


def timeline(item_id: bytes, logs: Iterable[Logged]) -> list[Logged]:
    """An item's timeline from ``logs`` (its events, its lot's, and its containers' events, in
    chain order): its own steps and its lot's, each packing or unpacking of it or of a container
    holding it, and the custody steps of its containers while it was inside (it moved with the
    pallet), and the creations of the containers that held it (their SSCCs: :func:`ssccs`).
    Other items' steps, and a pallet's steps before or after the item was in it, are left out."""
    logs = list(logs)
    held = containers_of(item_id, logs)
    return [
        log
        for log, _chain in _moves(item_id, logs)
        if not isinstance(log.event, ContainerCreated) or bytes(log.event.container_id) in held
    ]


@dataclass(frozen=True)
class Handover:
    """Custody of an item passed from ``previous`` to ``holder`` at ``log``; ``seq`` is the
    item's custody nonce after it (a pallet's move does not advance the nonces of what it holds)."""

    seq: int
    holder: str
    previous: str
    log: Logged


def handovers(item_id: bytes, logs: Iterable[Logged]) -> list[Handover]:
    """Each change of hands in an item's timeline (``logs``, from :func:`timeline`): its own
    transfers and its containers' while it was inside."""
    item_id = bytes(item_id)
    nonce = 0
    found: list[Handover] = []
    for log in logs:
        event = log.event
        if isinstance(event, ContainerPacked | ContainerUnpacked):
            nonce += item_id in set(map(bytes, event.contents))
        elif isinstance(event, OfferCancelled | OfferRejected | CustodyTransferred | ItemObserved):
            nonce += bytes(event.item_id) == item_id
            if isinstance(event, CustodyTransferred):
                found.append(Handover(nonce, event.to, event.from_, log))
    return found


def containers_of(item_id: bytes, logs: Iterable[Logged]) -> set[bytes]:
    """Every container that held the item at some time, at any depth, by the packings among
    ``logs`` (whose other events may be anything: a history source reads every packing of a
    range to find an item's, since a packing names its contents in its data only)."""
    found: set[bytes] = set()
    for _log, chain in _moves(item_id, logs):
        found.update(chain)
    return found


def contents(container_id: bytes, logs: Iterable[Logged]) -> list[bytes]:
    """What container ``container_id`` holds after ``logs`` (its packings minus its unpackings),
    in the order packed: what a container's page lists."""
    box = bytes(container_id)
    held: dict[bytes, None] = {}
    for log in logs:
        event = log.event
        if isinstance(event, ContainerPacked | ContainerUnpacked) and bytes(event.container_id) == box:
            for content in map(bytes, event.contents):
                if isinstance(event, ContainerPacked):
                    held[content] = None
                else:
                    held.pop(content, None)
    return list(held)


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


# ----------------------------------------------------------------------------------------------
# An item's history against its live record
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """What an item's history (its events, its lot's and its containers', in chain order) says
    about it."""

    registered: bool
    serial: ChainText | None
    transfers: int
    steps: int  # how far the events advanced the item's nonce
    sold: bool
    claimed: bool
    recalled: bool
    recall_reason: ChainText | None
    last_holder: str | None  # the last transfer's receiver (or unpacker), else the lot's registrar;
    # while packed, the custodian of its outermost container
    foreign: bool  # events of an item other than the one asked about
    container: bytes | None = None  # the container it is packed in at the end


@dataclass
class _Boxes:
    """The containers an item's history names: each one's own custodian and where it is packed."""

    holder: dict[bytes, str] = field(default_factory=dict)
    parent: dict[bytes, bytes | None] = field(default_factory=dict)

    def outermost_holder(self, container: bytes) -> str | None:
        for _ in range(MAX_NESTING):
            parent = self.parent.get(container)
            if parent is None:
                return self.holder.get(container)
            container = parent
        return None  # a cycle: no holder can be named


def replay(item_id: bytes, history: Iterable[Logged]) -> Replay:
    """Fold an item's history the way :class:`~supplytrace.core.reducer.State` would, leniently
    (a history that lacks steps is read as far as it goes, never an error). Custody steps of a
    container it names are the container's (the item moves with it, its nonce does not)."""
    registered = sold = claimed = recalled = foreign = False
    serial: ChainText | None = None
    reason: ChainText | None = None
    registrar: str | None = None
    item_id = bytes(item_id)
    change = ItemChange(item_id)
    boxes = _Boxes()
    container: bytes | None = None
    for log in history:
        event = log.event
        match event:
            case LotRegistered():
                registrar = event.registrar
            case ItemRegistered():
                if bytes(event.item_id) != item_id:
                    foreign = True
                    continue
                registered, serial = True, event.serial
            case LotRecalled():
                recalled, reason = True, event.reason
            case LotClosed() | LotRenewed() | CodesCommitted() | LotQuantityDeclared() | LotTransformed():
                pass
            case ContainerCreated():
                boxes.holder[bytes(event.container_id)] = event.custodian
            case ContainerPacked() | ContainerUnpacked():
                packing = isinstance(event, ContainerPacked)
                box = bytes(event.container_id)
                boxes.holder[box] = event.custodian  # only its holder packs or unpacks it
                for content in map(bytes, event.contents):
                    if content == item_id:
                        container = box if packing else None
                        change.steps += 1  # packing and unpacking advance the nonce: offers end
                        change.pending_set, change.pending = True, None
                        if not packing:
                            change.custodian = event.custodian
                    elif content in boxes.holder:
                        boxes.parent[content] = box if packing else None
                        if not packing:
                            boxes.holder[content] = event.custodian
            case (
                CustodyOffered() | OfferCancelled() | OfferRejected() | CustodyTransferred() | ItemObserved()
            ):
                subject = bytes(event.item_id)
                if subject in boxes.holder:  # a container's step: the item moved with it
                    if isinstance(event, CustodyTransferred):
                        boxes.holder[subject] = event.to
                    continue
                if subject != item_id:
                    foreign = True
                    continue
                change.add(event, log.block_number, log.log_index, b"", log.timestamp or 0)
            case ItemSold() | ItemClaimed():
                if bytes(event.item_id) != item_id:
                    foreign = True
                    continue
                sold = sold or isinstance(event, ItemSold)
                claimed = claimed or isinstance(event, ItemClaimed)
            case BrandNamed() | BrandUnnamed() | ParticipantDescribed() | RoleGranted() | RoleRevoked():
                pass
            case GtinAssigned() | GtinReleased() | CompanyPrefixAssigned() | CompanyPrefixReleased():
                pass
            case _:
                assert_never(event)
    last_holder = boxes.outermost_holder(container) if container else change.custodian or registrar
    return Replay(
        registered, serial, len(change.transfers), change.steps, sold, claimed, recalled, reason, last_holder,
        foreign, container,
    )  # fmt: skip


def verdict(record: ItemRecord, history: Iterable[Logged]) -> str | None:
    """Where an item's history disagrees with its live record: ``"behind"`` (a lagging index:
    steps missing), ``"wrong"`` (a history that cannot be this item's), or None."""
    seen = replay(record.item_id, history)
    if not record.registered:
        return "wrong" if seen.registered or seen.foreign else None
    if seen.foreign:
        return "wrong"
    if not seen.registered:
        return "behind"
    if (
        seen.steps > record.custody_nonce
        or (seen.sold and not (record.sold or record.claimed))
        or (seen.claimed and not record.claimed)
        or (seen.recalled and not record.recalled)
    ):
        return "wrong"
    if (
        seen.steps < record.custody_nonce
        or (record.sold and not seen.sold)
        or (record.claimed and not seen.claimed)
        or (record.recalled and not seen.recalled)
    ):
        return "behind"
    if seen.last_holder != record.custodian or seen.container != record.container:
        return "wrong"
    return None
