"""The EPCIS 2.0 mapping: which registry event becomes which ObjectEvent (CBV bizStep,
disposition, parties), with the chain transaction in every event; every event it emits keeps
GS1's EPCIS 2.0 JSON Schema."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplytrace.core import events as ev
from supplytrace.core.epcis import EPCIS_CONTEXT, ItemStory, epcis_document
from supplytrace.core.epcis_validation import validate_epcis
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
    assert len(set(ids)) == len(ids) and all(i.startswith("ni:///sha-256;") for i in ids)
    again = epcis_document([_story("A", a), _story("B", b)], chain_id=1337, registry=BRAND, created_at=0)
    assert again == doc  # stable event ids: an export can be compared with a later one


# ----------------------------------------------------------------------------------------------
# Every event the export emits keeps GS1's EPCIS 2.0 JSON Schema
# ----------------------------------------------------------------------------------------------


def _every_kind_of_story() -> list[ItemStory]:
    """Three items of one lot living every path the export knows: offers cancelled, rejected and
    accepted, a signed handoff, observations with a CBV step, a custom one and one of odd bytes,
    a sale, a claim; a recall; and an item registered with no lot code."""
    a, b, c = b"\xaa" * 32, b"\xbb" * 32, b"\xcc" * 32
    lot = [_event(ev.LotRegistered(1, int(GTIN), BRAND, ChainText(b"HONEY-A"), b"\1" * 32), 1, 0)]
    first = [
        _event(ev.ItemRegistered(a, 1, _code("A")), 2, 0),
        _event(ev.CodesCommitted(1, b"\3" * 32, 2), 2, 2),
        _event(ev.CustodyOffered(a, BRAND, HUB), 3, 0),
        _event(ev.OfferCancelled(a, BRAND, HUB), 4, 0),
        _event(ev.CustodyOffered(a, BRAND, HUB), 5, 0),
        _event(ev.OfferRejected(a, BRAND, HUB), 6, 0),
        _event(ev.CustodyOffered(a, BRAND, HUB), 7, 0),
        _event(ev.CustodyTransferred(a, BRAND, HUB), 8, 0),  # accepted offer
        _event(ev.CustodyTransferred(a, HUB, SHOP), 9, 0),  # signed handoff (relayed or not)
        _event(ev.ItemObserved(a, SHOP, _code("inspecting"), b"\4" * 32), 10, 0),
        _event(ev.ItemObserved(a, SHOP, _code("cold-chain/ok"), b"\5" * 32), 11, 0),
        _event(ev.ItemObserved(a, SHOP, ChainText(b"\xff odd%step"), b"\6" * 32), 12, 0),
        _event(ev.ItemSold(a, SHOP), 13, 0),
        _event(ev.ItemClaimed(a, SHOP), 14, 0),
    ]
    second = [
        _event(ev.ItemRegistered(b, 1, _code("B")), 2, 1),
        _event(ev.CustodyOffered(b, BRAND, SHOP), 15, 0),
        _event(ev.CustodyTransferred(b, BRAND, SHOP), 16, 0),
        _event(ev.ItemClaimed(b, SHOP), 17, 0),  # claimed unsold: the shop held it
    ]
    recall = [_event(ev.LotRecalled(1, BRAND, ChainText.of('Residue "X" found; 100% of jars.')), 18, 0)]
    unlotted = [_event(ev.ItemRegistered(c, 2, _code("C")), 19, 0)]
    return [
        ItemStory(ItemKey.create(GTIN, "A", "HONEY-A"), lot + first + recall),
        ItemStory(ItemKey.create(GTIN, "B", "HONEY-A"), lot + second + recall),
        ItemStory(ItemKey.create(GTIN, "C"), unlotted),
    ]


def test_epcis_document__every_event_type_it_emits__valid_epcis_2_0() -> None:
    doc = epcis_document(_every_kind_of_story(), chain_id=1337, registry=BRAND, created_at=0)

    validate_epcis(doc)  # GS1's JSON Schema, formats asserted

    events = doc["epcisBody"]["eventList"]
    kinds = {(e["supplytrace:event"], e.get("bizStep"), e.get("disposition")) for e in events}
    assert kinds == {
        ("ItemRegistered", "commissioning", "active"),
        ("CustodyOffered", "shipping", "in_transit"),
        ("OfferCancelled", "void_shipping", "active"),
        ("OfferRejected", "void_shipping", "active"),
        ("CustodyTransferred", "shipping", "in_transit"),  # the signed handoff's shipping half
        ("CustodyTransferred", "receiving", "in_progress"),
        ("ItemObserved", "inspecting", None),
        ("ItemObserved", "urn:supplytrace:bizstep:cold-chain%2Fok", None),
        ("ItemObserved", "urn:supplytrace:bizstep:%FF%20odd%25step", None),
        ("ItemSold", "retail_selling", "retail_sold"),
        ("ItemClaimed", "decommissioning", "inactive"),
        ("LotRecalled", None, "recalled"),
    }
    assert "ilmd" not in events[-1]  # no lot code: nothing to say in ilmd
    assert [e["epcList"] for e in events if e["supplytrace:event"] == "LotRecalled"] == [
        [f"https://id.gs1.org/01/{GTIN}/21/A", f"https://id.gs1.org/01/{GTIN}/21/B"]
    ]


CSET82 = "!\"%&'()*+,-./" + string.digits + ":;<=>?" + string.ascii_uppercase + "_" + string.ascii_lowercase
codes = st.text(alphabet=CSET82, min_size=1, max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    serial=codes,
    lot=st.none() | codes,
    step=st.binary(min_size=1, max_size=32),
    reason=st.text(max_size=80),
)
def test_epcis_document__any_gs1_codes_step_and_reason__valid_epcis_2_0(
    serial: str, lot: str | None, step: bytes, reason: str
) -> None:
    """Whatever serial and lot GS1 allows, whatever bytes a custodian recorded as its step and
    whatever a recall says, the export keeps the schema (URIs percent-encoded where needed)."""
    item = b"\x0a" * 32
    events = [
        _event(ev.ItemRegistered(item, 1, ChainText.of(serial)), 2, 0),
        _event(ev.CustodyTransferred(item, BRAND, SHOP), 3, 0),
        _event(ev.ItemObserved(item, SHOP, ChainText(step), b"\0" * 32), 4, 0),
        _event(ev.LotRecalled(1, BRAND, ChainText.of(reason)), 5, 0),
    ]
    doc = epcis_document(
        [ItemStory(ItemKey.create(GTIN, serial, lot), events)], chain_id=1, registry=SHOP, created_at=0
    )

    validate_epcis(doc)
