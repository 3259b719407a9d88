"""The EPCIS 2.0 mapping: which registry event becomes which ObjectEvent (CBV bizStep,
disposition, parties), with the chain transaction in every event."""

from __future__ import annotations

from supplytrace.core import events as ev
from supplytrace.core.epcis import EPCIS_CONTEXT, ItemStory, epcis_document
from supplytrace.core.events import Logged, RegistryEvent
from supplytrace.core.ids import ItemKey, encode_code
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SHOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
HUB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
GTIN = "09506000134352"


def _event(event: RegistryEvent, block: int, log_index: int) -> Logged:
    return Logged(event, block, log_index, f"0x{block:064x}", f"0x{block + 1:064x}", 1_700_000_000 + block)


def _code(text: str) -> ChainText:
    return ChainText.from_word(encode_code(text, "step"))


def _story(serial: str, item: bytes) -> ItemStory:
    key = ItemKey.create(GTIN, serial, "HONEY-A")
    events = [
        _event(ev.LotRegistered(1, int(GTIN), BRAND, ChainText(b""), b""), 1, 0),
        _event(ev.ItemRegistered(item, 1, _code(serial)), 2, 0 if serial == "A" else 1),
        _event(ev.CustodyOffered(item, BRAND, HUB), 3, 0),
        _event(ev.OfferRejected(item, BRAND, HUB), 4, 0),
        _event(ev.CustodyOffered(item, BRAND, HUB), 5, 0),
        _event(ev.CustodyTransferred(item, BRAND, HUB), 6, 0),
        _event(ev.CustodyTransferred(item, HUB, SHOP), 7, 0),  # signed handoff
        _event(ev.ItemObserved(item, SHOP, _code("inspecting"), b"\1" * 32), 8, 0),
        _event(ev.ItemObserved(item, SHOP, _code("tasting"), b"\2" * 32), 9, 0),
        _event(ev.ItemSold(item, SHOP), 10, 0),
        _event(ev.LotRecalled(1, BRAND, ChainText.of("Residue found.")), 11, 0),
    ]
    return ItemStory(
        key, [e for e in events if not (serial == "B" and e.block_number in (3, 4, 5, 6, 7, 8, 9, 10))]
    )


def test_epcis_document__item_through_the_chain__cbv_steps_dispositions_and_parties() -> None:
    a, b = b"\xaa" * 32, b"\xbb" * 32
    doc = epcis_document([_story("A", a), _story("B", b)], chain_id=1337, registry=BRAND, created_at=0)
    assert doc["@context"][0] == EPCIS_CONTEXT and doc["type"] == "EPCISDocument"
    events = doc["epcisBody"]["eventList"]
    summary = [(e["action"], e.get("bizStep"), e.get("disposition"), len(e["epcList"])) for e in events]
    assert summary == [
        ("ADD", "commissioning", "active", 1),
        ("ADD", "commissioning", "active", 1),
        ("OBSERVE", "shipping", "in_transit", 1),
        ("OBSERVE", "void_shipping", "active", 1),
        ("OBSERVE", "shipping", "in_transit", 1),
        ("OBSERVE", "receiving", "in_progress", 1),
        ("OBSERVE", "shipping", "in_transit", 1),  # the signed handoff is shipped and received at once
        ("OBSERVE", "receiving", "in_progress", 1),
        ("OBSERVE", "inspecting", None, 1),
        ("OBSERVE", "urn:supplytrace:bizstep:tasting", None, 1),
        ("OBSERVE", "retail_selling", "retail_sold", 1),
        ("OBSERVE", None, "recalled", 2),  # one recall, every exported item of the lot
    ]
    first = events[0]
    assert first["epcList"] == [f"https://id.gs1.org/01/{GTIN}/21/A"]
    assert first["ilmd"] == {"cbvmda:lotNumber": "HONEY-A"}
    assert first["eventTime"] == "2023-11-14T22:13:22.000Z" and first["eventTimeZoneOffset"] == "+00:00"
    receiving = events[5]
    assert receiving["sourceList"] == [{"type": "possessing_party", "source": f"did:pkh:eip155:1337:{BRAND}"}]
    assert receiving["destinationList"] == [
        {"type": "possessing_party", "destination": f"did:pkh:eip155:1337:{HUB}"}
    ]
    assert all(e["supplytrace:transactionHash"].startswith("0x") for e in events)
    assert events[-1]["supplytrace:reason"] == "Residue found."
    ids = [e["eventID"] for e in events]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    again = epcis_document([_story("A", a), _story("B", b)], chain_id=1337, registry=BRAND, created_at=0)
    assert again == doc  # stable event ids: an export can be compared with a later one
