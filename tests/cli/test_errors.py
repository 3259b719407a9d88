"""Every failure a merchant can meet becomes one plain sentence with the fix, and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supplytrace.chain.codec import function
from supplytrace.core.ids import ItemKey
from tests.cli.conftest import BRAND, DISTRIBUTOR, HONEY_GTIN, ROGUE_GTIN, Cli, free_port

TEST_9 = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"


def test_account__test_account_out_of_range__says_which_exist(deployed: Cli, item: str) -> None:
    assert "TEST::0 to TEST::9" in deployed.error("offer", item, "--to", DISTRIBUTOR, "--account", "TEST::15")


def _item(serial: str) -> str:
    return ItemKey.create(HONEY_GTIN, serial, "HONEY-A").digital_link("http://127.0.0.1:8000")


@pytest.fixture(scope="module")
def item(deployed: Cli) -> str:
    deployed.run(
        "register", "--gtin", HONEY_GTIN, "--serial", "ERR-1", "--lot", "HONEY-A", "--account", "TEST::1"
    )
    return _item("ERR-1")


def test_deploy__already_recorded__refused_without_force(deployed: Cli) -> None:
    assert "Use --force" in deployed.error("deploy", "--account", "TEST::0")


def test_status__no_deployment_recorded__says_deploy_first(deployed: Cli, tmp_path: Path) -> None:
    env = dict(deployed.env, SUPPLYTRACE_DEPLOYMENTS=str(tmp_path))
    message = Cli(env, deployed.home, deployed.workdir).error("status", _item("ERR-1"))
    assert "no deployment is recorded" in message and "supplytrace deploy" in message


def test_status__node_down__says_start_devnet(deployed: Cli) -> None:
    env = dict(deployed.env, SUPPLYTRACE_DEVNET_PORT=str(free_port()))
    message = Cli(env, deployed.home, deployed.workdir).error("status", _item("ERR-1"))
    assert "devnet is not running" in message and "supplytrace devnet up" in message


def test_status__wrong_network__names_both_chain_ids(deployed: Cli, tmp_path: Path) -> None:
    record = json.loads(next((Path(deployed.env["SUPPLYTRACE_DEPLOYMENTS"])).glob("*.json")).read_text())
    record["chain_id"] = 11155111
    (tmp_path / "ethereum-local.json").write_text(json.dumps(record))
    env = dict(deployed.env, SUPPLYTRACE_DEPLOYMENTS=str(tmp_path))
    message = Cli(env, deployed.home, deployed.workdir).error("status", _item("ERR-1"))
    assert "is chain 1337" in message and "deployed on chain 11155111" in message


def test_offer__insufficient_funds__says_fund_it(deployed: Cli, item: str) -> None:
    deployed.run_rpc("anvil_setBalance", [TEST_9, "0x0"])
    message = deployed.error("offer", item, "--to", DISTRIBUTOR, "--account", "TEST::9")
    assert "too little ether" in message


def test_offer__not_the_custodian__names_the_custodian(deployed: Cli, item: str) -> None:
    message = deployed.error("offer", item, "--to", DISTRIBUTOR, "--account", "TEST::3")
    assert "do not hold item" in message and "Sign with the custodian's account" in message


def test_status__unknown_item__says_likely_counterfeit_and_exits_4(deployed: Cli) -> None:
    result = deployed.run("status", _item("NEVER-MADE"), ok=False)
    assert "not registered by any brand: likely counterfeit" in " ".join(result.stdout.split())
    assert result.returncode == 4 and "Traceback" not in result.stderr


def test_history__unknown_item__says_likely_counterfeit_and_exits_4(deployed: Cli) -> None:
    result = deployed.run("history", _item("NEVER-MADE"), ok=False)
    assert "not registered by any brand: likely counterfeit" in " ".join(result.stdout.split())
    assert result.returncode == 4 and "Traceback" not in result.stderr


def test_history__registered_and_unknown_item__shows_the_one_and_exits_4(deployed: Cli, item: str) -> None:
    result = deployed.run("history", item, _item("NEVER-MADE"), ok=False)
    assert "registered" in result.stdout and "likely counterfeit" in result.stdout
    assert result.returncode == 4


def test_offer__unknown_item__says_not_registered(deployed: Cli) -> None:
    message = deployed.error("offer", _item("NEVER-MADE"), "--to", DISTRIBUTOR, "--account", "TEST::1")
    assert "is not registered; check the GTIN and serial" in message


def test_lot_create__gtin_not_yours__names_the_owner(deployed: Cli, tmp_path: Path) -> None:
    metadata = tmp_path / "m.json"
    metadata.write_text("{}")
    message = deployed.error(
        "lot",
        "create",
        "--gtin",
        ROGUE_GTIN,
        "--lot",
        "X",
        "--metadata",
        str(metadata),
        "--account",
        "TEST::1",
    )
    assert f"GTIN {ROGUE_GTIN} is not yours" in message


def test_handoff__signature_expired__says_sign_again(deployed: Cli, item: str, tmp_path: Path) -> None:
    acceptance = tmp_path / "acceptance.txt"
    deployed.run(
        "sign-acceptance",
        item,
        "--from",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "--valid-for",
        "0",
        "--output",
        str(acceptance),
        "--account",
        "TEST::2",
    )
    # Move the chain's clock past the deadline.
    deployed.run_rpc("evm_increaseTime", [120])
    deployed.run_rpc("evm_mine", [])
    message = deployed.error("handoff", str(acceptance), "--account", "TEST::1")
    assert "signed acceptance expired" in message and "sign again" in message


def test_register__duplicate__says_once(deployed: Cli, item: str) -> None:
    message = deployed.error(
        "register", "--gtin", HONEY_GTIN, "--serial", "ERR-1", "--lot", "HONEY-A", "--account", "TEST::1"
    )
    assert "already registered" in message


def test_register__bad_gtin__names_the_check_digit(deployed: Cli) -> None:
    message = deployed.error(
        "register", "--gtin", "09506000134353", "--serial", "X", "--lot", "HONEY-A", "--account", "TEST::1"
    )
    assert "check digit" in message


def test_account__unknown_alias__says_how_to_create(deployed: Cli, item: str) -> None:
    message = deployed.error("offer", item, "--to", DISTRIBUTOR, "--account", "no-such-alias")
    assert "ape accounts import no-such-alias" in message


def test_handoff__damaged_acceptance__says_send_again(deployed: Cli) -> None:
    assert "send it again" in deployed.error("handoff", "st1:not-base64!", "--account", "TEST::1")


def test_verbose__user_error__shows_traceback(deployed: Cli) -> None:
    result = deployed.run(
        "--verbose", "offer", _item("NEVER-MADE"), "--to", DISTRIBUTOR, "--account", "TEST::1", ok=False
    )
    assert "Traceback" in result.stderr


def test_history__business_step_with_markup__printed_as_it_is(deployed: Cli, item: str) -> None:
    # Printable ASCII without spaces, so the registry takes it from any custodian (the CLI itself
    # only records GS1 steps); rich would read it as markup.
    record = json.loads(next(Path(deployed.env["SUPPLYTRACE_DEPLOYMENTS"]).glob("*.json")).read_text())
    data = function("record").calldata(
        ItemKey.create(HONEY_GTIN, "ERR-1").id, b"[/oops][bold]x".ljust(32, b"\0"), b"\1" * 32
    )
    tx = {"from": BRAND, "to": record["address"], "data": "0x" + data.hex()}
    deployed.run_rpc("eth_sendTransaction", [tx])  # anvil's test accounts are unlocked
    result = deployed.run("history", item)
    assert "recorded a step: [/oops][bold]x" in result.stdout, result.stdout
    assert "Traceback" not in result.stderr
