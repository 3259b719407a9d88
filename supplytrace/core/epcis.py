"""GS1 EPCIS 2.0 JSON-LD export of items' (or a lot's) histories.

One ``ObjectEvent`` per fact, with CBV 2.0 business steps and dispositions:

| registry event              | action  | bizStep          | disposition   | also                          |
|-----------------------------|---------|------------------|---------------|-------------------------------|
| ItemRegistered              | ADD     | commissioning    | active        | ilmd lot number               |
| CustodyOffered              | OBSERVE | shipping         | in_transit    | source / destination parties  |
| OfferCancelled, OfferRejected | OBSERVE | void_shipping  | active        | source / destination parties  |
| CustodyTransferred          | OBSERVE | receiving        | in_progress   | source / destination parties; |
|                             |         |                  |               | a signed one-transaction      |
|                             |         |                  |               | handoff (no open offer) also  |
|                             |         |                  |               | gets its shipping event       |
| ItemObserved                | OBSERVE | the recorded step (CBV term, else a URN) | — | data hash       |
| ItemSold                    | OBSERVE | retail_selling   | retail_sold   |                               |
| ItemClaimed                 | OBSERVE | decommissioning  | inactive      | the holder before the claim   |
| LotRecalled                 | OBSERVE | —                | recalled      | the reason (a disposition     |
|                             |         |                  |               | change of every item listed)  |

Items are identified by their GS1 Digital Link URI on ``https://id.gs1.org`` (EPCIS 2.0 accepts
them in ``epcList``); parties by ``did:pkh:eip155:<chain id>:<address>`` (possessing party).
Every event carries where it is on chain in ``supplytrace:`` extension fields (chain id,
registry, transaction hash, block number, log index), and a stable ``eventID`` derived from
them, so an export can always be checked against the chain. Lots' own registration and closing,
names, roles and GTIN assignments and committed hidden codes are not physical events and are left
out. A relayed action is the same event as a direct one: its actor is the signer it names.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, assert_never
from urllib.parse import quote

from supplytrace.core.events import (
    BrandNamed,
    BrandUnnamed,
    CodesCommitted,
    CompanyPrefixAssigned,
    CompanyPrefixReleased,
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
    LotRecalled,
    LotRegistered,
    LotRenewed,
    OfferCancelled,
    OfferRejected,
    ParticipantDescribed,
    RoleGranted,
    RoleRevoked,
)
from supplytrace.core.ids import ItemKey

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
EXTENSION_PREFIX = "supplytrace"
EXTENSION_NAMESPACE = "urn:supplytrace:epcis:"
ID_RESOLVER = "https://id.gs1.org"
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c1f3e-4b8e-5c7a-9d3e-2a4b5c6d7e8f")

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
    """What the export needs of one item: its GS1 key and its events (own and its lot's)."""

    key: ItemKey
    events: Sequence[Logged]  # chain order, block times set


def _epc(key: ItemKey) -> str:
    """The item's canonical identifier: its Digital Link on id.gs1.org, GTIN + serial only (the
    lot goes in the commissioning event's ilmd)."""
    return ItemKey(key.gtin, key.serial).digital_link(ID_RESOLVER)


def _time(timestamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(timestamp))


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

    def party(self, address: str) -> str:
        return f"did:pkh:eip155:{self.chain_id}:{address}"

    def event(
        self, source: Logged, epcs: list[str], action: str, *, part: str = "", **fields: Any
    ) -> dict[str, Any]:
        event_id = uuid.uuid5(
            _EVENT_ID_NAMESPACE,
            f"{self.chain_id}:{self.registry.lower()}:{source.tx_hash}:{source.log_index}:{part}:{','.join(epcs)}",
        )
        out: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:{event_id}",
            "eventTime": _time(source.timestamp or 0),
            "eventTimeZoneOffset": "+00:00",
            "epcList": epcs,
            "action": action,
        }
        out.update({k: v for k, v in fields.items() if v is not None})
        p = EXTENSION_PREFIX
        out.update(
            {
                f"{p}:event": source.name,
                f"{p}:chainId": self.chain_id,
                f"{p}:registry": self.registry,
                f"{p}:transactionHash": source.tx_hash,
                f"{p}:blockNumber": source.block_number,
                f"{p}:logIndex": source.log_index,
            }
        )
        return out

    def parties(self, sender: str, receiver: str) -> dict[str, Any]:
        return {
            "sourceList": [{"type": "possessing_party", "source": self.party(sender)}],
            "destinationList": [{"type": "possessing_party", "destination": self.party(receiver)}],
        }

    def item_events(self, story: ItemStory) -> list[dict[str, Any]]:
        """The item's physical events; a lot recall is added once per document (:func:`epcis_document`)."""
        epc = [_epc(story.key)]
        out: list[dict[str, Any]] = []
        offered = False
        for log in story.events:
            event = log.event
            match event:
                case ItemRegistered():
                    lot = {"cbvmda:lotNumber": story.key.lot} if story.key.lot else None
                    out.append(
                        self.event(log, epc, "ADD", bizStep="commissioning", disposition="active", ilmd=lot)
                    )
                case CustodyOffered():
                    offered = True
                    parties = self.parties(event.from_, event.to)
                    out.append(
                        self.event(
                            log, epc, "OBSERVE", bizStep="shipping", disposition="in_transit", **parties
                        )
                    )
                case OfferCancelled() | OfferRejected():
                    offered = False
                    parties = self.parties(event.from_, event.to)
                    out.append(
                        self.event(
                            log, epc, "OBSERVE", bizStep="void_shipping", disposition="active", **parties
                        )
                    )
                case CustodyTransferred():
                    parties = self.parties(event.from_, event.to)
                    if not offered:  # a signed one-transaction handoff: shipped and received at once
                        out.append(
                            self.event(
                                log, epc, "OBSERVE", part="shipping", bizStep="shipping",
                                disposition="in_transit", **parties,
                            )
                        )  # fmt: skip
                    offered = False
                    out.append(
                        self.event(
                            log, epc, "OBSERVE", bizStep="receiving", disposition="in_progress", **parties
                        )
                    )
                case ItemObserved():
                    extra = {
                        f"{EXTENSION_PREFIX}:observer": self.party(event.by),
                        f"{EXTENSION_PREFIX}:dataHash": "0x" + event.data_hash.hex(),
                    }
                    out.append(
                        self.event(log, epc, "OBSERVE", bizStep=_biz_step(event.biz_step.raw), **extra)
                    )
                case ItemSold():
                    seller = [{"type": "possessing_party", "source": self.party(event.seller)}]
                    out.append(
                        self.event(
                            log, epc, "OBSERVE", bizStep="retail_selling", disposition="retail_sold",
                            sourceList=seller,
                        )
                    )  # fmt: skip
                case ItemClaimed():
                    holder = [{"type": "possessing_party", "source": self.party(event.custodian)}]
                    out.append(
                        self.event(
                            log, epc, "OBSERVE", bizStep="decommissioning", disposition="inactive",
                            sourceList=holder,
                        )
                    )  # fmt: skip
                case CodesCommitted():
                    pass  # a commitment of codes is not a physical event
                case LotRecalled() | LotRegistered() | LotClosed() | LotRenewed():
                    pass  # a recall is one event for every exported item of the lot; the rest is not physical
                case BrandNamed() | BrandUnnamed() | ParticipantDescribed() | RoleGranted() | RoleRevoked():
                    pass
                case GtinAssigned() | GtinReleased() | CompanyPrefixAssigned() | CompanyPrefixReleased():
                    pass
                case _:
                    assert_never(event)
        return out

    def recall(self, log: Logged, by: str, reason: str, epcs: list[str]) -> dict[str, Any]:
        extra = {f"{EXTENSION_PREFIX}:recalledBy": self.party(by), f"{EXTENSION_PREFIX}:reason": reason}
        return self.event(log, epcs, "OBSERVE", disposition="recalled", **extra)


def epcis_document(
    stories: Iterable[ItemStory], *, chain_id: int, registry: str, created_at: int | None = None
) -> dict[str, Any]:
    """The EPCIS 2.0 JSON-LD document of these items' histories, events in chain order.

    A recall of a lot appears once, listing every exported item of the lot.
    """
    builder = _Builder(chain_id, registry)
    rows: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    recalls: dict[tuple[int, int], tuple[Logged, LotRecalled, list[str]]] = {}
    for story in stories:
        for n, event in enumerate(builder.item_events(story)):
            rows.append(
                ((event[f"{EXTENSION_PREFIX}:blockNumber"], event[f"{EXTENSION_PREFIX}:logIndex"], n), event)
            )
        for log in story.events:
            if isinstance(log.event, LotRecalled):
                entry = recalls.setdefault(log.position, (log, log.event, []))
                entry[2].append(_epc(story.key))
    for (block, log_index), (log, recall, epcs) in recalls.items():
        rows.append(((block, log_index, 0), builder.recall(log, recall.by, str(recall.reason), epcs)))
    rows.sort(key=lambda r: r[0])
    return {
        "@context": [EPCIS_CONTEXT, {EXTENSION_PREFIX: EXTENSION_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(int(time.time()) if created_at is None else created_at),
        "epcisBody": {"eventList": [event for _, event in rows]},
    }
