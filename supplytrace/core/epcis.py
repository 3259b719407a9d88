"""GS1 EPCIS 2.0 JSON-LD export of items' (or a lot's) histories.

One EPCIS event per fact, with CBV 2.0 business steps and dispositions (the events themselves
are built in :mod:`supplytrace.core.epcis_builders`):

| registry event         | EPCIS ...Event     | bizStep           | disposition | also                       |
|------------------------|--------------------|-------------------|-------------|----------------------------|
| ItemRegistered         | Object ADD         | commissioning     | active      | ilmd lot number            |
| CustodyOffered         | Object OBSERVE     | shipping          | in_transit  | source, destination        |
| OfferCancelled,        | Object OBSERVE     | void_shipping     | active      | source, destination        |
| OfferRejected          |                    |                   |             |                            |
| CustodyTransferred     | Object OBSERVE     | receiving         | in_progress | source, destination; a     |
|                        |                    |                   |             | signed one-transaction     |
|                        |                    |                   |             | handoff (no open offer)    |
|                        |                    |                   |             | also gets its shipping     |
| ItemObserved           | Object OBSERVE     | the recorded step | —           | data hash; the step: its   |
|                        |                    |                   |             | CBV term, else a URN       |
| ItemSold               | Object OBSERVE     | retail_selling    | retail_sold |                            |
| ItemClaimed            | Object OBSERVE     | decommissioning   | inactive    | the holder then            |
| LotRecalled            | Object OBSERVE     | —                 | recalled    | the reason; every item     |
|                        |                    |                   |             | of the lot exported        |
| a blend (a new lot)    | Transformation     | commissioning     | active      | input / output lots and    |
|                        |                    |                   |             | quantities (GRM, MLT, n)   |
| packing a container    | Aggregation ADD    | packing           | in_progress | parentID: its SSCC;        |
| unpacking it           | Aggregation DELETE | unpacking         | in_progress | childEPCs: its contents    |
| a container's custody  | Object OBSERVE     | as an item        | as an item  | epcList: the SSCC alone;   |
| step (offer, ...)      |                    |                   |             | the contents move with it  |

``LotTransformed`` is the blend (its inputs and quantities; the new lot's ``LotRegistered`` is
just before it), ``ContainerPacked`` / ``ContainerUnpacked`` the packing and unpacking (its
children: the exported items and the containers among the contents); ``ContainerCreated`` names
the SSCC and ``LotQuantityDeclared`` a quantity, neither a physical event of its own. A recall of
a lot also reaches the items of every lot blended from it: their stories carry the recall, and
its event lists them with the lot's own.

A container's contents move with it and are not listed again. EPCIS defines an aggregation as
objects so strongly linked that they "will all occupy the same location at the same time, until
such time as they are disaggregated": from the ``AggregationEvent`` ADD (``packing``) until its
DELETE (``unpacking``) the children are wherever the parent is. So a pallet's custody step is one
``ObjectEvent`` on its SSCC, the usual EPCIS practice (aggregation inference): a reader finds
which items moved from the packing and unpacking events, and the chain keeps no other list.
``AggregationEvent`` OBSERVE (a count of a container's contents) is not used: the chain records
packing and unpacking, not recounts.

Items are identified by their GS1 Digital Link URI on ``https://id.gs1.org`` (EPCIS 2.0 accepts
them in ``epcList``), lots by their class-level link (``/01/{gtin}/10/{lot}``), containers by
``/00/{sscc}``; parties by ``did:pkh:eip155:<chain id>:<address>`` (possessing party).
Every event carries where it is on chain in ``supplytrace:`` extension fields (chain id,
registry, transaction hash, block number, log index), so an export can always be checked
against the chain; its ``eventID`` is the CBV 2.0 event hash (:mod:`supplytrace.core.epcis_hash`),
the one every EPCIS system computes alike. Lots' own registration and closing,
names, roles and GTIN assignments and committed hidden codes are not physical events and are left
out. A relayed action is the same event as a direct one: its actor is the signer it names.
:func:`supplytrace.core.epcis_validation.validate_epcis` checks a document against GS1's
EPCIS 2.0 JSON Schema (tests check every mapping above with it).
"""

from __future__ import annotations

import time
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never
from urllib.parse import quote

from supplytrace.core.epcis_builders import (
    EPCIS_CONTEXT,
    EXTENSION_NAMESPACE,
    EXTENSION_PREFIX,
    ID_RESOLVER,
    LotQuantity,
    OnChain,
    Unit,
    aggregation_event,
    custody_event,
    event_time,
    item_link,
    object_event,
    sscc_link,
    transformation_event,
)
from supplytrace.core.epcis_hash import event_hash
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
from supplytrace.core.ids import IdentityError, ItemKey, normalize_gtin
from supplytrace.core.records import QuantityUnit

__all__ = [
    "CBV_BIZ_STEPS",
    "EPCIS_CONTEXT",
    "EXTENSION_NAMESPACE",
    "EXTENSION_PREFIX",
    "ID_RESOLVER",
    "ItemStory",
    "epcis_document",
]

#: CBV 2.0 business steps a recorded observation may name (anything else becomes a URN).
CBV_BIZ_STEPS = frozenset(
    {
        *("accepting", "arriving", "assembling", "collecting", "commissioning", "consigning"),
        *("creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying"),
        *("disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting"),
        *("installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing"),
        *("repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling"),
        *("sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing"),
        *("transporting", "unloading", "unpacking", "void_shipping"),
    }
)


@dataclass(frozen=True)
class ItemStory:
    """What the export needs of one item: its GS1 key and its events: its own, its lot's, its
    containers' while it was in them (``core.story.timeline``), and the events of the lots its
    lot was blended from (their blends and recalls: a recall reaches it through them)."""

    key: ItemKey
    events: Sequence[Logged]  # chain order, block times set


@dataclass
class _Shared:
    """Events many exported items share, each emitted once: a lot's recall (every exported item
    it reaches), a blend, a container's packing (the exported contents) and custody steps."""

    recalls: dict[tuple[int, int], tuple[Logged, LotRecalled, list[str]]] = field(default_factory=dict)
    blends: dict[tuple[int, int], Logged] = field(default_factory=dict)
    boxes: dict[tuple[int, int], Logged] = field(default_factory=dict)  # packings, their custody steps
    ssccs: dict[bytes, int] = field(default_factory=dict)
    links: dict[bytes, str] = field(default_factory=dict)  # exported items' and containers' EPCs
    lots: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # (GTIN-14, lot code)
    registrars: dict[int, str] = field(default_factory=dict)


def _biz_step(raw: bytes) -> str:
    """A recorded business step: its CBV term, else a URN of its bytes (percent-encoded, so any
    byte a custodian chose stays valid, distinct and readable)."""
    text = raw.decode("ascii") if raw.isascii() else None
    if text is not None and text in CBV_BIZ_STEPS:
        return text
    return "urn:supplytrace:bizstep:" + quote(raw, safe="")


class _Builder:
    def __init__(self, chain_id: int, registry: str) -> None:
        self.chain_id = chain_id
        self.registry = registry

    def place(self, log: Logged) -> OnChain:
        return OnChain.of(log, chain_id=self.chain_id, registry=self.registry)

    def item_events(self, story: ItemStory, shared: _Shared) -> list[dict[str, Any]]:
        """The item's own physical events; the events it shares with other items (a recall, a
        blend, its containers') are gathered in ``shared`` and added once per document
        (:func:`epcis_document`)."""
        epc = item_link(story.key)
        out: list[dict[str, Any]] = []
        offered = False
        own: bytes | None = None
        for log in story.events:
            event = log.event
            place = self.place(log)
            steps = CustodyOffered | OfferCancelled | OfferRejected | CustodyTransferred | ItemObserved
            if isinstance(event, steps) and own is not None and bytes(event.item_id) != own:
                shared.boxes[log.position] = log  # its container's step: once per document
                continue
            match event:
                case ItemRegistered():
                    own = bytes(event.item_id)
                    shared.links[own] = epc
                    shared.lots.setdefault(event.lot_id, (story.key.gtin, story.key.lot))
                    lot = {"cbvmda:lotNumber": story.key.lot} if story.key.lot else None
                    out.append(
                        object_event(
                            place, [epc], "ADD", bizStep="commissioning", disposition="active", ilmd=lot
                        )
                    )
                case CustodyOffered():
                    offered = True
                    out.append(custody_event(place, epc, "shipping", event.from_, event.to))
                case OfferCancelled() | OfferRejected():
                    offered = False
                    out.append(custody_event(place, epc, "void_shipping", event.from_, event.to))
                case CustodyTransferred():
                    if not offered:  # a signed one-transaction handoff: shipped and received at once
                        out.append(
                            custody_event(place, epc, "shipping", event.from_, event.to, part="shipping")
                        )
                    offered = False
                    out.append(custody_event(place, epc, "receiving", event.from_, event.to))
                case ItemObserved():
                    extra = {
                        f"{EXTENSION_PREFIX}:observer": place.party(event.by),
                        f"{EXTENSION_PREFIX}:dataHash": "0x" + event.data_hash.hex(),
                    }
                    out.append(
                        object_event(place, [epc], "OBSERVE", bizStep=_biz_step(event.biz_step.raw), **extra)
                    )
                case ItemSold():
                    seller = [{"type": "possessing_party", "source": place.party(event.seller)}]
                    out.append(
                        object_event(
                            place, [epc], "OBSERVE", bizStep="retail_selling", disposition="retail_sold",
                            sourceList=seller,
                        )
                    )  # fmt: skip
                case ItemClaimed():
                    holder = [{"type": "possessing_party", "source": place.party(event.custodian)}]
                    out.append(
                        object_event(
                            place, [epc], "OBSERVE", bizStep="decommissioning", disposition="inactive",
                            sourceList=holder,
                        )
                    )  # fmt: skip
                case CodesCommitted():
                    pass  # a commitment of codes is not a physical event
                case LotQuantityDeclared():
                    pass  # a declaration of quantity is not a physical event
                case LotTransformed():
                    shared.blends[log.position] = log
                case ContainerCreated():
                    shared.ssccs[bytes(event.container_id)] = event.sscc
                case ContainerPacked() | ContainerUnpacked():
                    shared.boxes[log.position] = log
                case LotRecalled():
                    entry = shared.recalls.setdefault(log.position, (log, event, []))
                    entry[2].append(epc)  # its lot's, or one its lot was blended from
                case LotRegistered():
                    shared.registrars[event.lot_id] = event.registrar
                case LotClosed() | LotRenewed():
                    pass  # not physical
                case BrandNamed() | BrandUnnamed() | ParticipantDescribed() | RoleGranted() | RoleRevoked():
                    pass
                case GtinAssigned() | GtinReleased() | CompanyPrefixAssigned() | CompanyPrefixReleased():
                    pass
                case _:
                    assert_never(event)
        return out

    def recall(self, log: Logged, by: str, reason: str, epcs: list[str]) -> dict[str, Any]:
        place = self.place(log)
        extra = {f"{EXTENSION_PREFIX}:recalledBy": place.party(by), f"{EXTENSION_PREFIX}:reason": reason}
        return object_event(place, epcs, "OBSERVE", disposition="recalled", **extra)

    def blend(self, log: Logged, shared: _Shared) -> dict[str, Any] | None:
        """A blend as a ``TransformationEvent``; None when a lot it names is not known to the
        export (its GTIN and code: ``lots`` of :func:`epcis_document`) or its unit is none."""
        event = log.event
        assert isinstance(event, LotTransformed)
        unit = QuantityUnit.of(event.unit)
        if unit is QuantityUnit.NONE or event.lot_id not in shared.lots:
            return None
        named = [
            (shared.lots.get(lot), quantity)
            for lot, quantity in zip(event.input_lot_ids, event.input_quantities, strict=False)
        ]
        if not named or any(lot is None or lot[1] is None for lot, _ in named):
            return None
        word = typing.cast(Unit, unit.word)
        gtin, code = shared.lots[event.lot_id]
        if code is None:
            return None
        inputs = [LotQuantity(lot[0], lot[1], quantity, word) for lot, quantity in named if lot and lot[1]]
        by = shared.registrars.get(event.lot_id, self.registry)
        place = self.place(log)
        return transformation_event(
            place, inputs=inputs, outputs=[LotQuantity(gtin, code, event.quantity, word)], by=by
        )

    def container_events(self, shared: _Shared) -> list[dict[str, Any]]:
        """Packings and unpackings (``AggregationEvent``: the parent's SSCC, the exported items and
        known containers among the contents) and a container's custody steps (on its SSCC), in
        chain order; a container whose SSCC the export does not know is left out."""
        links = dict(shared.links)
        for box, sscc in shared.ssccs.items():
            try:
                links[box] = sscc_link(sscc)
            except IdentityError:
                continue
        out: list[dict[str, Any]] = []
        offered: set[bytes] = set()
        for position in sorted(shared.boxes):
            log = shared.boxes[position]
            event, place = log.event, self.place(log)
            match event:
                case ContainerPacked() | ContainerUnpacked():
                    parent = links.get(bytes(event.container_id))
                    children = [links[c] for c in map(bytes, event.contents) if c in links]
                    if parent is None or not children:
                        continue
                    action: Literal["ADD", "DELETE"] = (
                        "ADD" if isinstance(event, ContainerPacked) else "DELETE"
                    )
                    out.append(
                        aggregation_event(
                            place, parent_sscc=shared.ssccs[bytes(event.container_id)], children=children,
                            action=action, by=event.custodian,
                        )
                    )  # fmt: skip
                case CustodyOffered() | OfferCancelled() | OfferRejected() | CustodyTransferred():
                    box = bytes(event.item_id)
                    epc = links.get(box)
                    if epc is None or box not in shared.ssccs:
                        continue
                    if isinstance(event, CustodyOffered):
                        offered.add(box)
                        out.append(custody_event(place, epc, "shipping", event.from_, event.to))
                    elif isinstance(event, CustodyTransferred):
                        if box not in offered:  # a signed handoff: shipped and received at once
                            out.append(
                                custody_event(place, epc, "shipping", event.from_, event.to, part="shipping")
                            )
                        offered.discard(box)
                        out.append(custody_event(place, epc, "receiving", event.from_, event.to))
                    else:
                        offered.discard(box)
                        out.append(custody_event(place, epc, "void_shipping", event.from_, event.to))
                case ItemObserved():
                    epc = links.get(bytes(event.item_id))
                    if epc is not None:
                        extra = {
                            f"{EXTENSION_PREFIX}:observer": place.party(event.by),
                            f"{EXTENSION_PREFIX}:dataHash": "0x" + event.data_hash.hex(),
                        }
                        out.append(
                            object_event(
                                place, [epc], "OBSERVE", bizStep=_biz_step(event.biz_step.raw), **extra
                            )
                        )
                case _:
                    pass  # only packings and custody steps are gathered here
        return out


def _chain_order(event: dict[str, Any]) -> tuple[int, int]:
    return event[f"{EXTENSION_PREFIX}:blockNumber"], event[f"{EXTENSION_PREFIX}:logIndex"]


def epcis_document(
    stories: Iterable[ItemStory],
    *,
    chain_id: int,
    registry: str,
    created_at: int | None = None,
    extra: Iterable[dict[str, Any]] = (),
    lots: Mapping[int, tuple[str | int, str | None]] | None = None,
) -> dict[str, Any]:
    """The EPCIS 2.0 JSON-LD document of these items' histories, events in chain order.

    A recall of a lot appears once, listing every exported item it reaches: the lot's own, and
    those of lots blended from it (whose stories carry the recall). A blend appears once, as a
    ``TransformationEvent`` naming its lots by ``lots`` (lot id -> GTIN and lot code; the
    exported items' own lots are known from their keys); a pallet's packing, unpacking and custody
    steps appear once, on its SSCC, as the table above says. ``extra`` are events
    made by :mod:`supplytrace.core.epcis_builders` (blends, packing, a container's custody
    steps); they take their place in chain order, and one given twice (the same ``eventID``: a
    pallet's event reached from two of its items) appears once.
    """
    builder = _Builder(chain_id, registry)
    rows: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    shared = _Shared(lots={n: (normalize_gtin(gtin), code) for n, (gtin, code) in (lots or {}).items()})
    for story in stories:
        for n, event in enumerate(builder.item_events(story, shared)):
            rows.append(((*_chain_order(event), n), event))
    for (block, log_index), (log, recall, epcs) in shared.recalls.items():
        rows.append(((block, log_index, 0), builder.recall(log, recall.by, str(recall.reason), epcs)))
    for log in shared.blends.values():
        blend = builder.blend(log, shared)
        if blend is not None:
            rows.append(((*log.position, 0), blend))
    for n, event in enumerate(builder.container_events(shared)):
        rows.append(((*_chain_order(event), n), event))
    seen: set[str] = set()
    for n, event in enumerate(extra):
        if event["eventID"] not in seen:
            seen.add(event["eventID"])
            rows.append(((*_chain_order(event), n), event))
    rows.sort(key=lambda r: r[0])
    context = [EPCIS_CONTEXT, {EXTENSION_PREFIX: EXTENSION_NAMESPACE}]
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": event_time(int(time.time()) if created_at is None else created_at),
        "epcisBody": {"eventList": [{**event, "eventID": event_hash(event, context)} for _, event in rows]},
    }
