"""Registry use cases of the admin: deploying, brands, GTINs and company prefixes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.deployment import check_deployment
from supplytrace.chain.history import ChainHistory
from supplytrace.chain.send import Sender
from supplytrace.core.deployments import DeploymentError
from supplytrace.core.errors import ChainError, ContractRevertError, SupplytraceError
from supplytrace.core.hashing import keccak
from supplytrace.core.ids import IdentityError
from supplytrace.core.records import DEFAULT_ADMIN_ROLE, REGISTRAR_ROLE
from supplytrace.service.registry import Registry
from supplytrace.service.selection import SelectionError
from tests.conftest import HONEY_GTIN, OTHER_GTIN, UNASSIGNED_GTIN
from tests.service.conftest import nonce

ROGUE_PREFIX = "0614141"


@pytest.fixture
def deployer(rpc, chain, admin) -> Sender:
    return Sender(rpc, ApeSigner(admin), chain_id=int(chain.chain_id))


# ----------------------------------------------------------------------------------------------
# Deploying
# ----------------------------------------------------------------------------------------------


def test_deploy__fresh_network__packaged_registry_deployed_and_recorded(deployer, settings, rpc, admin):
    registry = Registry.deploy(deployer, settings, ecosystem="ethereum", network="local")
    record = registry.deployment
    path = settings.deployments / "ethereum-local.json"
    assert json.loads(path.read_text())["address"] == record.address == registry.address
    code = rpc.request("eth_getCode", [record.address, "latest"])
    assert record.runtime_bytecode_keccak == "0x" + keccak(bytes.fromhex(code[2:])).hex()
    assert record.compiler.startswith("solc 0.8.") and "optimizer runs" in record.compiler
    assert record.deployer == record.admin == admin.address
    assert record.chain_id == int(rpc.request("eth_chainId", []), 16)
    check_deployment(rpc, record)  # the record matches the node: what every later command checks
    assert registry.reads.has_role(DEFAULT_ADMIN_ROLE, admin.address)
    assert registry.account == admin.address  # it writes as the deployer
    assert registry.tx_link(record.tx_hash) == f"{settings.resolver}/tx/{record.tx_hash}"


@pytest.mark.parametrize(("network", "delay"), [("local", 0), ("sepolia", 2 * 24 * 3600)])
def test_deploy__no_admin_delay_given__none_on_a_devnet_two_days_elsewhere(
    deployer, settings, network, delay
):
    registry = Registry.deploy(deployer, settings, ecosystem="ethereum", network=network)
    assert registry.reads.view("defaultAdminDelay") == delay
    assert (
        Registry.deploy(
            deployer, settings, ecosystem="ethereum", network=network, admin_delay=60, force=True
        ).reads.view("defaultAdminDelay")
        == 60
    )


def test_deploy__other_admin__the_admin_holds_the_role(deployer, settings, stranger):
    registry = Registry.deploy(
        deployer, settings, ecosystem="ethereum", network="local", admin=stranger.address.lower()
    )
    assert registry.deployment.admin == stranger.address
    assert registry.reads.has_role(DEFAULT_ADMIN_ROLE, stranger.address)


def test_deploy__already_recorded__refused_without_force_and_nothing_sent(deployer, settings, rpc, admin):
    first = Registry.deploy(deployer, settings, ecosystem="ethereum", network="local")
    before = nonce(rpc, admin)
    with pytest.raises(DeploymentError, match=r"already recorded for ethereum:local .* Use --force"):
        Registry.deploy(deployer, settings, ecosystem="ethereum", network="local")
    assert nonce(rpc, admin) == before
    again = Registry.deploy(deployer, settings, ecosystem="ethereum", network="local", force=True)
    assert again.address != first.address
    recorded = json.loads((settings.deployments / "ethereum-local.json").read_text())["address"]
    assert recorded == again.address


def test_deploy__admin_not_an_address__refused_with_sentence(deployer, settings):
    with pytest.raises(SelectionError, match="'0x12' is not an Ethereum address"):
        Registry.deploy(deployer, settings, ecosystem="ethereum", network="local", admin="0x12")


# ----------------------------------------------------------------------------------------------
# Brands
# ----------------------------------------------------------------------------------------------


def test_add_brand__new_brand__role_name_and_gtins_then_every_step_skipped_when_done(
    as_, admin, stranger, rpc
):
    registry = as_(admin)
    gtin = str(UNASSIGNED_GTIN).zfill(14)
    sent = registry.add_brand(stranger.address, name="Valley Foods", gtins=[gtin])
    assert len(sent) == 3 and all(s.success for s in sent)
    assert registry.reads.has_role(REGISTRAR_ROLE, stranger.address)
    assert registry.reads.gtin_owner(int(gtin)) == stranger.address
    names = ChainHistory(rpc, registry.address, 0).participants([stranger.address])
    assert str(names[stranger.address].verified_name) == "Valley Foods"
    before = nonce(rpc, admin)
    assert registry.add_brand(stranger.address, gtins=[gtin[1:]]) == []  # role and GTIN already done
    assert nonce(rpc, admin) == before


def test_add_brand__bad_gtin__refused_before_anything_is_sent(as_, admin, stranger, rpc):
    before = nonce(rpc, admin)
    with pytest.raises(IdentityError, match="09506000134353"):
        as_(admin).add_brand(stranger.address, name="X", gtins=["09506000134353"])
    assert nonce(rpc, admin) == before


def test_add_brand__not_the_admin__the_registrys_sentence(as_, brand, stranger):
    with pytest.raises(ContractRevertError, match=r"lacks the role this needs .* the admin account"):
        as_(brand).add_brand(stranger.address)


def test_add_brand__not_an_address__refused_with_sentence(as_, admin):
    with pytest.raises(SelectionError, match=r"'brand' is not an Ethereum address \(0x followed by 40"):
        as_(admin).add_brand("brand")


def test_add_brand__no_account__says_give_account(reader, stranger):
    with pytest.raises(SupplytraceError, match="needs an account to sign with; give --account ALIAS"):
        reader.add_brand(stranger.address)


def test_name_brand_and_describe__published_as_verified_and_unverified(as_, admin, distributor, rpc):
    as_(admin).name_brand(distributor.address, "Carpathian Foods")
    sent = as_(distributor).describe("cold store 3")
    assert sent.success and sent.tx_hash.startswith("0x")
    found = ChainHistory(rpc, as_(admin).address, 0).participants([distributor.address])
    assert str(found[distributor.address].verified_name) == "Carpathian Foods"
    assert str(found[distributor.address].description) == "cold store 3"


def test_name_brand__not_the_admin__the_registrys_sentence(as_, distributor):
    with pytest.raises(ContractRevertError, match="sign with the admin account"):
        as_(distributor).name_brand(distributor.address, "Fake")


def test_revoke_brand__brand_with_open_lots__role_gone_and_lots_closed(
    as_, admin, brand, lot_id, other_lot_id
):
    registry = as_(admin)
    registry.close_lot(other_lot_id)  # already closed: not closed again
    revoked = registry.revoke_brand(brand.address)
    assert revoked.revoked is not None and revoked.revoked.success
    assert [lot.lot_id for lot in revoked.closed] == [lot_id]
    assert not registry.reads.has_role(REGISTRAR_ROLE, brand.address)
    assert registry.lot(lot_id).closed and registry.lot(other_lot_id).closed
    again = registry.revoke_brand(brand.address)
    assert again.revoked is None and again.closed == ()


# ----------------------------------------------------------------------------------------------
# GTINs and company prefixes
# ----------------------------------------------------------------------------------------------


def test_assign_and_release_gtin__admin__ownership_follows(as_, admin, stranger):
    registry = as_(admin)
    gtin = str(UNASSIGNED_GTIN).zfill(14)
    registry.assign_gtin(gtin, stranger.address)
    assert registry.reads.gtin_owner(int(gtin)) == stranger.address
    registry.release_gtin(gtin)
    assert registry.reads.gtin_owner(int(gtin)) is None


def test_assign_gtin__already_assigned__the_registrys_sentence(as_, admin, stranger, rogue):
    with pytest.raises(ContractRevertError, match=f"GTIN {OTHER_GTIN} already belongs to {rogue.address}"):
        as_(admin).assign_gtin(OTHER_GTIN, stranger.address)


def test_release_gtin__not_assigned__the_registrys_sentence(as_, admin):
    gtin = str(UNASSIGNED_GTIN).zfill(14)
    with pytest.raises(ContractRevertError, match=f"GTIN {gtin} is not assigned to anyone"):
        as_(admin).release_gtin(gtin)


def test_assign_gtin__bad_check_digit__refused_with_sentence(as_, admin, stranger):
    with pytest.raises(IdentityError, match="not valid"):
        as_(admin).assign_gtin(HONEY_GTIN[:-1] + "3", stranger.address)


def test_assign_prefix__leading_zero__kept_with_its_length_then_released(as_, admin, stranger):
    registry = as_(admin)
    registry.assign_prefix(ROGUE_PREFIX, stranger.address)
    with pytest.raises(ContractRevertError, match=f"company prefix {ROGUE_PREFIX} already belongs to"):
        registry.assign_prefix(ROGUE_PREFIX, admin.address)
    registry.release_prefix(ROGUE_PREFIX)
    with pytest.raises(ContractRevertError, match=f"company prefix {ROGUE_PREFIX} is not assigned"):
        registry.release_prefix(ROGUE_PREFIX)


@pytest.mark.parametrize("prefix", ["123", "1234567890123", "12a4", ""])
def test_assign_prefix__not_4_to_12_digits__refused_with_sentence(as_, admin, stranger, rpc, prefix):
    before = nonce(rpc, admin)
    with pytest.raises(SupplytraceError, match="must be 4 to 12 digits; give it as GS1 issued it"):
        as_(admin).assign_prefix(prefix, stranger.address)
    assert nonce(rpc, admin) == before


def test_deploy__node_reports_no_contract__says_check_the_rpc_url(deployer, settings, monkeypatch):
    real_deploy = deployer.deploy
    monkeypatch.setattr(deployer, "deploy", lambda *args: replace(real_deploy(*args), contract_address=None))
    with pytest.raises(
        ChainError, match=r"reported no contract for deployment 0x[0-9a-f]+; check the RPC URL"
    ):
        Registry.deploy(deployer, settings, ecosystem="ethereum", network="local")
    assert not (settings.deployments / "ethereum-local.json").exists()
