"""Hostile serials and lot codes (issue #10 point 5): a registry deployed before issue #11 took
any bytes as a serial or lot code, so its logs hold them for good. The index keeps them as the
chain holds them, on SQLite and on PostgreSQL: a lot code that is not UTF-8 does not stop it,
``A\\0B`` and ``A`` stay two serials, and readers get ``ChainText``. (Today's registry refuses
such codes: tests/contracts/test_gs1_text.py.)"""

from __future__ import annotations

import pytest

from supplytrace.core.text import ChainText
from supplytrace.indexer.reader import IndexReader
from tests.conftest import HONEY_GTIN, legacy_registry
from tests.indexer.conftest import assert_matches_contract
from tests.indexer.test_hostile import _item_id, _rebuilds_the_same, _sources, _word


@pytest.fixture(scope="module")
def registry(admin):
    """The registry as deployed before issue #11 (``tests.conftest.legacy_registry``): it takes any
    bytes as a serial or lot code, and its deployments keep them for good."""
    return legacy_registry().deploy(admin, 0, sender=admin)


def test_catch_up__lot_code_not_utf8__indexed_as_its_bytes(
    send_raw, make_indexer, make_db, registry, brand, rpc_url, deployment_block
) -> None:
    send_raw(brand, "registerLot", int(HONEY_GTIN), _word(b"\xc3\x28"), b"\x33" * 32)
    lot = int(registry.lotCount())
    send_raw(brand, "registerItems", lot, [_word(b"C-1")])
    indexer = make_indexer(make_db())
    report = indexer.catch_up()
    assert report.checkpoint == registry.provider.get_block("latest").number  # it did not stop
    summary = IndexReader(indexer.store.engine, indexer.store.chain_id).lot(lot)
    assert summary is not None and summary.record.lot_code == ChainText(b"\xc3\x28")
    assert str(summary.record.lot_code) == "\ufffd("
    assert_matches_contract(indexer, registry, {_item_id(b"C-1")}, {lot})
    index, chain = _sources(indexer, registry, rpc_url, deployment_block)
    assert index.item_history(_item_id(b"C-1")) == chain.item_history(_item_id(b"C-1"))
    _rebuilds_the_same(indexer, make_db, make_indexer)


def test_catch_up__serials_a_nul_b_and_a__two_distinct_values(
    send_raw, make_indexer, make_db, registry, brand, lot_id, rpc_url, deployment_block
) -> None:
    serials = [b"A\x00B", b"A", b"\x1b[31mRED"]
    send_raw(brand, "registerItems", lot_id, [_word(s) for s in serials])
    item = _item_id(b"A\x00B")
    send_raw(brand, "record", item, _word(b"\x00\xff step"), b"\x01" * 32)
    indexer = make_indexer(make_db())
    indexer.catch_up()
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    found = [reader.item_history(_item_id(s)) for s in serials]
    assert [h.serial if h else None for h in found] == [ChainText(s) for s in serials]
    assert [str(h.serial) for h in found if h] == ["A␀B", "A", "␛[31mRED"]
    assert [i.serial for i in reader.lot_items(lot_id)] == [ChainText(s) for s in serials]
    assert_matches_contract(indexer, registry, {_item_id(s) for s in serials}, {lot_id}, legacy=True)
    index, chain = _sources(indexer, registry, rpc_url, deployment_block)
    assert index.lot_items(lot_id) == chain.lot_items(lot_id)
    assert index.item_history(item) == chain.item_history(item)
    _rebuilds_the_same(indexer, make_db, make_indexer)
