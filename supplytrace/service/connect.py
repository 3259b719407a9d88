"""A :class:`~supplytrace.service.registry.Registry` from what a user types: a network as ape
names it (``ecosystem:network[:provider]``, default the local devnet) and an account alias.

The node is reached through :class:`~supplytrace.chain.rpc.Rpc` at the network's JSON-RPC URL
(the devnet's from the settings, without starting ape); the deployment record of that network is
checked against the node (chain id and code) before anything is read or sent. An account, when
given, is loaded through ape (:mod:`supplytrace.chain.ape`) and signs for the registry's
:class:`~supplytrace.chain.send.Sender`; without one the registry only reads.
"""

from __future__ import annotations

from collections.abc import Callable

from supplytrace.chain.ape import ApeSigner, load_account, rpc_url
from supplytrace.chain.deployment import check_deployment
from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.chain.send import Sender, WaitEvent
from supplytrace.core import deployments
from supplytrace.core.config import Settings
from supplytrace.core.networks import LOCAL_NETWORK, split_choice
from supplytrace.service.registry import Registry, lock_dir

Waiting = Callable[[WaitEvent], None]  # what waiting for a transaction reports


def network_names(network: str) -> tuple[str, str]:
    """(ecosystem, network) of an ape network choice, as deployment records are named."""
    ecosystem, name, _provider = split_choice(network)
    return ecosystem or "ethereum", name or LOCAL_NETWORK


def connect_rpc(settings: Settings, network: str) -> Rpc:
    """The JSON-RPC client of ``network``, every call bounded by ``settings.rpc_timeout``."""
    return Rpc(rpc_url(network, settings), timeout=settings.rpc_timeout)


def signer_for(network: str, account: str) -> ApeSigner:
    """The signer of ape account ``account`` (``TEST::N`` on local networks only)."""
    return ApeSigner(load_account(account, network))


def deployer(settings: Settings, network: str, account: str, *, on_wait: Waiting | None = None) -> Sender:
    """A sender for ``account`` on ``network`` with no registry yet (for ``Registry.deploy``)."""
    rpc = connect_rpc(settings, network)
    signer = signer_for(network, account)
    chain_id = hex_int(rpc.request("eth_chainId", []))
    return Sender(rpc, signer, chain_id=chain_id, on_wait=on_wait, lock_dir=lock_dir(settings))


def open_registry(
    settings: Settings, network: str, *, account: str | None = None, on_wait: Waiting | None = None
) -> Registry:
    """The registry recorded for ``network``, checked against its node; writing as ``account``
    when one is given."""
    rpc = connect_rpc(settings, network)
    ecosystem, name = network_names(network)
    deployment = deployments.load(settings.deployments, ecosystem, name)
    check_deployment(rpc, deployment)
    registry = Registry(rpc, deployment, settings)
    if account is None:
        return registry
    return registry.acting_as(signer_for(network, account), on_wait=on_wait)
