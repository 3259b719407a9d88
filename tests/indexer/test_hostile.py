"""Hostile bytes from the chain (issue #10 point 5, #11): a registrar chooses the bytes of its
serials and lot codes, anyone the bytes of its self-description, so none of them is trusted to
be text. The index keeps them as the chain holds them, on SQLite and on PostgreSQL: a lot code
that is not UTF-8 does not stop it, ``A\\0B`` and ``A`` stay two serials, a NUL in a description
does not break PostgreSQL, and readers get ``ChainText`` (the raw bytes, rendered safely).

The hostile transactions are raw calldata sent to the current contract, which accepts any bytes
as a name, description or reason; serials and lot codes of any bytes come from a registry
deployed before issue #11 (tests/indexer/test_hostile_codes.py)."""

from __future__ import annotations

from typing import Any

from supplytrace.chain.history import ChainHistory
from supplytrace.chain.rpc import Rpc
from supplytrace.core.hashing import keccak
from supplytrace.core.text import ChainText
from supplytrace.indexer.history import IndexHistory
from supplytrace.indexer.reader import IndexReader
from tests.conftest import HONEY_GTIN
from tests.indexer.conftest import dump, full_index


def _word(raw: bytes) -> bytes:
    return raw.ljust(32, b"\0")


def _item_id(serial: bytes) -> bytes:
    return keccak(int(HONEY_GTIN).to_bytes(32, "big") + _word(serial))


def _sources(
    indexer: Any, registry: Any, rpc_url: str, deployment_block: int
) -> tuple[IndexHistory, ChainHistory]:
    chain = ChainHistory(Rpc(rpc_url), str(registry.address), deployment_block)
    return IndexHistory(IndexReader(indexer.store.engine, indexer.store.chain_id), chain), chain


def _rebuilds_the_same(indexer: Any, make_db: Any, make_indexer: Any) -> None:
    indexed = dump(indexer)
    assert indexed == dump(full_index(make_db(), make_indexer))  # one run, other chunks
    indexer.store.rebuild()  # the reducer alone gives the same rows as the bulk path
    assert dump(indexer) == indexed


def test_catch_up__nul_and_invalid_utf8_in_names_descriptions_and_reasons__kept_raw(
    send_raw, make_indexer, make_db, registry, admin, brand, distributor, lot_id, rpc_url, deployment_block
) -> None:
    send_raw(distributor, "describeSelf", b"hi\x00there")
    send_raw(admin, "nameBrand", brand.address, b"\xff\xfeBad \xe2\x80\xae")
    send_raw(brand, "recallLot", lot_id, b"stop\x00\xc3\x28")
    indexer = make_indexer(make_db())
    indexer.catch_up()
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    rows = reader.participants([brand.address, distributor.address])
    assert rows[distributor.address].description == b"hi\x00there"
    assert rows[brand.address].verified_name == b"\xff\xfeBad \xe2\x80\xae"
    summary = reader.lot(lot_id)
    assert summary is not None and summary.recall_reason == ChainText(b"stop\x00\xc3\x28")
    index, chain = _sources(indexer, registry, rpc_url, deployment_block)
    people = [brand.address, distributor.address]
    named = index.participants(people)
    assert named == chain.participants(people)
    assert str(named[distributor.address].description) == "hi␀there"
    assert str(named[brand.address].verified_name) == "\ufffd\ufffdBad "  # the override is dropped
    assert index.lot(lot_id) == chain.lot(lot_id)
    _rebuilds_the_same(indexer, make_db, make_indexer)
