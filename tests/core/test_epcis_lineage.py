"""The EPCIS export of issue #14's events (a demo-like story): two measured harvests blended into
a lot, its jars packed on a pallet that is offered, received and unpacked, one harvest recalled.
The blend is one TransformationEvent, the packing and unpacking AggregationEvents on the SSCC,
the pallet's custody steps ObjectEvents on the SSCC alone, the recall reaches the blend's jars,
and the document keeps GS1's EPCIS 2.0 JSON Schema."""

from __future__ import annotations

from supplytrace.core import events as ev
from supplytrace.core.epcis import ItemStory, epcis_document
from supplytrace.core.epcis_validation import validate_epcis
from supplytrace.core.events import Logged, RegistryEvent
from supplytrace.core.ids import ItemKey, container_id, item_id, sscc_with_check_digit
from supplytrace.core.records import QuantityUnit
from supplytrace.core.story import timeline
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HUB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SHOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
GTIN = "09506000134352"
SSCC = sscc_with_check_digit("09506000000000042")
PALLET = container_id(SSCC)
GRAM = int(QuantityUnit.GRAM)


def _log(event: RegistryEvent, block: int) -> Logged:
    return Logged(event, block, 0, f"0x{block:064x}", f"0x{block + 1:064x}", 1_700_000_000 + block)


def _jar(serial: str) -> bytes:
    return item_id(GTIN, serial)


def _chain() -> list[Logged]:
    a, b = _jar("J1"), _jar("J2")
    events: list[RegistryEvent] = [
        ev.LotRegistered(1, int(GTIN), BRAND, ChainText(b"H-RO"), b"\1" * 32),
        ev.LotQuantityDeclared(1, 100_000, 0, GRAM),
        ev.LotRegistered(2, int(GTIN), BRAND, ChainText(b"H-BG"), b"\2" * 32),
        ev.LotQuantityDeclared(2, 100_000, 0, GRAM),
        ev.LotRegistered(3, int(GTIN), BRAND, ChainText(b"BLEND-1"), b"\3" * 32),
        ev.LotTransformed(3, (1, 2), (600, 400), 1_000, 500, GRAM),
        ev.ItemRegistered(a, 3, ChainText(b"J1")),
        ev.ItemRegistered(b, 3, ChainText(b"J2")),
        ev.ContainerCreated(PALLET, int(SSCC), BRAND),
        ev.ContainerPacked(PALLET, BRAND, (a, b)),
        ev.CustodyOffered(PALLET, BRAND, HUB),
        ev.CustodyTransferred(PALLET, BRAND, HUB),
        ev.CustodyTransferred(PALLET, HUB, SHOP),  # a signed handoff
        ev.ContainerUnpacked(PALLET, SHOP, (a,)),
        ev.ItemSold(a, SHOP),
        ev.LotRecalled(2, BRAND, ChainText(b"residue in harvest H-BG")),
    ]
    return [_log(event, n + 1) for n, event in enumerate(events)]


def _stories() -> list[ItemStory]:
    """As the export gathers them: each jar's timeline, and its lot's ancestors' events."""
    logs = _chain()
    stories = []
    for serial in ("J1", "J2"):
        jar = _jar(serial)
        mine = [
            log
            for log in logs
            if ev.subject_ids(log.event)[0] in (jar, PALLET)
            or (ev.subject_ids(log.event)[0] is None and ev.subject_ids(log.event)[1] in (1, 2, 3))
        ]
        stories.append(ItemStory(ItemKey.create(GTIN, serial, "BLEND-1"), timeline(jar, mine)))
    return stories


def test_epcis_document__blend_pallet_and_ingredient_recall__mapped_once_each_and_valid() -> None:
    doc = epcis_document(
        _stories(), chain_id=1337, registry=BRAND, created_at=0, lots={1: (GTIN, "H-RO"), 2: (GTIN, "H-BG")}
    )

    validate_epcis(doc)  # GS1's JSON Schema, formats asserted
    events = doc["epcisBody"]["eventList"]
    summary = [(e["supplytrace:event"], e["type"], e.get("action"), e.get("bizStep")) for e in events]
    assert summary == [
        ("LotTransformed", "TransformationEvent", None, "commissioning"),
        ("ItemRegistered", "ObjectEvent", "ADD", "commissioning"),
        ("ItemRegistered", "ObjectEvent", "ADD", "commissioning"),
        ("ContainerPacked", "AggregationEvent", "ADD", "packing"),
        ("CustodyOffered", "ObjectEvent", "OBSERVE", "shipping"),
        ("CustodyTransferred", "ObjectEvent", "OBSERVE", "receiving"),
        ("CustodyTransferred", "ObjectEvent", "OBSERVE", "shipping"),  # the handoff's shipping half
        ("CustodyTransferred", "ObjectEvent", "OBSERVE", "receiving"),
        ("ContainerUnpacked", "AggregationEvent", "DELETE", "unpacking"),
        ("ItemSold", "ObjectEvent", "OBSERVE", "retail_selling"),
        ("LotRecalled", "ObjectEvent", "OBSERVE", None),
    ]
    blend = events[0]
    assert [(q["epcClass"], q["quantity"], q["uom"]) for q in blend["inputQuantityList"]] == [
        (f"https://id.gs1.org/01/{GTIN}/10/H-RO", 600, "GRM"),
        (f"https://id.gs1.org/01/{GTIN}/10/H-BG", 400, "GRM"),
    ]
    assert blend["outputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{GTIN}/10/BLEND-1", "quantity": 1_000, "uom": "GRM"}
    ]
    jars = [f"https://id.gs1.org/01/{GTIN}/21/J1", f"https://id.gs1.org/01/{GTIN}/21/J2"]
    packed, unpacked = events[3], events[8]
    assert (packed["parentID"], packed["childEPCs"]) == (f"https://id.gs1.org/00/{SSCC}", jars)
    assert unpacked["childEPCs"] == jars[:1]
    assert all(e["epcList"] == [f"https://id.gs1.org/00/{SSCC}"] for e in events[4:8])
    assert events[-1]["epcList"] == jars and events[-1]["disposition"] == "recalled"
    assert len({e["eventID"] for e in events}) == len(events)


def test_epcis_document__input_lot_unknown_to_the_export__blend_left_out_rest_valid() -> None:
    doc = epcis_document(_stories()[:1], chain_id=1337, registry=BRAND, created_at=0)

    validate_epcis(doc)
    kinds = [e["type"] for e in doc["epcisBody"]["eventList"]]
    assert "TransformationEvent" not in kinds and kinds.count("AggregationEvent") == 2
