"""An indexer in its own process, for the kill -9 tests (not a test module).

    python -m tests.indexer.worker DB_URL RPC_URL REGISTRY DEPLOYMENT_BLOCK CHAIN_ID

indexes in one-block chunks (many small transactions, so a kill lands anywhere) and prints
"started" once it runs and "done" when caught up.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from supplytrace.chain.rpc import RetryPolicy, Rpc
    from supplytrace.indexer.database import make_engine
    from supplytrace.indexer.fetch import FetchConfig
    from supplytrace.indexer.run import Indexer, IndexerConfig
    from supplytrace.indexer.store import IndexStore

    db_url, rpc_url, registry, deployment_block, chain_id = argv
    store = IndexStore(make_engine(db_url), int(chain_id))
    fetch = FetchConfig(initial_span=1, max_span=1, concurrency=2, retry=RetryPolicy(attempts=5, base=0.05))
    indexer = Indexer(
        store, Rpc(rpc_url), registry, int(deployment_block), IndexerConfig(confirmations=0, fetch=fetch)
    )
    print("started", flush=True)
    with store.writer():
        indexer.catch_up()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
