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
