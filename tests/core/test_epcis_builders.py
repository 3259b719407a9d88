"""supplytrace.core.epcis_builders: the EPCIS 2.0 events of blends (TransformationEvent), of
packing and unpacking containers (AggregationEvent) and of a container's custody steps
(ObjectEvent on its SSCC), each valid under GS1's schema and carrying the chain's fields."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.epcis import epcis_document
from supplytrace.core.epcis_builders import (
    LotQuantity,
    OnChain,
    aggregation_event,
    custody_event,
    item_link,
    lot_link,
    sscc_link,
    transformation_event,
)
from supplytrace.core.epcis_validation import validate_epcis
from supplytrace.core.events import Logged, LotClosed
from supplytrace.core.ids import IdentityError, ItemKey

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BEEKEEPER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HUB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
HONEY = "09506000134352"
BLEND = "09506000134369"
PALLET = "106141411234567897"  # GS1's example SSCC (extension 1, prefix 0614141), check digit 7
CASE = "006141410000000012"


def _place(event: str, block: int, log_index: int = 0) -> OnChain:
    return OnChain(1337, REGISTRY, event, f"0x{block:064x}", block, log_index, 1_700_000_000 + block)


def _valid(*events: dict[str, Any]) -> dict[str, Any]:
    """The events in a document (the schema wants a lone event to carry its own @context)."""
    document = epcis_document([], chain_id=1337, registry=REGISTRY, created_at=0, extra=events)
    validate_epcis(document)
    return document


def _chain_fields(event: dict[str, Any], place: OnChain) -> None:
    assert event["eventID"].startswith("urn:uuid:")
    assert event["eventTime"] == "2023-11-14T22:13:30.000Z" and event["eventTimeZoneOffset"] == "+00:00"
    assert {k: v for k, v in event.items() if k.startswith("supplytrace:") and k[12:] in _PLACE} == {
        "supplytrace:event": place.event,
        "supplytrace:chainId": 1337,
        "supplytrace:registry": REGISTRY,
        "supplytrace:transactionHash": place.tx_hash,
        "supplytrace:blockNumber": place.block_number,
        "supplytrace:logIndex": place.log_index,
    }


_PLACE = {"event", "chainId", "registry", "transactionHash", "blockNumber", "logIndex"}


# ----------------------------------------------------------------------------------------------
# Blends
# ----------------------------------------------------------------------------------------------


def test_transformation_event__two_harvests_blended__lots_quantities_and_commissioning() -> None:
    place = _place("LotTransformed", 10, 4)
    inputs = [LotQuantity(HONEY, "ACACIA-1", 120_000, "gram"), LotQuantity(HONEY, "CLOVER/2", 80_000, "gram")]

    event = transformation_event(
        place, inputs=inputs, outputs=[LotQuantity(BLEND, "BLEND-7", 195_000, "gram")], by=BEEKEEPER
    )

    _valid(event)
    assert event["type"] == "TransformationEvent"
    assert event["inputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{HONEY}/10/ACACIA-1", "quantity": 120_000, "uom": "GRM"},
        {"epcClass": f"https://id.gs1.org/01/{HONEY}/10/CLOVER%2F2", "quantity": 80_000, "uom": "GRM"},
    ]
    assert event["outputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{BLEND}/10/BLEND-7", "quantity": 195_000, "uom": "GRM"}
    ]
    assert event["bizStep"] == "commissioning" and event["disposition"] == "active"
    assert event["supplytrace:transformedBy"] == f"did:pkh:eip155:1337:{BEEKEEPER}"
    assert "inputEPCList" not in event and "outputEPCList" not in event and "ilmd" not in event
    _chain_fields(event, place)
    assert event["transformationID"].startswith("urn:uuid:")


def test_transformation_event__units__grm_mlt_and_no_uom_for_a_count() -> None:
    made = [LotQuantity(BLEND, "MEAD-1", 750, "millilitre")]
    counted = transformation_event(
        _place("LotTransformed", 10),
        inputs=[LotQuantity(HONEY, "JARS-1", 12, "each")],
        outputs=[LotQuantity(BLEND, "GIFT-1", 3, "each")],
        by=BEEKEEPER,
    )
    poured = transformation_event(
        _place("LotTransformed", 10),
        inputs=[LotQuantity(HONEY, "MEAD-BASE", 1000, "millilitre")],
        outputs=made,
        by=BEEKEEPER,
        new_lot=False,
    )

    _valid(counted, poured)
    assert counted["inputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{HONEY}/10/JARS-1", "quantity": 12}
    ]
    assert poured["outputQuantityList"][0]["uom"] == "MLT"
    assert poured["bizStep"] == "creating_class_instance"  # more of a lot already made


def test_transformation_event__same_new_lot__same_transformation_id_and_stable_event_id() -> None:
    def blend(output: str, block: int, new_lot: bool = True) -> dict[str, Any]:
        return transformation_event(
            _place("LotTransformed", block),
            inputs=[LotQuantity(HONEY, "A", 5, "gram")],
            outputs=[LotQuantity(BLEND, output, 5, "gram")],
            by=BEEKEEPER,
            new_lot=new_lot,
        )

    assert blend("B1", 10) == blend("B1", 10)  # an export can be compared with a later one
    assert blend("B1", 10)["transformationID"] == blend("B1", 11)["transformationID"]  # from the lot
    assert blend("B1", 10)["transformationID"] != blend("B2", 10)["transformationID"]
    assert blend("B1", 10)["eventID"] != blend("B1", 11)["eventID"]
    # two blends into one existing lot are two transformations
    assert blend("B1", 10, False)["transformationID"] != blend("B1", 11, False)["transformationID"]


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        ([], [LotQuantity(BLEND, "B", 1, "gram")], "at least one input and one output"),
        ([LotQuantity(HONEY, "A", 1, "gram")], [], "at least one input and one output"),
        ([LotQuantity(HONEY, "A", -1, "gram")], [LotQuantity(BLEND, "B", 1, "gram")], "cannot be negative"),
    ],
)
def test_transformation_event__no_input_or_a_negative_quantity__refused(
    inputs: list[LotQuantity], outputs: list[LotQuantity], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        transformation_event(_place("LotTransformed", 10), inputs=inputs, outputs=outputs, by=BEEKEEPER)


def test_lot_link__a_lot_code_outside_gs1s_characters__identity_error() -> None:
    with pytest.raises(IdentityError, match="lot code"):
        lot_link(HONEY, "no spaces")


# ----------------------------------------------------------------------------------------------
# Containers
# ----------------------------------------------------------------------------------------------


def test_aggregation_event__items_and_a_case_packed_on_a_pallet__add_packing_with_the_sscc() -> None:
    place = _place("ContainerPacked", 10, 1)
    jars = [item_link(ItemKey.create(HONEY, f"J{n}", "ACACIA-1")) for n in range(3)]

    event = aggregation_event(
        place, parent_sscc=PALLET, children=[*jars, sscc_link(CASE)], action="ADD", by=HUB
    )

    _valid(event)
    assert event["type"] == "AggregationEvent" and event["action"] == "ADD"
    assert event["parentID"] == f"https://id.gs1.org/00/{PALLET}"
    assert event["childEPCs"] == [
        f"https://id.gs1.org/01/{HONEY}/21/J0",  # the serial alone names an item: no lot in the link
        f"https://id.gs1.org/01/{HONEY}/21/J1",
        f"https://id.gs1.org/01/{HONEY}/21/J2",
        f"https://id.gs1.org/00/{CASE}",
    ]
    assert event["bizStep"] == "packing" and event["disposition"] == "in_progress"
    assert event["supplytrace:packedBy"] == f"did:pkh:eip155:1337:{HUB}"
    _chain_fields(event, place)


def test_aggregation_event__unpacked__delete_unpacking() -> None:
    place = _place("ContainerUnpacked", 10)
    jar = item_link(ItemKey.create(HONEY, "J0"))

    event = aggregation_event(place, parent_sscc=int(PALLET), children=[jar], action="DELETE", by=HUB)

    _valid(event)
    assert (event["action"], event["bizStep"], event["disposition"]) == ("DELETE", "unpacking", "in_progress")
    assert event["childEPCs"] == [jar] and event["supplytrace:unpackedBy"] == f"did:pkh:eip155:1337:{HUB}"
    assert "supplytrace:packedBy" not in event


def test_aggregation_event__no_children_or_an_observe__refused() -> None:
    with pytest.raises(ValueError, match="at least one item or container"):
        aggregation_event(
            _place("ContainerPacked", 10), parent_sscc=PALLET, children=[], action="ADD", by=HUB
        )
    with pytest.raises(ValueError, match=r"ADD \(packing\) or DELETE"):
        aggregation_event(
            _place("ContainerPacked", 10), parent_sscc=PALLET, children=["x:y"], action="OBSERVE", by=HUB,  # type: ignore[arg-type]
        )  # fmt: skip


def test_custody_event__a_pallet_offered_and_received__object_events_on_the_sscc_alone() -> None:
    pallet = sscc_link(PALLET)
    offered = custody_event(_place("CustodyOffered", 11), pallet, "shipping", BEEKEEPER, HUB)
    withdrawn = custody_event(_place("OfferCancelled", 12), pallet, "void_shipping", BEEKEEPER, HUB)
    handed = custody_event(
        _place("CustodyTransferred", 13), pallet, "shipping", BEEKEEPER, HUB, part="shipping"
    )
    received = custody_event(_place("CustodyTransferred", 13), pallet, "receiving", BEEKEEPER, HUB)

    _valid(offered, withdrawn, handed, received)
    assert [(e["type"], e["epcList"], e["action"], e["bizStep"], e["disposition"]) for e in
            (offered, withdrawn, received)] == [
        ("ObjectEvent", [pallet], "OBSERVE", "shipping", "in_transit"),
        ("ObjectEvent", [pallet], "OBSERVE", "void_shipping", "active"),
        ("ObjectEvent", [pallet], "OBSERVE", "receiving", "in_progress"),
    ]  # fmt: skip
    assert received["sourceList"] == [
        {"type": "possessing_party", "source": f"did:pkh:eip155:1337:{BEEKEEPER}"}
    ]
    assert received["destinationList"] == [
        {"type": "possessing_party", "destination": f"did:pkh:eip155:1337:{HUB}"}
    ]
    assert handed["eventID"] != received["eventID"]  # one log, two events


@pytest.mark.parametrize(
    ("sscc", "link"),
    [
        (PALLET, f"https://id.gs1.org/00/{PALLET}"),
        (int(CASE), f"https://id.gs1.org/00/{CASE}"),  # the chain's integer: leading zeros restored
        (" 6141410000000012 ", f"https://id.gs1.org/00/{CASE}"),
    ],
)
def test_sscc_link__sscc_as_text_or_integer__eighteen_digit_link(sscc: str | int, link: str) -> None:
    assert sscc_link(sscc) == link


@pytest.mark.parametrize("sscc", ["106141411234567898", "1061414112345678970", "0", "10614141123456789X", -7])
def test_sscc_link__wrong_check_digit_length_or_characters__identity_error(sscc: str | int) -> None:
    with pytest.raises(IdentityError, match="SSCC"):
        sscc_link(sscc)


@given(st.integers(min_value=1, max_value=10**17 - 1))
def test_sscc_link__any_payload_with_its_check_digit__valid_18_digit_link(payload: int) -> None:
    from biip.checksums import gs1_standard_check_digit

    body = f"{payload:017d}"
    link = sscc_link(body + str(gs1_standard_check_digit(body)))

    assert link.startswith("https://id.gs1.org/00/") and len(link.rsplit("/", 1)[1]) == 18


# ----------------------------------------------------------------------------------------------
# In a document
# ----------------------------------------------------------------------------------------------


def test_epcis_document__extra_events__in_chain_order_and_each_once() -> None:
    pack = aggregation_event(
        _place("ContainerPacked", 12), parent_sscc=PALLET, children=["urn:x:1"], action="ADD", by=HUB
    )
    blend = transformation_event(
        _place("LotTransformed", 11),
        inputs=[LotQuantity(HONEY, "A", 5, "gram")],
        outputs=[LotQuantity(BLEND, "B", 5, "gram")],
        by=BEEKEEPER,
    )

    document = _valid(pack, blend, pack)  # the pallet's event reached twice (from two items)

    assert [e["type"] for e in document["epcisBody"]["eventList"]] == [
        "TransformationEvent",
        "AggregationEvent",
    ]


def test_on_chain_of__a_decoded_log__its_place_and_the_blocks_time() -> None:
    log = Logged(LotClosed(1, BEEKEEPER), 9, 2, "0x" + "ab" * 32, "0x" + "cd" * 32, 1_700_000_009)

    place = OnChain.of(log, chain_id=1337, registry=REGISTRY)

    assert place == OnChain(1337, REGISTRY, "LotClosed", "0x" + "ab" * 32, 9, 2, 1_700_000_009)
    assert OnChain.of(Logged(log.event, 9, 2, "0x", "0x"), chain_id=1, registry=REGISTRY).timestamp == 0
