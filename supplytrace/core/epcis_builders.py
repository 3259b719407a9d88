"""The EPCIS 2.0 events the export is made of, built from plain values: the envelope every event
shares, GS1 Digital Links of items, lots and containers, the custody step, and the events of
blends (``TransformationEvent``) and of packing and unpacking containers (``AggregationEvent``).

:mod:`supplytrace.core.epcis` maps the registry's typed events onto these builders; here nothing
knows the registry's event types, so a builder can be tested (and used) before its event is
decoded. Which registry event becomes which EPCIS event, and why, is the table in
:mod:`supplytrace.core.epcis`.

Every event carries where it is on chain (:class:`OnChain`) in ``supplytrace:`` extension
fields, and an ``eventID`` derived from that place and the identifiers it names, so an export is
stable and can always be checked against the chain (:func:`supplytrace.core.epcis.epcis_document`
then names each event by its CBV 2.0 event hash, :mod:`supplytrace.core.epcis_hash`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from supplytrace.core.ids import IdentityError, ItemKey, check_code, normalize_gtin

if TYPE_CHECKING:
    from supplytrace.core.events import Logged

#: EPCIS 2.0.0's JSON-LD context, by its versioned URI: what GS1's event hash reference resolves
#: offline (see :mod:`supplytrace.core.epcis_hash`), and it will not change under our documents.
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EXTENSION_PREFIX = "supplytrace"
EXTENSION_NAMESPACE = "urn:supplytrace:epcis:"
ID_RESOLVER = "https://id.gs1.org"
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c1f3e-4b8e-5c7a-9d3e-2a4b5c6d7e8f")
_P = EXTENSION_PREFIX

#: The unit a measured lot counts in, as UN/CEFACT Recommendation 20 codes: EPCIS's ``uom``. A
#: count of each is a plain quantity (EPCIS: no ``uom`` means a count of instances).
Unit = Literal["each", "gram", "millilitre"]
UOM: dict[Unit, str | None] = {"each": None, "gram": "GRM", "millilitre": "MLT"}

#: A custody step of an item or a container: CBV business step and disposition.
CustodyStep = Literal["shipping", "void_shipping", "receiving"]
_CUSTODY: dict[CustodyStep, str] = {
    "shipping": "in_transit",  # offered: on its way to the receiver
    "void_shipping": "active",  # the offer ended: back in the sender's stock
    "receiving": "in_progress",  # the receiver took it
}


@dataclass(frozen=True)
class OnChain:
    """Where a registry event is on chain: what every exported EPCIS event names of its source.
    ``event`` is the registry event's name (``supplytrace:event``); ``timestamp`` the block's
    time in seconds (the EPCIS ``eventTime``)."""

    chain_id: int
    registry: str
    event: str
    tx_hash: str
    block_number: int
    log_index: int
    timestamp: int

    @classmethod
    def of(cls, log: Logged, *, chain_id: int, registry: str) -> OnChain:
        """The place of a decoded event (a log without its block's time reads as time 0)."""
        return cls(
            chain_id, registry, log.name, log.tx_hash, log.block_number, log.log_index, log.timestamp or 0
        )

    def party(self, address: str) -> str:
        """An account as EPCIS names a party: ``did:pkh:eip155:<chain id>:<address>``."""
        return f"did:pkh:eip155:{self.chain_id}:{address}"


# ----------------------------------------------------------------------------------------------
# GS1 Digital Links on id.gs1.org: what EPCIS 2.0 takes as EPCs and EPC classes
# ----------------------------------------------------------------------------------------------


def item_link(key: ItemKey) -> str:
    """An item's EPC: its Digital Link, GTIN + serial only (its lot is in its commissioning
    event's ``ilmd``; the serial alone identifies the instance)."""
    return ItemKey(key.gtin, key.serial).digital_link(ID_RESOLVER)


def lot_link(gtin: str | int, lot: str) -> str:
    """A lot's EPC class (GS1 LGTIN): ``https://id.gs1.org/01/{gtin14}/10/{lot}``, the lot
    percent-encoded as one path segment, as in an item's link."""
    return f"{ID_RESOLVER}/01/{normalize_gtin(gtin)}/10/{quote(check_code(lot, 'lot code'), safe='')}"


def sscc_link(sscc: str | int) -> str:
    """A container's EPC: ``https://id.gs1.org/00/{sscc18}``. The chain keeps an SSCC as an
    integer, so leading zeros are restored; the check digit is verified."""
    from biip.checksums import gs1_standard_check_digit

    text = str(sscc).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
        raise IdentityError(f"SSCC {sscc!r} must be up to 18 digits (GS1 AI 00), not all zeros.")
    text = text.zfill(18)
    if int(text[-1]) != gs1_standard_check_digit(text[:-1]):
        raise IdentityError(f"SSCC {text} has a wrong check digit; copy it again from the label.")
    return f"{ID_RESOLVER}/00/{text}"


@dataclass(frozen=True)
class LotQuantity:
    """An amount of one lot: ``quantity`` counts ``unit`` (grams, millilitres or each)."""

    gtin: str | int
    lot: str
    quantity: int
    unit: Unit

    def element(self) -> dict[str, Any]:
        """Its EPCIS ``QuantityElement``: the lot's class link, the quantity, and its unit's
        UN/CEFACT code (none for a count)."""
        if self.quantity < 0:
            raise ValueError(f"a quantity cannot be negative ({self.quantity} of {self.lot})")
        element: dict[str, Any] = {"epcClass": lot_link(self.gtin, self.lot), "quantity": self.quantity}
        uom = UOM[self.unit]
        if uom is not None:
            element["uom"] = uom
        return element


# ----------------------------------------------------------------------------------------------
# The envelope and the events
# ----------------------------------------------------------------------------------------------


def event_time(timestamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(timestamp))


def envelope(
    kind: str, place: OnChain, names: Sequence[str], *, part: str = "", **fields: Any
) -> dict[str, Any]:
    """An EPCIS event of type ``kind`` from ``place``: its ``eventID`` (a UUID derived from the
    place, ``part`` when one log gives several events, and the identifiers ``names`` it is
    about), its time, ``fields`` (None values left out), then the ``supplytrace:`` fields."""
    event_id = uuid.uuid5(
        _EVENT_ID_NAMESPACE,
        f"{place.chain_id}:{place.registry.lower()}:{place.tx_hash}:{place.log_index}:{part}:{','.join(names)}",
    )
    out: dict[str, Any] = {
        "type": kind,
        "eventID": f"urn:uuid:{event_id}",
        "eventTime": event_time(place.timestamp),
        "eventTimeZoneOffset": "+00:00",
    }
    out.update({k: v for k, v in fields.items() if v is not None})
    out.update(
        {
            f"{_P}:event": place.event,
            f"{_P}:chainId": place.chain_id,
            f"{_P}:registry": place.registry,
            f"{_P}:transactionHash": place.tx_hash,
            f"{_P}:blockNumber": place.block_number,
            f"{_P}:logIndex": place.log_index,
        }
    )
    return out


def object_event(
    place: OnChain, epcs: list[str], action: str, *, part: str = "", **fields: Any
) -> dict[str, Any]:
    """An ``ObjectEvent`` about ``epcs`` (items, or a container's SSCC link)."""
    return envelope("ObjectEvent", place, epcs, part=part, epcList=epcs, action=action, **fields)


def custody_event(
    place: OnChain, epc: str, step: CustodyStep, sender: str, receiver: str, *, part: str = ""
) -> dict[str, Any]:
    """A custody step of an item or a container (``epc``) from ``sender`` to ``receiver``, both
    possessing parties: ``shipping`` (an offer, or the shipping half of a signed handoff),
    ``void_shipping`` (an offer cancelled or rejected) or ``receiving``. A container's contents
    are not listed: they move with it (see the table in :mod:`supplytrace.core.epcis`)."""
    return object_event(
        place, [epc], "OBSERVE", part=part, bizStep=step, disposition=_CUSTODY[step],
        sourceList=[{"type": "possessing_party", "source": place.party(sender)}],
        destinationList=[{"type": "possessing_party", "destination": place.party(receiver)}],
    )  # fmt: skip


def transformation_event(
    place: OnChain,
    *,
    inputs: Sequence[LotQuantity],
    outputs: Sequence[LotQuantity],
    by: str,
    new_lot: bool = True,
    disposition: str = "active",
) -> dict[str, Any]:
    """A blend: ``inputs`` (lots and the amounts of them consumed) made ``outputs`` (the lots
    made and how much), by ``by`` (``supplytrace:transformedBy``).

    CBV 2.0 has no "transforming" step: a blend that makes a lot never used before is
    ``commissioning`` (the first use of a class-level identifier); ``new_lot=False`` (more of an
    existing lot) is ``creating_class_instance``. ``transformationID`` is a UUID URN derived from
    the chain, the registry and the output lots (a new lot comes out of one blend only, so anyone
    can derive it from the lot); for more of an existing lot, from the transaction too, so that
    two blends into one lot are not read as one transformation.
    """
    if not inputs or not outputs:
        raise ValueError("a transformation needs at least one input and one output lot")
    produced = [lot_link(q.gtin, q.lot) for q in outputs]
    blend = "" if new_lot else f":{place.tx_hash}"
    transformation = uuid.uuid5(
        _EVENT_ID_NAMESPACE,
        f"transformation:{place.chain_id}:{place.registry.lower()}:{','.join(produced)}{blend}",
    )
    return envelope(
        "TransformationEvent", place, produced,
        inputQuantityList=[q.element() for q in inputs],
        outputQuantityList=[q.element() for q in outputs],
        transformationID=f"urn:uuid:{transformation}",
        bizStep="commissioning" if new_lot else "creating_class_instance",
        disposition=disposition,
        **{f"{_P}:transformedBy": place.party(by)},
    )  # fmt: skip


def aggregation_event(
    place: OnChain,
    *,
    parent_sscc: str | int,
    children: Sequence[str],
    action: Literal["ADD", "DELETE"],
    by: str,
) -> dict[str, Any]:
    """``by`` packed ``children`` (EPCs: item links from :func:`item_link`, inner containers'
    from :func:`sscc_link`) into the container ``parent_sscc`` (``ADD``, CBV ``packing``) or
    took them out (``DELETE``, ``unpacking``); ``by`` is the custodian (a possessing party, in
    ``supplytrace:packedBy`` / ``supplytrace:unpackedBy``).

    Disposition ``in_progress`` both ways: the contents go on through the chain (CBV's
    ``completeness_verified`` would claim a check of the contents that nobody made)."""
    if action not in ("ADD", "DELETE"):
        raise ValueError(f"an aggregation is ADD (packing) or DELETE (unpacking), not {action!r}")
    if not children:
        raise ValueError("packing or unpacking names at least one item or container")
    parent = sscc_link(parent_sscc)
    packing = action == "ADD"
    return envelope(
        "AggregationEvent", place, [parent, *children],
        parentID=parent,
        childEPCs=list(children),
        action=action,
        bizStep="packing" if packing else "unpacking",
        disposition="in_progress",
        **{f"{_P}:{'packedBy' if packing else 'unpackedBy'}": place.party(by)},
    )  # fmt: skip
