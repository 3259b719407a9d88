"""supplytrace.core.epcis_hash: the CBV 2.0 event hash equals GS1's reference implementation
(PyPI ``epcis-event-hash-generator``, a test dependency) on every event type the export emits
and on random workloads, and an export names each event by it."""

from __future__ import annotations

import copy
import math
import string
from typing import Any

import pytest
from epcis_event_hash_generator import dl_normaliser, hash_generator, json_to_py
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplytrace.core import events as ev
from supplytrace.core.epcis import EPCIS_CONTEXT, ItemStory, epcis_document
from supplytrace.core.epcis_builders import (
    LotQuantity,
    OnChain,
    Unit,
    aggregation_event,
    custody_event,
    item_link,
    sscc_link,
    transformation_event,
)
from supplytrace.core.epcis_hash import canonical_digital_link, event_hash, pre_hash
from supplytrace.core.epcis_validation import validate_epcis
from supplytrace.core.events import Logged, RegistryEvent
from supplytrace.core.ids import ItemKey, encode_code
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HUB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SHOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
GTIN = "09506000134352"
BLEND = "09506000134369"
PALLET = "106141411234567897"
CASE = "006141410000000012"
pytestmark = pytest.mark.filterwarnings(
    "ignore:open_text is deprecated:DeprecationWarning"
)  # the reference's
_CSET82 = string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_"


def _reference(document: dict[str, Any]) -> list[str]:
    """GS1's reference hashes of a document's events (it drops an event it cannot hash)."""
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    return list(hash_generator.epcis_hashes_from_events(events))


def _reference_alone(document: dict[str, Any]) -> list[str]:
    """The reference's hash of each event in a document of its own (what the hash of an event is:
    the reference matches bare words against the whole document, see the module)."""
    body = document["epcisBody"]["eventList"]
    return [h for e in body for h in _reference({**document, "epcisBody": {"eventList": [e]}})]


def _logged(event: RegistryEvent, block: int, log_index: int = 0, at: int = 1_700_000_000) -> Logged:
    return Logged(event, block, log_index, f"0x{block:064x}", f"0x{block + 1:064x}", at + block)


def _step(text: str) -> ChainText:
    return ChainText.from_word(encode_code(text, "step"))


def _story(serial: str, lot: str, item: bytes, reason: str = "Residue found.") -> ItemStory:
    events = [
        _logged(ev.ItemRegistered(item, 1, _step(serial)), 2),
        _logged(ev.CustodyOffered(item, BRAND, HUB), 3),
        _logged(ev.OfferCancelled(item, BRAND, HUB), 4),
        _logged(ev.CustodyOffered(item, BRAND, HUB), 5),
        _logged(ev.CustodyTransferred(item, BRAND, HUB), 6),
        _logged(ev.CustodyTransferred(item, HUB, SHOP), 7),  # a signed handoff: shipping + receiving
        _logged(ev.ItemObserved(item, SHOP, _step("inspecting"), b"\1" * 32), 8),
        _logged(ev.ItemObserved(item, SHOP, _step("tasting"), b"\2" * 32), 9),  # no CBV step: a URN
        _logged(ev.ItemSold(item, SHOP), 10),
        _logged(ev.ItemClaimed(item, SHOP), 11),
        _logged(ev.LotRecalled(1, BRAND, ChainText.of(reason)), 12),
    ]
    return ItemStory(ItemKey.create(GTIN, serial, lot), events)


def _place(event: str, block: int, log_index: int = 0) -> OnChain:
    return OnChain(1337, BRAND, event, f"0x{block:064x}", block, log_index, 1_700_000_000 + block)


def _containers_and_blends() -> list[dict[str, Any]]:
    jar = item_link(ItemKey(GTIN, "A"))
    honey = [LotQuantity(GTIN, "ACACIA-1", 120_000, "gram"), LotQuantity(GTIN, "CLOVER/2", 80_000, "gram")]
    blend = [LotQuantity(BLEND, "B-7", 195_000, "gram")]
    more = [LotQuantity(GTIN, "MEAD", 1000, "millilitre")], [LotQuantity(BLEND, "GIFT", 3, "each")]
    return [
        transformation_event(_place("LotTransformed", 20, 1), inputs=honey, outputs=blend, by=BRAND),
        transformation_event(
            _place("LotTransformed", 21), inputs=more[0], outputs=more[1], by=BRAND, new_lot=False
        ),
        aggregation_event(
            _place("ItemsPacked", 22),
            parent_sscc=PALLET,
            children=[jar, sscc_link(CASE)],
            action="ADD",
            by=HUB,
        ),
        custody_event(_place("CustodyOffered", 23), sscc_link(PALLET), "shipping", HUB, SHOP),
        aggregation_event(
            _place("ItemsUnpacked", 24), parent_sscc=int(PALLET), children=[jar], action="DELETE", by=SHOP
        ),
    ]


def _document(*stories: ItemStory, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return epcis_document(stories, chain_id=1337, registry=BRAND, created_at=0, extra=extra or [])


# ----------------------------------------------------------------------------------------------
# Every event the export emits
# ----------------------------------------------------------------------------------------------


def test_epcis_document__every_event_type_the_export_emits__event_ids_are_the_reference_hashes() -> None:
    document = _document(
        _story("A", "HONEY-A", b"\xaa" * 32),
        _story("B", "HONEY-A", b"\xbb" * 32),
        extra=_containers_and_blends(),
    )
    validate_epcis(document)
    events = document["epcisBody"]["eventList"]
    kinds = {(e["type"], e.get("action"), e.get("bizStep")) for e in events}
    assert kinds >= {
        ("ObjectEvent", "ADD", "commissioning"),
        ("ObjectEvent", "OBSERVE", "shipping"),
        ("ObjectEvent", "OBSERVE", "void_shipping"),
        ("ObjectEvent", "OBSERVE", "receiving"),
        ("ObjectEvent", "OBSERVE", "inspecting"),
        ("ObjectEvent", "OBSERVE", "urn:supplytrace:bizstep:tasting"),
        ("ObjectEvent", "OBSERVE", "retail_selling"),
        ("ObjectEvent", "OBSERVE", "decommissioning"),
        ("ObjectEvent", "OBSERVE", None),  # the recall
        ("TransformationEvent", None, "commissioning"),
        ("TransformationEvent", None, "creating_class_instance"),
        ("AggregationEvent", "ADD", "packing"),
        ("AggregationEvent", "DELETE", "unpacking"),
    }
    assert [e["eventID"] for e in events] == _reference(document) == _reference_alone(document)
    assert len({e["eventID"] for e in events}) == len(events)


def test_pre_hash__a_custody_step__the_references_field_order_and_namespaced_extensions() -> None:
    event = _document(_story("A", "L1", b"\xaa" * 32))["epcisBody"]["eventList"][1]

    text = pre_hash(event, [EPCIS_CONTEXT, {"supplytrace": "urn:supplytrace:epcis:"}])

    assert text == (
        "eventType=ObjectEvent"
        "eventTime=2023-11-14T22:13:23.000Z"
        "eventTimeZoneOffset=+00:00"
        f"epcListepc=https://id.gs1.org/01/{GTIN}/21/A"
        "action=OBSERVE"
        "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
        "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
        # the reference sorts sourceList and destinationList among the extensions
        f"destinationListtype=https://ref.gs1.org/cbv/SDT-possessing_partydestination=did:pkh:eip155:1337:{HUB}"
        f"sourceListtype=https://ref.gs1.org/cbv/SDT-possessing_partysource=did:pkh:eip155:1337:{BRAND}"
        "{urn:supplytrace:epcis:}blockNumber=3"
        "{urn:supplytrace:epcis:}chainId=1337"
        "{urn:supplytrace:epcis:}event=CustodyOffered"
        "{urn:supplytrace:epcis:}logIndex=0"
        f"{{urn:supplytrace:epcis:}}registry={BRAND}"
        f"{{urn:supplytrace:epcis:}}transactionHash=0x{3:064x}"
    )
    assert event_hash(event, [EPCIS_CONTEXT, {"supplytrace": "urn:supplytrace:epcis:"}]) == event["eventID"]


def test_epcis_document__same_histories_exported_twice__same_event_ids() -> None:
    first = _document(_story("A", "L1", b"\xaa" * 32), extra=_containers_and_blends())
    again = _document(_story("A", "L1", b"\xaa" * 32), extra=_containers_and_blends())
    assert [e["eventID"] for e in first["epcisBody"]["eventList"]] == [
        e["eventID"] for e in again["epcisBody"]["eventList"]
    ]


# ----------------------------------------------------------------------------------------------
# EPCIS events in other spellings (EPC URIs, offsets, old CBV URNs, decimals)
# ----------------------------------------------------------------------------------------------

_OTHER_SPELLINGS: list[dict[str, Any]] = [
    {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:1",
        "eventTime": "2019-04-02T15:00:00.1234+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9876", "urn:epc:id:sgtin:4012345.011111.5432"],
        "action": "OBSERVE",
        "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
        "disposition": "in_progress",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
        "bizLocation": {"id": "urn:epc:id:sgln:4012345.00002.x%2F1"},
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1"}],
        "persistentDisposition": {"set": ["recalled", "in_progress"], "unset": ["active"]},
        "supplytrace:note": "recalled",
    },
    {
        "type": "AggregationEvent",
        "eventTime": "2020-02-29T23:59:59Z",
        "eventTimeZoneOffset": "-05:00",
        "parentID": "urn:epc:id:sscc:4012345.0000000001",
        "childEPCs": ["http://example.com/gtin/4012345000016/ser/7?x=1"],
        "childQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 2.50, "uom": "KGM"}
        ],
        "action": "ADD",
        "supplytrace:lines": ["b", "a"],
        "supplytrace:detail": {"supplytrace:count": "+012", "supplytrace:empty": ""},
        "supplytrace:itemList": ["x", "y"],
    },
    {
        "type": "TransformationEvent",
        "eventTime": "2024-06-01T12:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "inputEPCList": ["https://id.gs1.org/01/4012345000016/10/L1/21/S1"],
        "outputEPCList": ["https://id.gs1.org/01/12345678/21/9"],
        "inputQuantityList": [{"epcClass": "https://id.gs1.org/01/04012345000016/10/L1", "quantity": 1e3}],
        "ilmd": {"cbvmda:lotNumber": "L2", "cbvmda:bestBeforeDate": "2025-01-01"},
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
    },
]


@pytest.mark.parametrize("event", _OTHER_SPELLINGS, ids=lambda e: e["type"])
def test_event_hash__epc_uris_offsets_urns_and_decimals__equals_the_reference(event: dict[str, Any]) -> None:
    context = [EPCIS_CONTEXT, {"supplytrace": "urn:supplytrace:epcis:"}]
    document = {"@context": context, "type": "EPCISDocument", "epcisBody": {"eventList": [event]}}
    assert [event_hash(event, context)] == _reference(document)


_SERIALS = st.text(_CSET82, min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["sgtin", "lgtin", "sscc", "sgln", "pgln", "dl", "lot", "short"]),
    st.integers(6, 12),
    st.integers(0, 10**13),
    _SERIALS,
    st.sampled_from(["", "?linkType=all", "/", "#x"]),
    st.sampled_from(["http://example.org", "https://id.gs1.org", "https://a.example/b/c"]),
)
def test_canonical_digital_link__epc_uris_and_links__the_references_normal_form(
    kind: str, prefix_length: int, number: int, serial: str, tail: str, host: str
) -> None:
    digits = f"{number:013d}"
    prefix, rest = digits[:prefix_length], digits[prefix_length:]
    safe = serial.replace("%", "%25").replace("/", "%2F").replace('"', "%22")
    uri = {
        "sgtin": f"urn:epc:id:sgtin:{prefix}.{rest}.{safe}",
        "lgtin": f"urn:epc:class:lgtin:{prefix}.{rest}.{safe}",
        "sscc": f"urn:epc:id:sscc:{prefix}.{rest}{digits[:4]}",
        "sgln": f"urn:epc:id:sgln:{prefix}.{rest[:-1]}.{safe}",
        "pgln": f"urn:epc:id:pgln:{prefix}.{rest[:-1]}",
        "dl": f"{host}/01/{digits[: len(safe) % 3 + 12]}/10/L/21/{safe}{tail}",
        "lot": f"{host}/01/{digits[:1]}{digits}/10/{serial}{tail}",
        "short": f"{host}/gtin/{digits[: 8 + len(safe) % 7]}/lot/{safe}/ser/1{tail}",
    }[kind]
    assert canonical_digital_link(uri) == dl_normaliser.normaliser(uri)


# ----------------------------------------------------------------------------------------------
# Random workloads
# ----------------------------------------------------------------------------------------------


def _finite(text: str) -> bool:
    """Not a text that reads as infinity (``inf``): the reference cannot hash an event with one."""
    try:
        return not math.isinf(float(text))
    except ValueError:
        return True


@st.composite
def _workload(draw: st.DrawFn) -> tuple[list[ItemStory], list[dict[str, Any]]]:
    at = draw(st.integers(0, 2**32))
    lot = draw(_SERIALS.filter(_finite))
    serials = draw(st.lists(_SERIALS, min_size=1, max_size=3, unique=True))
    steps = draw(st.lists(st.sampled_from(["inspecting", "storing", "tasting", "x:y", "a b"]), max_size=3))
    reason = draw(st.text(max_size=12).filter(_finite))
    stories = []
    for n, serial in enumerate(serials):
        item = bytes([n + 1]) * 32
        events = [_logged(ev.ItemRegistered(item, 1, _step(serial)), 2, n, at)]
        for k, step in enumerate(steps):
            raw = ChainText(step.encode())
            events.append(_logged(ev.ItemObserved(item, SHOP, raw, bytes([k]) * 32), 3 + k, n, at))
        events.append(_logged(ev.CustodyTransferred(item, BRAND, HUB), 9, n, at))
        events.append(_logged(ev.LotRecalled(1, BRAND, ChainText.of(reason)), 10, 0, at))
        stories.append(ItemStory(ItemKey.create(GTIN, serial, lot), events))
    units: list[Unit] = ["each", "gram", "millilitre"]
    quantities = [
        LotQuantity(GTIN, draw(_SERIALS), draw(st.integers(0, 10**15)), draw(st.sampled_from(units)))
        for _ in range(draw(st.integers(1, 3)))
    ]
    place = OnChain(1337, BRAND, "LotTransformed", f"0x{11:064x}", 11, 0, at + 11)
    extra = [transformation_event(place, inputs=quantities, outputs=quantities[:1], by=BRAND)]
    packed = [item_link(s.key) for s in stories]
    pack = OnChain(1337, BRAND, "ItemsPacked", f"0x{12:064x}", 12, 0, at + 12)
    extra.append(aggregation_event(pack, parent_sscc=PALLET, children=packed, action="ADD", by=HUB))
    return stories, extra


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_workload())
def test_epcis_document__random_workloads__every_event_id_is_the_references_hash(
    workload: tuple[list[ItemStory], list[dict[str, Any]]],
) -> None:
    stories, extra = workload
    document = _document(*stories, extra=extra)
    assert [e["eventID"] for e in document["epcisBody"]["eventList"]] == _reference_alone(document)


# ----------------------------------------------------------------------------------------------
# Where the reference depends on the rest of the document
# ----------------------------------------------------------------------------------------------


def test_event_hash__a_recall_reason_that_is_a_cbv_word_used_elsewhere__the_events_own_hash() -> None:
    # The reference turns a bare word into a CBV IRI when the word is a CBV term anywhere in the
    # document: its hash of this recall changes with the shipping events exported with it.
    document = _document(_story("A", "L1", b"\xaa" * 32, reason="shipping"))
    recall = document["epcisBody"]["eventList"][-1]
    assert recall["supplytrace:reason"] == "shipping"

    assert recall["eventID"] == _reference_alone(document)[-1]
    assert recall["eventID"] != _reference(document)[-1]


def test_event_hash__a_lot_code_reading_as_infinity__hashed_where_the_reference_drops_the_event() -> None:
    document = _document(_story("A", "INF", b"\xaa" * 32))
    commissioning = document["epcisBody"]["eventList"][0]
    assert commissioning["ilmd"] == {"cbvmda:lotNumber": "INF"}

    assert commissioning["eventID"].startswith("ni:///sha-256;")
    assert len(_reference(document)) == len(document["epcisBody"]["eventList"]) - 1
