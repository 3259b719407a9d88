"""Fixtures for the use cases: the indexer's (index databases on SQLite and PostgreSQL, indexers
and a workload on ape's anvil, raw hostile transactions), and the page's world (the demo's story
on ape's anvil, tests/web/conftest.py) for the page's bootstrap (service/page.py)."""

from __future__ import annotations

from tests.indexer.conftest import (  # noqa: F401
    backend,
    chain_id,
    db_url,
    deployment_block,
    make_db,
    make_indexer,
    pg_server,
    rpc_url,
    send_raw,
    workload,
)
from tests.web.conftest import world  # noqa: F401
