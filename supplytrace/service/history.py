"""Where history comes from: the one decision between the event index and the chain's logs.

:func:`open_history` is called by ``status``, ``history``, ``export-epcis``, the page and the
benchmarks. It returns a :class:`~supplytrace.chain.history.HistorySource` and one line saying
which source it is and why (to print, or to log).

The event index is used when it holds this deployment's registry on the node's current chain
(its checkpoint block is the node's block at that height) and is at most
``MAX_TAIL_BLOCKS`` behind; then every read adds the chain's events after the checkpoint and
checks the checkpoint again, falling back to the chain's logs for that read if the index stops
matching the chain (``supplytrace.indexer.history.IndexHistory``). Otherwise the chain's logs.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from supplytrace.chain.history import ChainHistory, HistorySource
from supplytrace.chain.rpc import Rpc
from supplytrace.core.deployments import Deployment
from supplytrace.indexer.database import display_url, exists, first_line, make_engine, resolve_url
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.history import IndexHistory
from supplytrace.indexer.reader import IndexReader

#: Why the chain's logs are read when there is no index at all (front ends may stay quiet then).
NO_INDEX = "no index (build one with `supplytrace index`)"


def open_history(
    rpc: Rpc, deployment: Deployment, *, db: str | None = None, home: Path
) -> tuple[HistorySource, str]:
    """The history of ``deployment``'s registry: the event index at ``db`` (default
    ``$SUPPLYTRACE_INDEX_DB``, else ``<home>/index.db``) when it holds this registry on the node's
    current chain, else the chain's logs; and why."""
    chain = ChainHistory(rpc, deployment.address, deployment.block)
    url = resolve_url(db, home)
    if not exists(url):
        return chain, f"the chain's logs ({NO_INDEX})"
    try:
        reader = IndexReader(make_engine(url, create=False), deployment.chain_id)
    except (SQLAlchemyError, IndexerError) as exc:
        return chain, f"the chain's logs (the index cannot be read ({first_line(exc)}))"
    index = IndexHistory(reader, chain)
    view, reason = index.check()
    if view is None:
        reader.engine.dispose()
        return chain, f"the chain's logs ({reason})"
    return index, f"the event index {display_url(url)} ({reason})"
