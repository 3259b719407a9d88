"""The EPCIS export from any history source: the event index (plus the chain after it) and the
chain's logs give the same document; items a registrar gave hostile bytes export too."""

from __future__ import annotations

import pytest

from supplytrace.chain.history import ChainHistory
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc
from supplytrace.core.hashing import keccak
from supplytrace.indexer.history import IndexHistory
from supplytrace.indexer.reader import IndexReader
from supplytrace.service.exports import ExportError, export_epcis
from tests.conftest import HONEY_GTIN


def _word(raw: bytes) -> bytes:
    return raw.ljust(32, b"\0")


@pytest.fixture
def sources(make_indexer, db_url, rpc_url, registry, deployment_block):
    """(index history, chain history, registry reads) once the test's chain is built."""

    def _make(confirmations: int = 0):
        indexer = make_indexer(db_url, confirmations=confirmations)
        indexer.catch_up()
        chain = ChainHistory(Rpc(rpc_url), str(registry.address), deployment_block)
        index = IndexHistory(IndexReader(indexer.store.engine, indexer.store.chain_id), chain)
        return index, chain, RegistryReads(Rpc(rpc_url), str(registry.address))

    return _make


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
    alone = export_epcis(index, reads, item_ids=[work.items[-1]], **options)
    assert alone == export_epcis(chain, reads, item_ids=[work.items[-1]], **options)


def test_export_epcis__serials_and_lot_code_of_hostile_bytes__exported_distinct_never_raises(
    send_raw,
    sources,
    registry,
    brand,
    chain_id,
) -> None:
    send_raw(brand, "registerLot", int(HONEY_GTIN), _word(b"\xc3\x28"), b"\x33" * 32)
    lot = int(registry.lotCount())
    send_raw(brand, "registerItems", lot, [_word(b"A\x00B"), _word(b"A")])
    index, chain, reads = sources()
    options = {"chain_id": chain_id, "registry": str(registry.address), "created_at": 0}
    document = export_epcis(index, reads, lot_id=lot, **options)
    assert document == export_epcis(chain, reads, lot_id=lot, **options)
    epcs = [e["epcList"][0] for e in document["epcisBody"]["eventList"]]
    assert len(epcs) == 2 and len(set(epcs)) == 2
    assert all(e["ilmd"] == {"cbvmda:lotNumber": "\ufffd("} for e in document["epcisBody"]["eventList"])


def test_export_epcis__unknown_item_or_nothing__one_sentence(sources, registry, chain_id) -> None:
    index, _chain, reads = sources()
    options = {"chain_id": chain_id, "registry": str(registry.address)}
    unknown = keccak(b"never registered")
    with pytest.raises(ExportError, match=f"0x{unknown.hex()} is not registered by any brand"):
        export_epcis(index, reads, item_ids=[unknown], **options)
    with pytest.raises(ExportError, match="name an item or a lot"):
        export_epcis(index, reads, **options)
