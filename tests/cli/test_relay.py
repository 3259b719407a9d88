"""`supplytrace relay` as a real process on the module's devnet, and the custody commands'
`--relay URL` run by a keystore account that has never held ether."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest

from supplytrace.chain.ape import passphrase_variable
from tests.cli.conftest import HONEY_GTIN, RETAILER, Cli, free_port
from tests.standin import Keystore, create_keystore

ITEM = f"https://id.example.com/01/{HONEY_GTIN}/21/RELAYED-1"
RELAYER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # TEST::5


@pytest.fixture(scope="module")
def merchant(deployed: Cli, tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, Keystore]:
    """The CLI as a keystore account with 0 ETH (its passphrase in the environment)."""
    ape_data = tmp_path_factory.mktemp("ape")
    keystore = create_keystore(ape_data, "merchant")
    env = dict(deployed.env, APE_DATA_FOLDER=str(ape_data))
    env[passphrase_variable("merchant")] = keystore.passphrase
    return replace(deployed, env=env), keystore


@pytest.fixture(scope="module")
def relay_url(deployed: Cli) -> Iterator[str]:
    """`supplytrace relay --account TEST::5` running in the background."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "supplytrace.cli", "relay", "--account", "TEST::5", "--port", str(port)],
        env=deployed.env,
        cwd=deployed.workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                    assert json.loads(answer.read())["relayer"] == RELAYER
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the relayer did not start: {process.communicate()}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def balance(cli: Cli, address: str) -> int:
    return int(str(cli.run_rpc("eth_getBalance", [address, "latest"])), 16)


def test_relay_option__zero_balance_keystore_accepts_records_offers__relayer_paid(
    deployed: Cli, merchant: tuple[Cli, Keystore], relay_url: str
) -> None:
    cli, keystore = merchant
    deployed.run(
        "register", "--gtin", HONEY_GTIN, "--serial", "RELAYED-1", "--lot", "HONEY-A", "--account", "TEST::1"
    )
    deployed.run("offer", ITEM, "--to", keystore.address, "--account", "TEST::1")
    relayer_before = balance(deployed, RELAYER)

    accepted = cli.run("accept", ITEM, "--relay", relay_url, "--account", "merchant").stdout
    recorded = cli.run(
        "record", ITEM, "--step", "inspecting", "--relay", relay_url, "--account", "merchant"
    ).stdout
    offered = cli.run("offer", ITEM, "--to", RETAILER, "--relay", relay_url, "--account", "merchant").stdout

    for out in (accepted, recorded, offered):
        assert "through the relayer (tx 0x" in out and "paid by the relayer" in out, out
    assert offered.startswith("offered 0x") and RETAILER in offered
    status = deployed.run("status", ITEM).stdout
    assert keystore.address in status and RETAILER in status
    assert balance(deployed, keystore.address) == 0
    assert balance(deployed, RELAYER) < relayer_before
    # history names the relayer as the payer of the three relayed steps, and of none other
    history = deployed.run("history", ITEM).stdout
    assert history.count(f"signed by its actor; sent, and paid for, by {RELAYER}") == 3, history
    assert history.count("paid for, by") == 3, history


def test_relay_option__unreachable_relayer__one_sentence(merchant: tuple[Cli, Keystore]) -> None:
    cli, _ = merchant
    url = f"http://127.0.0.1:{free_port()}"
    message = cli.error("sell", ITEM, "--relay", url, "--account", "merchant")
    assert f"the relayer at {url} is not reachable" in message


def test_relay_option__action_the_registry_refuses__relayers_sentence(
    merchant: tuple[Cli, Keystore], relay_url: str
) -> None:
    cli, _ = merchant
    message = cli.error("accept", ITEM, "--relay", relay_url, "--account", "merchant")
    assert "the relayer refused:" in message and "Nothing was sent" in message


def test_relay_option__not_an_http_url__one_sentence(merchant: tuple[Cli, Keystore]) -> None:
    cli, _ = merchant
    message = cli.error("sell", ITEM, "--relay", "ftp://x", "--account", "merchant")
    assert "is not an HTTP(S) URL" in message
