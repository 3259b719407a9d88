"""open_history: the one decision between the event index and the chain's logs, and its reason,
for the CLI, the page and the benchmarks: the index when it holds this registry on the node's
chain (plus the chain after its checkpoint), else the chain's logs, saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from supplytrace.chain.history import ChainHistory
from supplytrace.chain.rpc import Rpc
from supplytrace.core.deployments import Deployment
from supplytrace.indexer import history as index_history
from supplytrace.indexer import schema
from supplytrace.indexer.history import IndexHistory
from supplytrace.service.history import NO_INDEX, open_history


def _deployment(registry: str, chain_id: int, block: int) -> Deployment:
    return Deployment("ethereum", "local", chain_id, registry, "0x", block, "", "", "", "", "")


@pytest.fixture
def indexed(workload, make_indexer, db_url, chain_id, deployment_block, registry):
    work = workload(seed=51)
    work.register(3)
    work.step("offer")
    indexer = make_indexer(db_url, confirmations=2)
    indexer.catch_up()
    return indexer, _deployment(str(registry.address), chain_id, deployment_block)


def _open(rpc_url: str, deployment: Deployment, db: Any, home: Path) -> tuple[Any, str]:
    return open_history(Rpc(rpc_url), deployment, db=None if db is None else str(db), home=home)


def test_open_history__index_of_this_registry_behind_the_head__the_index_with_the_chain_after_it(
    indexed,
    rpc_url,
    chain,
    tmp_path,
) -> None:
    indexer, deployment = indexed
    checkpoint = indexer.store.checkpoint().block_number
    head = chain.blocks.head.number
    source, reason = _open(rpc_url, deployment, indexer.store.engine.url, tmp_path)
    assert isinstance(source, IndexHistory) and source.indexed_block() == checkpoint == head - 2
    shown = indexer.store.engine.url.render_as_string(hide_password=True)
    assert reason == f"the event index {shown} (index at block {checkpoint} + chain to block {head})"


def test_open_history__index_of_another_registry__falls_back_to_the_chain_with_a_reason(
    indexed,
    rpc_url,
    chain_id,
    deployment_block,
    tmp_path,
) -> None:
    indexer, _ = indexed
    other = _deployment("0x" + "ab" * 20, chain_id, deployment_block)
    source, reason = _open(rpc_url, other, indexer.store.engine.url, tmp_path)
    assert isinstance(source, ChainHistory) and "another registry" in reason
    source, reason = _open(rpc_url, other, tmp_path / "none.db", tmp_path)
    assert isinstance(source, ChainHistory) and "no index" in reason
    assert reason == f"the chain's logs ({NO_INDEX})"


def test_open_history__index_made_by_an_older_version__the_chain_and_how_to_rebuild(
    indexed,
    rpc_url,
    tmp_path,
) -> None:
    indexer, deployment = indexed
    with indexer.store.engine.begin() as conn:
        conn.execute(update(schema.checkpoint).values(schema_version=2))
    source, reason = _open(rpc_url, deployment, indexer.store.engine.url, tmp_path)
    assert isinstance(source, ChainHistory)
    assert "schema version 2" in reason and "supplytrace index --reset" in reason


def test_open_history__index_too_far_behind__the_chain_with_the_lag(
    indexed,
    rpc_url,
    tmp_path,
    monkeypatch,
) -> None:
    indexer, deployment = indexed
    monkeypatch.setattr(index_history, "MAX_TAIL_BLOCKS", 1)
    source, reason = _open(rpc_url, deployment, indexer.store.engine.url, tmp_path)
    assert isinstance(source, ChainHistory) and reason == (
        "the chain's logs (the index is 2 blocks behind (run `supplytrace index`))"
    )
