"""Catch-up, follow-up polls and replays against ape's anvil, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from supplytrace.indexer.fetch import FetchConfig
from supplytrace.indexer.reader import IndexReader
from tests.indexer.conftest import assert_matches_contract, dump, full_index


def test_catch_up__workload__index_matches_contract_and_fresh_rebuild(
    workload, make_indexer, make_db, registry
) -> None:
    work = workload(seed=1)
    work.register(5)
    indexer = make_indexer(make_db())
    for _ in range(25):
        work.step()
        if work.rng.random() < 0.3:
            indexer.poll()
    indexer.poll()
    assert_matches_contract(indexer, registry, set(work.items), work.lot_ids)
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))


def test_index_range__already_indexed_blocks__nothing_changes(
    workload, make_indexer, db_url, chain: Any
) -> None:
    work = workload(seed=2)
    work.register(4)
    for _ in range(8):
        work.step()
    indexer = make_indexer(db_url)
    indexer.catch_up()
    before = dump(indexer)
    head = chain.blocks.head.number
    written = indexer.index_range(indexer.deployment_block, head)
    assert written.events == 0 and written.replayed > 0
    assert dump(indexer) == before


def test_item_history__indexed_item__timeline_in_chain_order_with_custody(
    workload, make_indexer, db_url, registry, brand, distributor
) -> None:
    work = workload(seed=3)
    (item,) = work.register(1)
    registry.offer(item, distributor, sender=brand)
    registry.accept(item, sender=distributor)
    indexer = make_indexer(db_url)
    indexer.catch_up()
    history = IndexReader(indexer.store.engine, indexer.store.chain_id).item_history(item)
    assert history is not None
    assert [e.name for e in history.events] == [
        "LotRegistered",
        "ItemRegistered",
        "CustodyOffered",
        "CustodyTransferred",
    ]
    assert [(c.seq, c.holder) for c in history.custody] == [(0, brand.address), (1, distributor.address)]
    assert history.record.custodian == distributor.address
    assert all((e.timestamp or 0) > 0 for e in history.events)  # each step with its block time


def test_rebuild__derived_rows_dropped__rebuilt_from_the_events_alone(workload, make_indexer, db_url) -> None:
    work = workload(seed=4)
    work.register(4)
    for _ in range(12):
        work.step()
    indexer = make_indexer(db_url)
    indexer.catch_up()
    before = dump(indexer)
    indexer.store.rebuild()
    assert dump(indexer) == before


def test_reset__indexed_chain__forgets_everything_and_catches_up_again_identically(
    workload, make_indexer, db_url
) -> None:
    work = workload(seed=5)
    work.register(3)
    work.step("offer")
    indexer = make_indexer(db_url)
    indexer.catch_up()
    before = dump(indexer)
    indexer.store.reset()
    assert indexer.store.checkpoint() is None
    again = make_indexer(db_url)
    again.catch_up()
    assert dump(again) == before


def test_catch_up__several_handoffs_of_an_item_in_one_chunk__each_custody_period_and_the_state_match(
    workload, make_indexer, make_db, registry, brand, distributor, retailer
) -> None:
    work = workload(seed=4)
    item, other = work.register(2)
    indexer = make_indexer(make_db(), fetch=FetchConfig(initial_span=64))
    indexer.poll()  # the registrations in an earlier chunk than the handoffs
    registry.offer(item, distributor, sender=brand)
    registry.accept(item, sender=distributor)
    registry.offer(item, brand, sender=distributor)
    registry.rejectOffer(item, sender=brand)
    registry.offer(item, retailer, sender=distributor)
    registry.accept(item, sender=retailer)
    registry.sell(item, sender=retailer)
    registry.offer(other, retailer, sender=brand)
    registry.cancelOffer(other, sender=brand)
    registry.offer(other, distributor, sender=brand)
    assert indexer.poll() == 10  # in one chunk: 64 blocks per request
    assert indexer.report.fetch.calls == 2
    assert_matches_contract(indexer, registry, {item, other}, work.lot_ids)
    history = IndexReader(indexer.store.engine, indexer.store.chain_id).item_history(item)
    assert history is not None
    assert [(c.seq, c.holder) for c in history.custody] == [
        (0, brand.address),
        (1, distributor.address),
        (3, retailer.address),  # the declined offer back to the brand was step 2
    ]
    assert history.record.custody_nonce == 3 and history.record.pending_receiver is None
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))
    indexer.store.rebuild()  # the same rows from the reducer alone (ItemChange.apply on loaded rows)
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))
