"""The history port from the index (IndexHistory): it answers what the chain's logs answer
(ChainHistory on the same chain), with the index up to its checkpoint and the chain after it,
whatever an indexer writes meanwhile; the read API (IndexReader) carries custody, and a fresh or
foreign index is told apart."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event

from supplytrace.chain.history import ChainHistory, HistorySource, NodeLook, NotLocalError
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc, RpcError
from supplytrace.core.story import replay, verdict
from supplytrace.core.text import ChainText
from supplytrace.indexer.errors import IndexerError, IndexMismatchError
from supplytrace.indexer.history import IndexHistory
from supplytrace.indexer.reader import IndexReader
from supplytrace.indexer.store import IndexStore


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


def _chain(rpc_url: str, registry: Any, deployment_block: int, rpc: Any = None) -> ChainHistory:
    return ChainHistory(rpc or Rpc(rpc_url), str(registry.address), deployment_block)


def _index(indexer: Any, chain: ChainHistory) -> IndexHistory:
    return IndexHistory(IndexReader(indexer.store.engine, indexer.store.chain_id), chain)


def _assert_same_answers(source: HistorySource, chain: ChainHistory, work: Any, people: list[str]) -> None:
    """Every question of the port, asked of both sources: the same answers."""
    for item in work.items:
        assert source.item_history(item) == chain.item_history(item), f"0x{item.hex()}"
    assert source.items_events(work.items) == chain.items_events(work.items)
    for lot in sorted(work.lot_ids):
        assert source.lot(lot, item_limit=100) == chain.lot(lot, item_limit=100)
        assert source.lot(lot, item_limit=5) == chain.lot(lot, item_limit=5)
        assert source.lot(lot, item_limit=2) == chain.lot(lot, item_limit=2)
        count = len(chain.lot_items(lot))
        for offset in range(0, count + 2):  # every page, across the checkpoint too
            assert source.lot(lot, item_limit=3, offset=offset) == chain.lot(lot, item_limit=3, offset=offset)
        assert source.lot_items(lot) == chain.lot_items(lot)
    assert source.participants(people) == chain.participants(people)


def test_history_source__same_chain__index_answers_exactly_what_the_chain_answers(
    indexed, rpc_url, registry, deployment_block, brand, distributor
) -> None:
    work, indexer = indexed
    chain = _chain(rpc_url, registry, deployment_block)
    source = _index(indexer, chain)
    assert isinstance(source, HistorySource)
    _assert_same_answers(source, chain, work, [brand.address, distributor.address, "0x" + "12" * 20])
    assert source.indexed_block() == indexer.store.checkpoint().block_number
    assert source.item_history(b"\x01" * 32) == [] and source.lot(999) is None


def test_item_history__every_item__custody_periods_follow_the_transfers(indexed, registry) -> None:
    work, indexer = indexed
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    for item in work.items:
        history = reader.item_history(item)
        assert history is not None
        transfers = [e for e in history.events if e.name == "CustodyTransferred"]  # its pallets' too
        assert [c.holder for c in history.custody[1:]] == [e.event.to for e in transfers]
        assert history.custody[-1].holder == history.record.custodian == registry.getItem(item).custodian
        assert [c.seq for c in history.custody] == sorted(c.seq for c in history.custody)
        assert replay(item, history.events).steps == history.record.custody_nonce
        assert history.record.custody_nonce == int(registry.getItem(item).custodyNonce)
    assert reader.item_history(b"\x02" * 32) is None


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
                    if history is not None:  # record and events come from one snapshot
                        assert history.events[0].name in ("LotRegistered", "ItemRegistered")
                        # custody periods begin at the nonces of their moves (ended offers and
                        # records advance it too), so they rise and end at most at the nonce
                        seqs = [c.seq for c in history.custody]
                        assert seqs[0] == 0 and seqs == sorted(set(seqs))
                        assert seqs[-1] <= history.record.custody_nonce
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
    chain = _chain(rpc_url, registry, deployment_block)
    source = _index(indexer, chain)
    assert source.indexed_block() == checkpoint < int(Rpc(rpc_url).request("eth_blockNumber", []), 16)
    assert source.reader.item_events(new_items[0]) == []  # the index alone has not seen them
    people = [brand.address, distributor.address, retailer.address, "0x" + "12" * 20]
    _assert_same_answers(source, chain, work, people)
    assert source.participants(people)[brand.address].verified_name == ChainText.of("Hillside Apiaries Ltd")


class _IndexerMovesFirst:
    """The node as the history sees it, with an indexer that stores the newest blocks just before
    each answer: between the index's snapshot and the check of its checkpoint."""

    def __init__(self, rpc: Rpc, move: Any) -> None:
        self.rpc, self.url, self.move, self.moves = rpc, rpc.url, move, 0

    def batch(self, calls: Any, **options: Any) -> Any:
        if calls and calls[0][0] == "eth_blockNumber":  # the checkpoint check
            self.move()
            self.moves += 1
        return self.rpc.batch(calls, **options)

    def request(self, method: str, params: list[Any], **options: Any) -> Any:
        return self.rpc.request(method, params, **options)


def test_index_history__indexer_moves_the_checkpoint_while_a_read_runs__no_event_twice_or_missing(
    workload, make_indexer, db_url, rpc_url, registry, deployment_block, brand, distributor, retailer
) -> None:
    work = workload(seed=43)
    for _ in range(3):
        work.register(3)
    (item,) = work.register(1)
    for op in ("offer", "accept", "record", "describe", "name", "offer", "reject", "sell", "register"):
        work.step(op)
    indexer = make_indexer(db_url)
    indexer.catch_up()
    start = indexer.store.checkpoint()
    registry.offer(item, distributor, sender=brand)
    registry.accept(item, sender=distributor)
    registry.offer(item, retailer, sender=distributor)
    for op in ("register", "offer", "cancel", "name"):
        work.step(op)
    mark = next(h for h in indexer.store.stored_blocks() if h.number == start.block_number)

    def move() -> None:  # back to the old checkpoint, then the indexer stores every newer block
        indexer.store.rollback(mark)
        indexer.catch_up()

    rpc = _IndexerMovesFirst(Rpc(rpc_url), move)
    chain = _chain(rpc_url, registry, deployment_block)
    source = _index(indexer, _chain(rpc_url, registry, deployment_block, rpc))
    reads = RegistryReads(Rpc(rpc_url), str(registry.address))
    for each in [item, *work.items]:
        indexer.store.rollback(mark)  # each read begins at the old checkpoint
        history = source.item_history(each)
        expected = chain.item_history(each)
        assert [(e.name, e.block_number, e.log_index) for e in history] == [
            (e.name, e.block_number, e.log_index) for e in expected
        ], f"0x{each.hex()}"
        assert history == expected
        assert verdict(reads.item(each), history) is None, f"0x{each.hex()}"  # no step counted twice
    assert rpc.moves >= len(work.items) and indexer.store.checkpoint().block_number > start.block_number
    seen = replay(item, source.item_history(item))
    assert seen.transfers == 1 and seen.last_holder == distributor.address
    assert source.item_history(item)[-1].event.to == retailer.address  # the open offer


class _CountingRpc(Rpc):
    """An Rpc that counts its batched round trips (the index's looks at the node)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches = self.requests = 0

    def batch(self, calls: Any, *, raise_errors: bool = True) -> list[Any]:
        self.batches += 1
        return super().batch(calls, raise_errors=raise_errors)

    def request(self, method: str, params: list[Any], *, result: Any = None) -> Any:
        self.requests += 1
        return super().request(method, params, result=result)


def test_pinned__a_page_s_reads__share_one_look_at_the_node_and_one_snapshot_and_answer_the_same(
    indexed, rpc_url, registry, deployment_block, brand
) -> None:
    work, indexer = indexed
    counting = _CountingRpc(rpc_url)
    source = _index(indexer, _chain(rpc_url, registry, deployment_block, counting))
    item = work.items[0]
    transactions: list[object] = []
    event.listen(indexer.store.engine, "begin", transactions.append)
    unpinned = (source.indexed_block(), source.item_history(item), source.participants([brand.address]))
    assert counting.batches == 2  # one look each
    assert len(transactions) == 3  # one snapshot each
    counting.batches = 0
    transactions.clear()
    with source.pinned():
        pinned = (source.indexed_block(), source.item_history(item), source.participants([brand.address]))
    assert counting.batches == 1
    assert len(transactions) == 1
    assert pinned == unpinned
    source.item_history(item)  # outside the scope: a look of its own again
    assert counting.batches == 2


def test_shared_calls__callers_at_the_same_time__share_one_call_never_a_finished_one() -> None:
    from supplytrace.indexer.history import SharedCalls

    shared: SharedCalls[str, int] = SharedCalls()
    calls = 0
    release = threading.Event()
    entered = threading.Event()

    def slow() -> int:
        nonlocal calls
        calls += 1
        entered.set()
        release.wait(5)
        return calls

    answers: list[int] = []
    leader = threading.Thread(target=lambda: answers.append(shared.run("k", slow)))
    leader.start()
    assert entered.wait(5)
    ready = threading.Barrier(6)

    def follow() -> None:
        ready.wait(5)
        answers.append(shared.run("k", slow))

    followers = [threading.Thread(target=follow) for _ in range(5)]
    for follower in followers:
        follower.start()
    ready.wait(5)
    time.sleep(0.5)  # the followers are inside run(), waiting on the leader's call
    release.set()
    for thread in [leader, *followers]:
        thread.join(5)
    assert calls == 1 and answers == [1] * 6
    assert shared.run("k", slow) == 2  # asked after the first finished: a call of its own

    def failing() -> int:
        raise RuntimeError("node down")

    with pytest.raises(RuntimeError, match="node down"):
        shared.run("k", failing)
    assert shared.run("k", slow) == 3  # a failure is not kept either


class _NoRequireCanonicalRpc(_CountingRpc):
    """A node that refuses EIP-1898's ``requireCanonical`` (as some providers do)."""

    def batch(self, calls: Any, *, raise_errors: bool = True) -> list[Any]:
        results = super().batch(calls, raise_errors=False)
        refused = [
            RpcError(-32602, "invalid argument 1: unknown field requireCanonical")
            if method == "eth_getBalance"
            else result
            for (method, _params), result in zip(calls, results, strict=True)
        ]
        failed = [r for r in refused if isinstance(r, RpcError)] if raise_errors else []
        if failed:
            raise failed[0]
        return refused


def test_judge__node_refuses_require_canonical__checks_the_block_itself_and_still_answers(
    indexed, rpc_url, registry, deployment_block, brand, distributor
) -> None:
    work, indexer = indexed
    refusing = _NoRequireCanonicalRpc(rpc_url)
    chain = _chain(rpc_url, registry, deployment_block)
    source = _index(indexer, _chain(rpc_url, registry, deployment_block, refusing))
    view, reason = source.check()
    assert view is not None, reason
    _assert_same_answers(source, chain, work, [brand.address, distributor.address])
    # A checkpoint the node does not hold is still told apart through the block itself.
    status = source.reader.status()
    assert status is not None
    moved = replace(status, block_hash="0x" + "ab" * 32)
    assert source.judge(moved)[0] is None


def _given_look(source: IndexHistory, head: int | None = None) -> NodeLook:
    """A look at the node as a page's live read gives it: the index's checkpoint still on the
    chain, and the node's head (the checkpoint's own block unless ``head``)."""
    assert source.check()[0] is not None  # (learns the checkpoint)
    checkpoint = source.checkpoint()
    assert checkpoint is not None
    look = NodeLook(*checkpoint)
    look.give(checkpoint[0] if head is None else head, True)
    return look


def test_pinned_local__index_at_the_head_look_given__answers_without_the_node(
    indexed, backend, rpc_url, registry, deployment_block, brand, distributor
) -> None:
    """What a page reads on its event loop: from a SQLite index at the node's head with the
    page's look already answered, the same answers as the chain's, and not one request to the
    node; an index on a database server is never read so (it would wait on the network)."""
    work, indexer = indexed
    counting = _CountingRpc(rpc_url)
    chain = _chain(rpc_url, registry, deployment_block)
    source = _index(indexer, _chain(rpc_url, registry, deployment_block, counting))
    look = _given_look(source)
    counting.batches = counting.requests = 0
    people = [brand.address, distributor.address]
    if backend != "sqlite":
        with pytest.raises(NotLocalError), source.pinned(look, local=True):
            pass
        return
    for item in work.items:
        with source.pinned(look, local=True):
            found = (source.indexed_block(), source.item_history(item), source.participants(people))
        assert found == (look.number, chain.item_history(item), chain.participants(people))
    assert counting.batches == counting.requests == 0


@pytest.mark.parametrize("backend", ["sqlite"])  # (a database server: never local, above)
def test_pinned_local__read_that_would_wait__raises_not_local_and_the_scope_ends_clean(
    indexed, rpc_url, registry, deployment_block
) -> None:
    """A local read never waits: not for a look still being taken, nor the node's head past the
    checkpoint (the chain after it would be read), nor the chain's logs instead of the index;
    it raises NotLocalError, and the same read outside the local scope answers as the chain."""
    work, indexer = indexed
    chain = _chain(rpc_url, registry, deployment_block)
    source = _index(indexer, _chain(rpc_url, registry, deployment_block))
    item = work.items[0]
    given = _given_look(source)
    pending = NodeLook(given.number, given.block_hash)  # its caller's round trip not back yet
    behind = _given_look(source, head=given.number + 1)
    for look in (pending, behind, None):
        started = time.monotonic()
        with pytest.raises(NotLocalError), source.pinned(look, local=True):
            source.item_history(item)
        assert time.monotonic() - started < 5  # it did not wait for the look (30 s)
        assert source.item_history(item) == chain.item_history(item)
    with pytest.raises(NotLocalError), chain.pinned(local=True):
        pass
