"""The EPCIS export from any history source: the event index (plus the chain after it) and the
chain's logs give the same document, valid EPCIS 2.0; items a registrar gave hostile bytes export
too; every event is named by its CBV 2.0 event hash, as GS1's reference computes it."""

from __future__ import annotations

import copy

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py

from supplytrace.core.epcis_validation import validate_epcis
from supplytrace.core.hashing import keccak
from supplytrace.service.exports import ExportError, export_epcis


def _word(raw: bytes) -> bytes:
    return raw.ljust(32, b"\0")


@pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")  # the reference's
def test_export_epcis__items_and_a_lot__the_same_document_from_the_index_and_the_chain(
    workload,
    sources,
    registry,
    brand,
    lot_id,
    chain_id,
) -> None:
    work = workload(seed=61)
    for _ in range(3):
        work.register(3, lot=lot_id)
    for _ in range(12):
        work.step()
    registry.recallLot(lot_id, "Residue found.", sender=brand)
    index, chain, reads = sources(confirmations=3)  # the last steps come from the chain's tail
    options = {"chain_id": chain_id, "registry": str(registry.address), "created_at": 0}
    picked = work.items[:2]
    from_index = export_epcis(index, reads, item_ids=picked, lot_id=lot_id, **options)
    assert from_index == export_epcis(chain, reads, item_ids=picked, lot_id=lot_id, **options)
    events = from_index["epcisBody"]["eventList"]
    lot_items = [i.item_id for i in chain.lot_items(lot_id)]
    assert sum(e.get("bizStep") == "commissioning" for e in events) == len(lot_items)
    (recall,) = [e for e in events if e.get("disposition") == "recalled"]
    assert len(recall["epcList"]) == len(lot_items) and recall["supplytrace:reason"] == "Residue found."
    validate_epcis(from_index)  # GS1's EPCIS 2.0 JSON Schema, on the chain's own events
    reference = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(from_index))
    assert [e["eventID"] for e in events] == hash_generator.epcis_hashes_from_events(reference)
    alone = export_epcis(index, reads, item_ids=[work.items[-1]], **options)
    assert alone == export_epcis(chain, reads, item_ids=[work.items[-1]], **options)


def test_export_epcis__unknown_item_or_nothing__one_sentence(sources, registry, chain_id) -> None:
    index, _chain, reads = sources()
    options = {"chain_id": chain_id, "registry": str(registry.address)}
    unknown = keccak(b"never registered")
    with pytest.raises(ExportError, match=f"0x{unknown.hex()} is not registered by any brand"):
        export_epcis(index, reads, item_ids=[unknown], **options)
    with pytest.raises(ExportError, match="name an item or a lot"):
        export_epcis(index, reads, **options)


def test_export_epcis__blend_on_a_pallet_and_an_ingredient_recalled__same_from_index_and_chain_valid(
    sources, registry, admin, brand, distributor, chain_id
) -> None:
    """Two measured harvests blended, the blend's jars packed on a pallet handed to a distributor
    who unpacks one, a harvest recalled: one TransformationEvent naming both harvests, the
    packing and unpacking on the pallet's SSCC, the pallet's steps on the SSCC alone, and the
    recall reaching the blend's jars; the index (with the chain's tail) and the chain agree."""
    from supplytrace.core.ids import container_id, encode_code, item_id, sscc_with_check_digit
    from supplytrace.core.records import QuantityUnit
    from tests.conftest import HONEY_GTIN

    gtin, gram = int(HONEY_GTIN), int(QuantityUnit.GRAM)
    registry.grantRole(registry.REGISTRAR_ROLE(), brand, sender=admin)
    registry.assignCompanyPrefix(9506000, 7, brand, sender=admin)
    for code in ("H-RO", "H-BG"):
        registry.registerMeasuredLot(
            gtin, encode_code(code, "lot"), b"\1" * 32, 10_000, 500, gram, sender=brand
        )
    harvests = [int(registry.lotCount()) - 1, int(registry.lotCount())]
    registry.registerTransformedLot(
        gtin, encode_code("BLEND-1", "lot"), b"\2" * 32, harvests, [600, 400], 1_000, 250, sender=brand
    )
    blend = int(registry.lotCount())
    registry.registerItems(blend, [encode_code("J1"), encode_code("J2")], sender=brand)
    jars = [item_id(HONEY_GTIN, s) for s in ("J1", "J2")]
    sscc = sscc_with_check_digit("09506000000000077")
    registry.pack(int(sscc), jars, sender=brand)
    registry.offer(container_id(sscc), distributor, sender=brand)
    registry.accept(container_id(sscc), sender=distributor)
    registry.unpack(container_id(sscc), jars[:1], sender=distributor)
    registry.recallLot(harvests[1], "Residue in H-BG.", sender=brand)
    index, chain, reads = sources(confirmations=2)  # the unpacking and the recall from the chain's tail
    options = {"chain_id": chain_id, "registry": str(registry.address), "created_at": 0}

    document = export_epcis(index, reads, lot_id=blend, **options)

    assert document == export_epcis(chain, reads, lot_id=blend, **options)
    validate_epcis(document)
    events = document["epcisBody"]["eventList"]
    kinds = [(e["type"], e["supplytrace:event"]) for e in events]
    assert kinds.count(("TransformationEvent", "LotTransformed")) == 1
    assert [k for k in kinds if k[0] == "AggregationEvent"] == [
        ("AggregationEvent", "ContainerPacked"),
        ("AggregationEvent", "ContainerUnpacked"),
    ]
    pallet = f"https://id.gs1.org/00/{sscc}"
    steps = [e for e in events if e.get("epcList") == [pallet]]
    assert [e["bizStep"] for e in steps] == ["shipping", "receiving"]
    (recall,) = [e for e in events if e.get("disposition") == "recalled"]
    assert recall["epcList"] == [f"https://id.gs1.org/01/{HONEY_GTIN}/21/{s}" for s in ("J1", "J2")]
    blended = next(e for e in events if e["type"] == "TransformationEvent")
    assert [q["quantity"] for q in blended["inputQuantityList"]] == [600, 400]


@pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")  # the reference's
def test_export_epcis__every_item_of_the_demo__valid_and_every_event_id_is_the_references_hash(
    demo_chain,
) -> None:
    """The acceptance of issue #15 over the demo: every item of every lot of `make demo`'s story
    and blend in one document, which validates against GS1's schema, and each event's eventID is
    what PyPI epcis-event-hash-generator computes for it."""
    history, reads = demo_chain.history, demo_chain.reads
    items = [i.item_id for lot in range(1, reads.lot_count() + 1) for i in history.lot_items(lot)]
    document = export_epcis(
        history,
        reads,
        item_ids=items,
        chain_id=demo_chain.chain_id,
        registry=demo_chain.registry,
        created_at=0,
    )
    events = document["epcisBody"]["eventList"]
    assert {e["type"] for e in events} >= {"ObjectEvent", "TransformationEvent", "AggregationEvent"}
    validate_epcis(document)
    reference = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    assert [e["eventID"] for e in events] == hash_generator.epcis_hashes_from_events(reference)
