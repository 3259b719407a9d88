"""The verification page of one deployment, put together: the deployment record, the check that
the node holds it, the history source (:func:`~supplytrace.service.history.open_history`) and
the app (:func:`supplytrace.web.app.create_app`). ``supplytrace serve`` runs what it returns.
"""

from __future__ import annotations

from fastapi import FastAPI

from supplytrace.chain.deployment import check_deployment
from supplytrace.chain.rpc import Rpc
from supplytrace.core.config import Settings
from supplytrace.core.deployments import load
from supplytrace.core.networks import split_choice
from supplytrace.service.history import open_history
from supplytrace.web.app import create_app
from supplytrace.web.deps import HISTORY_MARGIN, LIVE_READ_TIMEOUT, PageConfig


def build_page(
    settings: Settings,
    network: str,
    rpc_url: str,
    *,
    db: str | None = None,
) -> tuple[FastAPI, str]:
    """The page of the registry recorded for ``network`` (ecosystem:network[:provider]), reading
    the chain at ``rpc_url``, and one line saying where its history comes from.

    Raises :class:`~supplytrace.core.deployments.DeploymentError` when no registry is recorded
    for the network or the node does not hold it (another chain, a reset devnet), and
    :class:`~supplytrace.chain.rpc.RpcError` when the node cannot be read.
    """
    ecosystem, name, _provider = split_choice(network)
    deployment = load(settings.deployments, ecosystem, name)
    check_deployment(Rpc(rpc_url, timeout=settings.rpc_timeout), deployment)
    # A request's history reads end with its deadline: a stalled node never holds a thread longer.
    rpc = Rpc(rpc_url, timeout=LIVE_READ_TIMEOUT - HISTORY_MARGIN)
    source, reason = open_history(rpc, deployment, db=db, home=settings.home)
    config = PageConfig.of(
        deployment,
        rpc_url=rpc_url,
        resolver=settings.resolver,
        metadata_folder=settings.metadata_folder,
    )
    return create_app(config, source), f"history: {reason}"
