"""Connecting to a network and choosing accounts, the way ape does it.

``--network ecosystem:network:provider`` (default: the local devnet, ``ethereum:local:node``);
``--account ALIAS`` names an ape keystore account (``ape accounts import ALIAS``; the passphrase
comes from a prompt or ``APE_ACCOUNTS_<ALIAS>_PASSPHRASE``). ``TEST::N`` names ape's N-th test
account and is accepted on local networks only. Private keys are never taken as arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from supplytrace.chain.devnet import DevnetError, status
from supplytrace.core.config import Settings
from supplytrace.core.deployments import Deployment, load

DEVNET_NETWORK = "ethereum:local:node"
LOCAL_NETWORKS = {"local"}


class AccountError(RuntimeError):
    """An account cannot be used here; the message says why and what to do."""


@contextmanager
def connect(network: str, settings: Settings) -> Iterator[Any]:
    """Connect to ``network``; for the devnet, fail clearly when it is not running."""
    from ape import networks

    provider_settings: dict[str, Any] = {}
    if network == DEVNET_NETWORK:
        if not status(settings).running:
            raise DevnetError(
                f"the local devnet is not running at {settings.devnet_url}; "
                "start it with `supplytrace devnet up`."
            )
        provider_settings["uri"] = settings.devnet_url  # SUPPLYTRACE_DEVNET_PORT wins over ape-config.yaml
    with networks.parse_network_choice(network, provider_settings=provider_settings) as provider:
        yield provider


def is_local(provider: Any) -> bool:
    return provider.network.name in LOCAL_NETWORKS


def load_account(alias: str, provider: Any) -> Any:
    """An ape account by alias; ``TEST::N`` (test accounts) on local networks only."""
    from ape import accounts
    from ape.exceptions import AccountsError

    if alias.upper().startswith("TEST::"):
        if not is_local(provider):
            raise AccountError(
                f"test account {alias} is refused on {provider.network.name}: its key is public. "
                "Use a keystore account (`ape accounts import ALIAS`) and --account ALIAS."
            )
        index = alias.split("::", 1)[1]
        count = len(accounts.test_accounts)
        if not index.isdigit() or int(index) >= count:
            raise AccountError(f"{alias!r} is not a test account; use TEST::0 to TEST::{count - 1}.")
        return accounts.test_accounts[int(index)]
    try:
        return accounts.load(alias)
    except (AccountsError, IndexError, KeyError):
        raise AccountError(
            f"no ape account named {alias!r}; create one with `ape accounts import {alias}` "
            "(or `ape accounts generate`) and try again."
        ) from None


def registry_at(deployment: Deployment, provider: Any) -> Any:
    """The deployed registry, after checking the node is the recorded chain and has the code."""
    from ape import project

    from supplytrace.registry import rpc_chain_id

    chain_id = rpc_chain_id(provider)
    if chain_id != deployment.chain_id:
        raise AccountError(
            f"the node's chain id is {chain_id}, but the deployment for {deployment.key} was made on chain "
            f"{deployment.chain_id}; check --network and the RPC URL."
        )
    if not provider.get_code(deployment.address):
        raise AccountError(
            f"no registry code at {deployment.address} on {deployment.key}; the chain was reset. "
            "Deploy again with `supplytrace deploy --force`."
        )
    return project.ProvenanceRegistry.at(deployment.address)


def load_registry(settings: Settings, provider: Any) -> tuple[Deployment, Any]:
    network = provider.network
    deployment = load(settings.deployments, network.ecosystem.name, network.name)
    return deployment, registry_at(deployment, provider)
