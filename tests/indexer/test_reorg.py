"""Reorganisations made on anvil (evm_snapshot/evm_revert, anvil_reorg) are detected by the
parent-hash check and repaired; one deeper than the kept window is refused."""

from __future__ import annotations

from typing import Any

import pytest

from supplytrace.chain.rpc import FetchStats
from supplytrace.indexer.errors import ReorgTooDeepError
from supplytrace.indexer.fetch import Chunk
from supplytrace.indexer.reorg import ChainMovedError, verify_chunk
from supplytrace.indexer.store import Checkpoint, Header
from tests.indexer.conftest import assert_matches_contract, dump, full_index


def _rpc(chain: Any, method: str, *params: Any) -> Any:
    return chain.provider.make_request(method, list(params))


def test_poll__reverted_and_replaced_blocks__rolls_back_to_the_ancestor_and_indexes_the_new_branch(
    workload, make_indexer, make_db, chain, registry, brand, distributor
) -> None:
    work = workload(seed=21)
    base = work.register(3)
    indexer = make_indexer(make_db())
    indexer.poll()
    snapshot = _rpc(chain, "evm_snapshot")
    old = work.register(4)
    registry.offer(base[0], distributor, sender=brand)
    indexer.poll()
    assert indexer.report.events >= 4 + 1 + 3
    _rpc(chain, "evm_revert", snapshot)
    new = work.register(2)  # another branch: different items, and more blocks than the old one
    registry.offer(base[1], distributor, sender=brand)
    registry.accept(base[1], sender=distributor)
    for _ in range(3):
        work.step()
    indexer.poll()
    assert len(indexer.report.reorgs) == 1 and indexer.report.reorgs[0].removed_events >= 5
    work.items = [i for i in work.items if i not in old]
    assert_matches_contract(indexer, registry, set(base + old + new), work.lot_ids)
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))


def test_poll__anvil_reorg_of_the_last_blocks__events_of_the_dropped_blocks_are_removed(
    workload, make_indexer, make_db, chain, registry
) -> None:
    work = workload(seed=22)
    work.register(2)
    for _ in range(4):
        work.step()
    dropped = work.register(3)
    indexer = make_indexer(make_db())
    indexer.poll()
    assert indexer.store.checkpoint().block_number == chain.blocks.head.number
    _rpc(chain, "anvil_reorg", 1, [])  # the block holding `dropped` is replaced by an empty one
    indexer.poll()
    (reorg,) = indexer.report.reorgs
    assert reorg.depth == 1 and reorg.removed_events == 3
    assert_matches_contract(indexer, registry, set(work.items), work.lot_ids)
    assert all(registry.getItem(i).status == 0 for i in dropped)
    assert dump(indexer) == dump(full_index(make_db(), make_indexer))


def test_poll__reorg_deeper_than_the_window__refused_with_a_clear_error(
    workload, make_indexer, db_url, chain
) -> None:
    work = workload(seed=23)
    snapshot = _rpc(chain, "evm_snapshot")
    for _ in range(8):
        work.register(1)
    indexer = make_indexer(db_url, reorg_window=4)
    indexer.poll()
    _rpc(chain, "evm_revert", snapshot)
    for _ in range(10):
        work.register(1)
    with pytest.raises(ReorgTooDeepError, match=r"deeper than the window.*supplytrace index --reset"):
        indexer.poll()


def test_poll__confirmations__index_stays_behind_and_a_shallow_reorg_touches_nothing(
    workload, make_indexer, db_url, chain
) -> None:
    work = workload(seed=24)
    for _ in range(6):
        work.register(1)
    indexer = make_indexer(db_url, confirmations=3)
    indexer.poll()
    head = chain.blocks.head.number
    assert indexer.store.checkpoint().block_number == head - 3
    _rpc(chain, "anvil_reorg", 2, [])
    indexer.poll()
    assert indexer.report.reorgs == []


def _header(number: int, parent: bytes, salt: int = 0) -> Header:
    return Header(number, bytes([number % 256, salt]) * 16, parent, 1_700_000_000 + number)


def test_verify_chunk__headers_that_do_not_chain__chain_moved() -> None:
    h10 = _header(10, b"\0" * 32)
    h11 = _header(11, h10.hash)
    h12 = _header(12, h11.hash)
    cp = Checkpoint(1, "0x" + "00" * 20, 1, 10, h10.hash, 0)
    good = Chunk(11, 12, [], {11: h11, 12: h12}, 0, FetchStats(), 0.0)
    verify_chunk(good, cp)
    forked = Chunk(11, 12, [], {11: h11, 12: _header(12, b"\x01" * 32)}, 0, FetchStats(), 0.0)
    with pytest.raises(ChainMovedError, match="does not follow block 11"):
        verify_chunk(forked, cp)
    orphan = Chunk(11, 12, [], {11: _header(11, b"\x02" * 32), 12: h12}, 0, FetchStats(), 0.0)
    with pytest.raises(ChainMovedError, match="does not follow the checkpoint"):
        verify_chunk(orphan, cp)
