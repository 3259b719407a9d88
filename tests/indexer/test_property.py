"""The invariant: after any workload, indexed incrementally with polls at any points and chunks of
any size, the index equals one built in a single run, and every item and lot reads exactly as
the contract's own views (getItem, getLot). On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplytrace.indexer.fetch import FetchConfig
from tests.indexer.conftest import Workload, assert_matches_contract, dump, full_index

operations = st.lists(st.sampled_from(Workload.OPERATIONS), min_size=3, max_size=18)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=operations,
    polls=st.sets(st.integers(min_value=0, max_value=13), max_size=5),
    span=st.integers(min_value=1, max_value=16),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_index__random_workload_and_polls__equals_fresh_index_and_contract_views(
    ops: list[str],
    polls: set[int],
    span: int,
    seed: int,
    workload,
    make_indexer,
    make_db,
    chain: Any,
    registry,
) -> None:
    snapshot = chain.provider.make_request("evm_snapshot", [])
    try:
        work = workload(seed=seed)
        work.register(2)
        indexer = make_indexer(
            make_db(), fetch=FetchConfig(initial_span=span, max_span=span * 4, target_logs=8)
        )
        for n, op in enumerate(ops):
            work.step(op)
            if n in polls:
                indexer.poll()
        indexer.poll()
        assert_matches_contract(indexer, registry, set(work.items), work.lot_ids, boxes=work.boxes)
        indexed = dump(indexer)
        assert indexed == dump(full_index(make_db(), make_indexer))
        indexer.store.rebuild()  # every derived row again, by the reducer alone (State.apply)
        assert dump(indexer) == indexed
    finally:
        chain.provider.make_request("evm_revert", [snapshot])
