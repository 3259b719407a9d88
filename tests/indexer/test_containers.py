"""The index of issue #14's events: containers packed, moved and unpacked, measured lots and
blends. Indexed in small chunks, with polls between the steps and across a reorganisation, the
index equals one built in a single run and one rebuilt by the reducer alone, every item and lot
reads as the contract's own views (a packed item held by its pallet's custodian), and an item's
history (index or chain) includes its pallet's moves while it was inside."""

from __future__ import annotations

from typing import Any

import pytest

from supplytrace.chain.history import ChainHistory
from supplytrace.chain.rpc import Rpc
from supplytrace.core.events import ContainerPacked, CustodyTransferred
from supplytrace.core.ids import container_id, encode_code, item_id, sscc_with_check_digit
from supplytrace.core.records import QuantityUnit
from supplytrace.core.story import replay
from supplytrace.indexer.history import IndexHistory
from supplytrace.indexer.reader import IndexReader
from tests.conftest import HONEY_GTIN
from tests.indexer.conftest import assert_matches_contract, dump, full_index

PREFIX = 9506000  # HONEY_GTIN's company prefix, which SSCCs are made from
GRAM = int(QuantityUnit.GRAM)


def _sscc(serial: int) -> int:
    return int(sscc_with_check_digit(f"0{PREFIX}{serial:09d}"))


@pytest.fixture
def boxes(registry, admin, brand, lot_id):
    registry.assignCompanyPrefix(PREFIX, 7, brand, sender=admin)
    return registry


def _register(registry: Any, brand: Any, lot: int, *serials: str) -> list[bytes]:
    registry.registerItems(lot, [encode_code(s) for s in serials], sender=brand)
    return [item_id(HONEY_GTIN, s) for s in serials]


def _journey(
    registry: Any, brand: Any, distributor: Any, retailer: Any, lot: int, poll: Any
) -> dict[str, Any]:
    """Items onto a case, the case and more items onto a pallet, the pallet offered, taken, handed
    on; the retailer unpacks; meanwhile two measured harvests blended, one recalled."""
    gtin = int(HONEY_GTIN)
    items = _register(registry, brand, lot, "C1", "C2", "C3", "C4")
    case, pallet = _sscc(41), _sscc(42)
    registry.offer(items[0], distributor, sender=brand)  # voided by the packing
    registry.pack(case, items[:2], sender=brand)
    poll()
    registry.pack(pallet, [container_id(case), items[2]], sender=brand)
    registry.offer(container_id(pallet), distributor, sender=brand)
    poll()
    registry.accept(container_id(pallet), sender=distributor)
    registry.offer(container_id(pallet), retailer, sender=distributor)
    registry.accept(container_id(pallet), sender=retailer)
    poll()
    registry.unpack(container_id(pallet), [items[2]], sender=retailer)
    registry.unpack(container_id(pallet), [container_id(case)], sender=retailer)
    registry.sell(items[2], sender=retailer)
    for n, origin in enumerate(("RO", "BG")):
        registry.registerMeasuredLot(
            gtin, encode_code(f"H-{origin}", "lot"), bytes([n + 1]) * 32, 10_000, 500, GRAM, sender=brand
        )
    harvests = [int(registry.lotCount()) - 1, int(registry.lotCount())]
    _register(registry, brand, harvests[0], "H1", "H2")
    poll()
    registry.registerTransformedLot(
        gtin, encode_code("BLEND", "lot"), b"\x09" * 32, harvests, [3_000, 2_000], 5_000, 250, sender=brand
    )
    blend = int(registry.lotCount())
    blended = _register(registry, brand, blend, "B1")
    registry.recallLot(harvests[1], "residue", sender=brand)
    return {
        "items": items + blended,
        "case": container_id(case),
        "pallet": container_id(pallet),
        "harvests": harvests,
        "blend": blend,
    }


def test_index__pallet_journey_and_blend__equals_contract_fresh_and_rebuilt_index(
    boxes, brand, distributor, retailer, lot_id, make_indexer, make_db
) -> None:
    indexer = make_indexer(make_db())
    story = _journey(boxes, brand, distributor, retailer, lot_id, indexer.poll)
    indexer.poll()

    lots = set(range(1, int(boxes.lotCount()) + 1))
    assert_matches_contract(indexer, boxes, set(story["items"]), lots, boxes=[story["case"], story["pallet"]])
    indexed = dump(indexer)
    assert indexed == dump(full_index(make_db(), make_indexer))
    indexer.store.rebuild()
    assert dump(indexer) == indexed
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    case_item = reader.item_record(story["items"][0])
    assert case_item is not None and case_item.container == story["case"]
    assert case_item.custodian == retailer.address and case_item.pending_receiver is None
    harvest = reader.lot(story["harvests"][0])
    assert harvest is not None and harvest.record.stock == 10_000 - 2 * 500 - 3_000
    causes = reader.recall_causes(story["blend"])  # the blend reads recalled through its ingredient
    assert [(c.lot_id, c.path, c.reason) for c in causes] == [
        (story["harvests"][1], (story["blend"], story["harvests"][1]), "residue")
    ]
    assert reader.recall_causes(story["harvests"][0]) == () and reader.recall_causes(lot_id) == ()
    packings = indexed["packings"]
    assert {(row[1], row[2]) for row in packings} >= {(story["case"], story["pallet"])}


def test_item_history__item_that_travelled_on_the_pallet__index_and_chain_show_the_pallets_moves(
    boxes, brand, distributor, retailer, lot_id, make_indexer, db_url, rpc_url, deployment_block, chain
) -> None:
    indexer = make_indexer(db_url)
    story = _journey(boxes, brand, distributor, retailer, lot_id, lambda: None)
    indexer.poll()
    source = ChainHistory(Rpc(rpc_url), str(boxes.address), deployment_block)
    index = IndexHistory(IndexReader(indexer.store.engine, indexer.store.chain_id), source)
    pallet = story["pallet"]

    for item in story["items"]:
        assert index.item_history(item) == source.item_history(item), f"0x{item.hex()}"
    history = index.item_history(story["items"][0])
    moves = [log.event for log in history if isinstance(log.event, CustodyTransferred)]
    assert [(bytes(m.item_id), m.to) for m in moves] == [
        (pallet, distributor.address),
        (pallet, retailer.address),
    ]
    assert (
        sum(isinstance(log.event, ContainerPacked) for log in history) == 2
    )  # into the case, the case onto the pallet
    seen = replay(story["items"][0], history)
    record = boxes.getItem(story["items"][0])
    assert (seen.last_holder, seen.steps) == (record.custodian, record.custodyNonce)
    # After the checkpoint: the chain's tail, the same answers.
    more = _register(boxes, brand, lot_id, "D1")
    boxes.pack(_sscc(43), more, sender=brand)
    boxes.offer(container_id(_sscc(43)), distributor, sender=brand)
    assert index.item_history(more[0]) == source.item_history(more[0])
    assert index.item_history(story["items"][0]) == source.item_history(story["items"][0])


def test_container_history__case_and_pallet__index_answers_as_the_chain_also_after_the_checkpoint(
    boxes, brand, distributor, retailer, lot_id, make_indexer, db_url, rpc_url, deployment_block
) -> None:
    indexer = make_indexer(db_url)
    story = _journey(boxes, brand, distributor, retailer, lot_id, lambda: None)
    indexer.poll()
    source = ChainHistory(Rpc(rpc_url), str(boxes.address), deployment_block)
    index = IndexHistory(IndexReader(indexer.store.engine, indexer.store.chain_id), source)

    for box in (story["case"], story["pallet"]):
        assert index.container_history(box) == source.container_history(box), f"0x{box.hex()}"
    case = index.container_history(story["case"])
    moves = [log.event for log in case if isinstance(log.event, CustodyTransferred)]
    assert [(bytes(m.item_id), m.to) for m in moves] == [
        (story["pallet"], distributor.address),
        (story["pallet"], retailer.address),
    ]  # the case travelled on the pallet
    # After the checkpoint: a new container and the case moved again, from the chain's tail.
    more = _register(boxes, brand, lot_id, "E1")
    boxes.pack(_sscc(44), more, sender=brand)
    boxes.offer(story["case"], brand, sender=retailer)
    for box in (story["case"], container_id(_sscc(44))):
        assert index.container_history(box) == source.container_history(box), f"0x{box.hex()}"


def test_poll__reorg_drops_the_unpacking__items_back_on_the_pallet(
    boxes, brand, distributor, retailer, lot_id, make_indexer, make_db, chain
) -> None:
    indexer = make_indexer(make_db())
    items = _register(boxes, brand, lot_id, "R1", "R2")
    boxes.pack(_sscc(44), items, sender=brand)
    indexer.poll()
    snapshot = chain.provider.make_request("evm_snapshot", [])
    boxes.unpack(container_id(_sscc(44)), items[:1], sender=brand)
    boxes.offer(items[0], distributor, sender=brand)
    indexer.poll()
    chain.provider.make_request("evm_revert", [snapshot])
    boxes.offer(container_id(_sscc(44)), retailer, sender=brand)
    boxes.accept(container_id(_sscc(44)), sender=retailer)
    boxes.registerItems(lot_id, [encode_code("R3")], sender=brand)  # one more block than the old branch
    indexer.poll()

    assert indexer.report.reorgs
    assert_matches_contract(indexer, boxes, set(items), {lot_id}, boxes=[container_id(_sscc(44))])
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))
