"""The verification page of one deployment, put together: the deployment record, the check that
the node holds it, the history source (:func:`~supplytrace.service.history.open_history`) and
the app (:func:`supplytrace.web.app.create_app`). ``supplytrace serve`` runs what it returns.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from supplytrace.chain.deployment import check_deployment
from supplytrace.chain.history import HistorySource
from supplytrace.chain.rpc import Rpc
from supplytrace.core.config import Settings
from supplytrace.core.deployments import load, record_path
from supplytrace.core.networks import split_choice
from supplytrace.service.claiming import open_claims
from supplytrace.service.history import open_history
from supplytrace.web.app import create_app
from supplytrace.web.claims import page_secret
from supplytrace.web.deps import HISTORY_MARGIN, LIVE_READ_TIMEOUT, PageConfig
from supplytrace.web.follow import Follow
from supplytrace.web.resolver_links import NO_LINKS, load_links


def build_page(
    settings: Settings,
    network: str,
    rpc_url: str,
    *,
    db: str | None = None,
    codes_dir: Path | None = None,
    relayer: str | None = None,
    secret: bytes | None = None,
) -> tuple[FastAPI, str]:
    """The page of the registry recorded for ``network`` (ecosystem:network[:provider]), reading
    the chain at ``rpc_url``, and one line saying where its history comes from. The page follows
    the record: after a redeploy it reads the new registry (``supplytrace.web.follow``).

    Raises :class:`~supplytrace.core.deployments.DeploymentError` when no registry is recorded
    for the network or the node does not hold it (another chain, a reset devnet), and
    :class:`~supplytrace.chain.rpc.RpcError` when the node cannot be read.

    Hidden codes are taken from the tree documents in ``codes_dir`` (default
    ``SUPPLYTRACE_HOME/codes``) and sent as claims by ape account ``relayer`` (none: the page
    takes no codes); ``secret`` keys the clients' hashes (``web.claims``; pages sharing one
    database should share it: default ``SUPPLYTRACE_PAGE_SECRET``, else random).
    """
    ecosystem, name, _provider = split_choice(network)
    # A brand's links file is read and checked once, before anything else (ResolverLinksError).
    links = load_links(settings.resolver_links) if settings.resolver_links else NO_LINKS

    def parts() -> tuple[PageConfig, HistorySource, str]:
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
            resolver_links=links,
        )
        return config, source, reason

    def rebuild() -> tuple[PageConfig, HistorySource]:
        config, source, _reason = parts()
        return config, source

    config, source, reason = parts()
    follow = Follow(record_path(settings.deployments, ecosystem, name), rebuild)
    claims, where = open_claims(
        settings,
        network,
        rpc_url,
        config.chain_id,
        db=db,
        codes_dir=codes_dir,
        relayer=relayer,
        secret=secret or page_secret(),
    )
    return create_app(config, source, follow, claims), f"history: {reason}\n{where}"
