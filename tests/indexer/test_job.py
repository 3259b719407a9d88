"""The index job (``indexer.job.run_index``), as the CLI and the demo run it: progress through
callbacks, a stop that leaves the index intact, and an index of an older schema refused with the
fix, then rebuilt by ``reset``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, update

from supplytrace.chain.rpc import Rpc
from supplytrace.core.deployments import Deployment
from supplytrace.core.errors import InterruptedRunError
from supplytrace.indexer import schema
from supplytrace.indexer.database import make_engine
from supplytrace.indexer.errors import IndexMismatchError
from supplytrace.indexer.job import run_index
from supplytrace.indexer.run import IndexerConfig, Progress
from tests.indexer.conftest import dump, full_index


@pytest.fixture
def deployment(registry, chain_id, deployment_block) -> Deployment:
    return Deployment(
        "ethereum", "local", chain_id, str(registry.address), "0x", deployment_block, "", "", "", "", ""
    )


@pytest.fixture
def busy(workload):
    work = workload(seed=71)
    for _ in range(4):
        work.register(3)
    for _ in range(8):
        work.step()
    return work


def test_run_index__catch_up__reports_progress_and_matches_a_fresh_index(
    busy, deployment, rpc_url, db_url, make_indexer, make_db, chain, tmp_path: Path
) -> None:
    started: list[str] = []
    progress: list[Progress] = []
    done = run_index(
        Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=IndexerConfig(confirmations=0),
        on_start=started.append, on_progress=progress.append,
    )  # fmt: skip
    head = chain.blocks.head.number
    assert done.report.checkpoint == head and done.report.events > 0 and not done.report.stopped
    assert started == [done.url] and "password" not in done.url
    assert progress and progress[-1].block == head and progress[-1].events == done.report.events
    assert dump(make_indexer(db_url)) == dump(full_index(make_db(), make_indexer))


def test_run_index__stopped_during_catch_up__interrupted_and_the_index_intact(
    busy, deployment, rpc_url, db_url, make_indexer, make_db, tmp_path: Path
) -> None:
    stop = threading.Event()
    stop.set()  # as a front end does on SIGTERM: the chunk being stored is finished first
    config = IndexerConfig(confirmations=0)
    with pytest.raises(InterruptedRunError, match=r"the index is intact at block \d+: run the command again"):
        run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=config, stop=stop)
    again = run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=config)
    assert not again.report.stopped
    assert dump(make_indexer(db_url)) == dump(full_index(make_db(), make_indexer))


def test_run_index__follow__keeps_indexing_until_stopped(
    busy, deployment, rpc_url, db_url, chain, brand, registry, lot_id, tmp_path: Path
) -> None:
    stop = threading.Event()
    seen: list[int] = []
    head = chain.blocks.head.number

    def on_progress(p: Progress) -> None:
        seen.append(p.block)
        if p.block > head:
            stop.set()

    result: list[object] = []
    config = IndexerConfig(confirmations=0, poll_interval=0.05)

    def follow() -> None:
        options = {"follow": True, "config": config, "stop": stop, "on_progress": on_progress}
        result.append(run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, **options))

    worker = threading.Thread(target=follow)
    worker.start()
    try:
        for _ in range(200):
            if seen and seen[-1] >= head:
                break
            stop.wait(0.05)
        registry.describeSelf("a new block to follow", sender=brand)
        worker.join(timeout=60)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert result and max(seen) == head + 1


def test_run_index__index_of_an_older_schema__refused_with_the_fix_then_reset_rebuilds_it(
    busy, deployment, rpc_url, db_url, make_indexer, make_db, tmp_path: Path
) -> None:
    config = IndexerConfig(confirmations=0)
    run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=config)
    engine = make_engine(db_url)
    try:  # what supplytrace 0.x (schema version 2) left: serials as text, its version in the checkpoint
        with engine.begin() as conn:
            schema.items.drop(conn)
            old = MetaData()
            Table(
                "items",
                old,
                *(Column(c.name, String(20) if c.name == "serial" else c.type) for c in schema.items.c),
            )
            old.create_all(conn)
            conn.execute(update(schema.checkpoint).values(schema_version=2))
    finally:
        engine.dispose()
    with pytest.raises(IndexMismatchError, match=r"schema version 2.*supplytrace index --reset"):
        run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=config)
    with engine.begin() as conn:  # an older index with no checkpoint of this chain is refused too
        conn.execute(schema.checkpoint.delete())
    with pytest.raises(IndexMismatchError, match=r"older supplytrace.*supplytrace index --reset"):
        run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=config)
    engine.dispose()
    rebuilt = run_index(Rpc(rpc_url), deployment, db=db_url, home=tmp_path, config=config, reset=True)
    assert rebuilt.report.events > 0
    assert dump(make_indexer(db_url)) == dump(full_index(make_db(), make_indexer))
