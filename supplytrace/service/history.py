"""Where history comes from: the one decision between the event index and the chain's logs.

:func:`open_history` is called by ``status``, ``history``, ``export-epcis``, the page and the
benchmarks. It returns a :class:`~supplytrace.chain.history.HistorySource` and one line saying
which source it is and why (to print, or to log).
"""

from __future__ import annotations

from pathlib import Path

from supplytrace.chain.history import ChainHistory, HistorySource
from supplytrace.chain.rpc import Rpc
from supplytrace.core.deployments import Deployment


def open_history(
    rpc: Rpc, deployment: Deployment, *, db: str | None = None, home: Path
) -> tuple[HistorySource, str]:
    """The history of ``deployment``'s registry: the event index at ``db`` (default
    ``$SUPPLYTRACE_INDEX_DB``, else ``<home>/index.db``) when it holds this registry on the node's
    current chain, else the chain's logs; and why."""
    return ChainHistory(rpc, deployment.address, deployment.block), "the chain's logs (no index is used yet)"
