"""A Registry from what a user types: a network name and an account alias."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from supplytrace.chain.ape import AccountError, ApeSigner
from supplytrace.chain.devnet import DevnetError
from supplytrace.core.deployments import DeploymentError
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.networks import DEVNET_NETWORK
from supplytrace.service.connect import deployer, network_names, open_registry
from supplytrace.service.registry import Registry
from tests.conftest import free_port


def test_network_names__ape_choices__ecosystem_and_network_of_the_record():
    assert network_names("ethereum:local:node") == ("ethereum", "local")
    assert network_names("ethereum:sepolia") == ("ethereum", "sepolia")
    assert network_names("base:sepolia:node") == ("base", "sepolia")
    assert network_names(":sepolia") == ("ethereum", "sepolia")


@pytest.fixture
def recorded(settings, chain, admin) -> Registry:
    """A registry deployed to ape's node as the devnet of ``settings``, recorded for ethereum:local."""
    sender = deployer(settings, DEVNET_NETWORK, "TEST::0")
    assert sender.address == admin.address and sender.chain_id == int(chain.chain_id)
    return Registry.deploy(sender, settings, ecosystem="ethereum", network="local")


def test_open_registry__recorded_deployment__reads_and_writes_as_the_account(recorded, settings, brand):
    reader = open_registry(settings, DEVNET_NETWORK)
    assert reader.address == recorded.address and reader.sender is None
    with pytest.raises(SupplytraceError, match="needs an account to sign with"):
        reader.describe("x")
    writer = open_registry(settings, DEVNET_NETWORK, account="TEST::1")
    assert writer.account == brand.address and isinstance(writer.sender.signer, ApeSigner)
    assert writer.describe("Hillside Apiaries").success


def test_open_registry__no_record__says_deploy_first(settings):
    with pytest.raises(
        DeploymentError,
        match=r"no deployment is recorded for ethereum:local .* Run `supplytrace deploy --network ethereum:",
    ):
        open_registry(settings, DEVNET_NETWORK)


def test_open_registry__record_of_another_chain__names_both_chains(recorded, settings):
    path = settings.deployments / "ethereum-local.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "chain_id": 11155111}))
    with pytest.raises(DeploymentError, match="11155111; check --network and the RPC URL"):
        open_registry(settings, DEVNET_NETWORK)


def test_open_registry__devnet_not_running__says_start_it(settings):
    stopped = replace(settings, devnet_port=free_port())
    with pytest.raises(DevnetError, match=r"devnet is not running .* `supplytrace devnet up`"):
        open_registry(stopped, DEVNET_NETWORK)


@pytest.mark.parametrize(
    ("account", "sentence"),
    [("TEST::15", "use TEST::0 to TEST::9"), ("no-such-alias", "ape accounts import no-such-alias")],
)
def test_open_registry__unknown_account__says_which_exist_or_how_to_create(
    recorded, settings, account, sentence
):
    with pytest.raises(AccountError, match=sentence):
        open_registry(settings, DEVNET_NETWORK, account=account)
