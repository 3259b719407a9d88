"""The read API: the index answers what the chain answers (the page's chain-backed history source
on the same chain), item histories carry custody, and a fresh or foreign index is told apart."""

from __future__ import annotations

from typing import Any

import pytest

from supplytrace.indexer.errors import IndexerError, IndexMismatchError
from supplytrace.indexer.history_source import IndexHistorySource
from supplytrace.indexer.query import IndexReader, open_view
from supplytrace.indexer.store import IndexStore
from supplytrace.web.rpc import SyncRpc
from supplytrace.web.sources import ChainHistory, HistorySource


@pytest.fixture
def indexed(workload, make_indexer, db_url, registry, admin, brand, distributor):
    work = workload(seed=41)
    for _ in range(3):
        work.register(3)
    registry.nameBrand(brand, "Hillside Apiaries", sender=admin)
    registry.describeSelf("Cold-chain distributor", sender=distributor)
    for _ in range(15):
        work.step()
    indexer = make_indexer(db_url)
    indexer.catch_up()
    return work, indexer


def test_history_source__same_chain__index_answers_exactly_what_the_chain_answers(
    indexed, rpc_url, registry, deployment_block, brand, distributor
) -> None:
    work, indexer = indexed
    source = IndexHistorySource(IndexReader(indexer.store.engine, indexer.store.chain_id))
    assert isinstance(source, HistorySource)
    chain = ChainHistory(SyncRpc(rpc_url), str(registry.address), deployment_block)
    for item in work.items:
        assert source.item_history(item) == chain.item_history(item)
    for lot in sorted(work.lot_ids):
        assert source.lot(lot, item_limit=5) == chain.lot(lot, item_limit=5)
    people = [brand.address, distributor.address, "0x" + "12" * 20]
    assert source.participants(people) == chain.participants(people)
    assert source.indexed_block() == indexer.store.checkpoint().block_number
    assert source.item_history(b"\x01" * 32) == [] and source.lot(999) is None


def test_item_history__every_item__custody_periods_follow_the_transfers(indexed, registry) -> None:
    work, indexer = indexed
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    for item in work.items:
        history = reader.item_history(item)
        assert history is not None
        transfers = [e for e in history.events if e.name == "CustodyTransferred"]
        assert [c.holder for c in history.custody[1:]] == [e.args["to"] for e in transfers]
        assert history.custody[-1].holder == history.state.custodian
        assert (
            len(history.custody) - 1
            == history.state.custody_nonce
            == int(registry.getItem(item).custodyNonce)
        )
    assert reader.item_history(b"\x02" * 32) is None


def test_open_view__index_of_another_registry__falls_back_to_the_chain_with_a_reason(
    indexed, chain: Any, tmp_path
) -> None:
    _, indexer = indexed
    status = IndexReader(indexer.store.engine, indexer.store.chain_id).status()
    assert status is not None
    view, reason = open_view(
        chain.provider,
        "0x" + "ab" * 20,
        indexer.store.chain_id,
        db=str(indexer.store.engine.url),
        home=tmp_path,
    )
    assert view is None and "another registry" in reason
    view, reason = open_view(chain.provider, status.registry, 1, db=str(tmp_path / "none.db"), home=tmp_path)
    assert view is None and "no index" in reason


def test_check_registry__index_of_another_registry__one_sentence_with_the_fix(indexed) -> None:
    _, indexer = indexed
    store = IndexStore(indexer.store.engine, indexer.store.chain_id)
    with pytest.raises(IndexMismatchError, match="supplytrace index --reset"):
        store.check_registry("0x" + "cd" * 20)


def test_reader_open__no_index_file__says_how_to_build_one(tmp_path) -> None:
    with pytest.raises(IndexerError, match="build it with `supplytrace index`"):
        IndexReader.open(tmp_path / "missing.db", chain_id=1337)


def test_reader__threads_read_while_the_indexer_writes__every_answer_consistent(
    workload, make_indexer, db_url
) -> None:
    import threading

    work = workload(seed=42)
    for _ in range(4):
        work.register(5)
    indexer = make_indexer(db_url)
    indexer.poll()
    for _ in range(10):
        work.step()
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                for item in work.items:
                    history = reader.item_history(item)
                    if history is not None:  # state and events come from one snapshot
                        assert history.events[0].name in ("LotRegistered", "ItemRegistered")
                        assert len(history.custody) - 1 == history.state.custody_nonce
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        indexer.poll()
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors


def test_history_source__index_behind_the_head_with_the_chain__answers_what_the_chain_answers(
    indexed, rpc_url, registry, deployment_block, admin, brand, distributor, retailer
) -> None:
    work, indexer = indexed
    checkpoint = indexer.store.checkpoint().block_number
    # After the checkpoint: new items (in an indexed lot), custody steps, a new name and description.
    new_items = work.register(2)
    for _ in range(12):
        work.step()
    registry.nameBrand(brand, "Hillside Apiaries Ltd", sender=admin)
    registry.describeSelf("Corner Grocery", sender=retailer)
    chain = ChainHistory(SyncRpc(rpc_url), str(registry.address), deployment_block)
    source = IndexHistorySource(IndexReader(indexer.store.engine, indexer.store.chain_id), chain)
    alone = IndexHistorySource(IndexReader(indexer.store.engine, indexer.store.chain_id))
    assert (
        source.indexed_block() == checkpoint < int(SyncRpc(rpc_url).make_request("eth_blockNumber", []), 16)
    )
    assert alone.item_history(new_items[0]) == []  # the index alone has not seen them
    for item in work.items:
        assert source.item_history(item) == chain.item_history(item), f"0x{item.hex()}"
    for lot in sorted(work.lot_ids):
        assert source.lot(lot, item_limit=100) == chain.lot(lot, item_limit=100)
        assert source.lot(lot, item_limit=2) == chain.lot(lot, item_limit=2)
    people = [brand.address, distributor.address, retailer.address, "0x" + "12" * 20]
    assert source.participants(people) == chain.participants(people)
    assert source.participants(people)[brand.address].verified_name == "Hillside Apiaries Ltd"


def test_live_view__indexer_moved_past_the_view_s_checkpoint__no_event_twice(
    indexed, chain: Any, rpc_url, registry, deployment_block
) -> None:
    from dataclasses import replace

    from supplytrace.indexer.query import LiveView

    work, indexer = indexed
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    status = reader.status()
    assert status is not None
    history = ChainHistory(SyncRpc(rpc_url), str(registry.address), deployment_block)
    # The view read the checkpoint some blocks ago; the indexer has stored those blocks since.
    earlier = replace(status, block_number=status.block_number - 8)
    view = LiveView(reader, earlier, chain.provider, status.block_number)
    for item in work.items:
        _state, events = view.item(item)
        expected = [(e.name, e.block_number, e.log_index) for e in history.item_history(item)]
        assert [(e.name, e.block_number, e.log_index) for e in events] == expected, f"0x{item.hex()}"


def test_live_view__indexer_moved_past_the_view_s_checkpoint__state_counts_no_step_twice(
    indexed, chain: Any, registry, brand, distributor, retailer
) -> None:
    from supplytrace.indexer.query import LiveView
    from supplytrace.registry import item_state

    work, indexer = indexed
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    (item,) = work.register(1)
    indexer.catch_up()
    before = reader.status()
    assert before is not None
    registry.offer(item, distributor, sender=brand)
    registry.accept(item, sender=distributor)
    registry.offer(item, retailer, sender=distributor)
    # The view began at the old checkpoint; the indexer stores the handoffs before it reads.
    view = LiveView(reader, before, chain.provider, chain.blocks.head.number)
    indexer.catch_up()
    assert reader.status().block_number > before.block_number  # type: ignore[union-attr]
    for each in [item, *work.items]:
        state, _events = view.item(each)
        assert state == item_state(registry, each), f"0x{each.hex()}"
    state, _events = view.item(item)
    assert state is not None and state.custody_nonce == 1 and state.pending_receiver == retailer.address
