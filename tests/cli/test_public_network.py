"""The merchant's commands on a public-testnet stand-in (tests/standin.py: Sepolia's chain id,
2 s blocks, EIP-7825's gas cap, ape keystore accounts), as the README's Sepolia section says:
unattended (stdin closed, passphrases from the environment), and each failure of the node or
the account one sentence with its exit code."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from supplytrace.chain.ape import passphrase_variable
from supplytrace.core.ids import ItemKey
from tests.standin import SEPOLIA, StandIn, free_port, standin, write_project

HONEY_GTIN = "09506000134352"
LOT = "HONEY-S1"


def _item(serial: str) -> str:
    return ItemKey.create(HONEY_GTIN, serial, LOT).digital_link("https://id.example.com")


def _words(result: object) -> str:
    return " ".join((getattr(result, "stdout", "") + getattr(result, "stderr", "")).split())


@pytest.fixture(scope="module")
def sepolia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    with standin(tmp_path_factory.mktemp("sepolia")) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def deployed(sepolia: StandIn, tmp_path_factory: pytest.TempPathFactory) -> StandIn:
    """The registry deployed by a keystore account, the brand added, a lot and two jars, every
    command unattended: stdin closed, the passphrase in the environment."""
    s = sepolia
    s.sign("brand-deployer", "deploy")
    s.sign(
        "brand-deployer",
        "brand",
        "add",
        s.address("brand"),
        "--name",
        "Hillside Apiaries",
        "--gtin",
        HONEY_GTIN,
    )
    metadata = tmp_path_factory.mktemp("meta") / "honey.json"
    metadata.write_text('{"product": "Acacia honey 500 g", "origin": "RO"}')
    s.sign("brand", "lot", "create", "--gtin", HONEY_GTIN, "--lot", LOT, "--metadata", str(metadata))
    for serial in ("JAR-1", "JAR-2", "JAR-3"):
        s.sign("brand", "register", "--gtin", HONEY_GTIN, "--serial", serial, "--lot", LOT)
    return s


def test_commands__passphrase_in_environment_stdin_closed__no_prompt_exit_0(deployed: StandIn) -> None:
    s = deployed
    offered = s.sign("brand", "offer", _item("JAR-1"), "--to", s.address("distributor"))
    accepted = s.sign("distributor", "accept", _item("JAR-1"))
    for result in (offered, accepted):
        text = _words(result)
        assert "Sign:" not in text and "passphrase" not in text.lower() and "Aborted" not in text
        assert "unlocked" not in text.lower() and "WARNING" not in text
    status = s.run("status", _item("JAR-1")).stdout
    assert s.address("distributor") in status


def test_passphrase_variable__aliases__names_bash_can_export() -> None:
    assert passphrase_variable("brand-deployer") == "SUPPLYTRACE_PASSPHRASE_BRAND_DEPLOYER"
    assert passphrase_variable("Retailer.2") == "SUPPLYTRACE_PASSPHRASE_RETAILER_2"


def test_offer__no_passphrase_and_no_terminal__names_the_variable_exit_1(deployed: StandIn) -> None:
    s = deployed
    result = s.run("offer", _item("JAR-2"), "--to", s.address("distributor"), "--account", "brand", ok=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "account 'brand' is locked" in _words(result)
    assert "export SUPPLYTRACE_PASSPHRASE_BRAND=" in _words(result)
    assert s.run("status", _item("JAR-2")).stdout.count(s.address("distributor")) == 0


def test_offer__wrong_passphrase_in_environment__one_sentence_exit_1(deployed: StandIn) -> None:
    s = deployed
    env_name = passphrase_variable("brand")
    wrong = s.env()
    wrong[env_name] = "not the passphrase"
    result = subprocess.run(
        [sys.executable, "-m", "supplytrace.cli", "offer", _item("JAR-2"), "--to", s.address("distributor"),
         "--account", "brand", "--network", SEPOLIA],
        env=wrong, cwd=s.project, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"the passphrase in {env_name} does not open account 'brand'" in _words(result)
    verbose = subprocess.run(
        [sys.executable, "-m", "supplytrace.cli", "--verbose", "offer", _item("JAR-2"), "--to",
         s.address("distributor"), "--account", "brand", "--network", SEPOLIA],
        env=wrong, cwd=s.project, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert verbose.returncode == 1 and "does not open account 'brand'" in _words(verbose)
    assert "not the passphrase" not in verbose.stdout + verbose.stderr


def test_sell__two_items_in_a_terminal__one_passphrase_prompt(deployed: StandIn) -> None:
    s = deployed
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "supplytrace.cli",
            "sell",
            _item("JAR-2"),
            _item("JAR-3"),
            "--account",
            "brand",
            "--network",
            SEPOLIA,
            "--yes",
        ],
        env=s.env(),
        cwd=str(s.project),
        encoding="utf-8",
        timeout=120,
    )
    child.expect("Passphrase of ape account 'brand': ")
    child.sendline(s.accounts["brand"].passphrase)
    rest = child.read()
    child.wait()
    child.close()
    assert child.exitstatus == 0, rest
    assert "assphrase" not in rest and "Sign:" not in rest and "unlocked" not in rest
    assert rest.count("sold 0x") == 2


def test_status__node_unreachable__one_sentence_exit_2(deployed: StandIn, tmp_path: Path) -> None:
    project = write_project(tmp_path / "down", f"http://127.0.0.1:{free_port()}/v3/secret-key")
    (project / "deployments").mkdir()
    for record in (deployed.project / "deployments").iterdir():
        (project / "deployments" / record.name).write_text(record.read_text())
    s = StandIn(deployed.node_url, "", project, deployed.ape_data, deployed.accounts)
    for args in (("status", _item("JAR-1")), ("offer", _item("JAR-1"), "--to", s.address("retailer"))):
        extra = ("--account", "distributor") if args[0] == "offer" else ()
        result = s.run(*args, *extra, unlocked=("distributor",), ok=False, timeout=60)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        text = _words(result)
        assert "cannot reach the node at http://127.0.0.1:" in text and "check the RPC URL" in text
        assert "secret-key" not in text


@pytest.fixture
def silent_node() -> Iterator[str]:
    """A node that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in held:
            connection.close()


def test_status__node_never_answers__times_out_in_one_sentence_exit_2(
    deployed: StandIn, silent_node: str, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "silent", silent_node)
    (project / "deployments").mkdir()
    for record in (deployed.project / "deployments").iterdir():
        (project / "deployments" / record.name).write_text(record.read_text())
    env = deployed.env()
    env["SUPPLYTRACE_RPC_TIMEOUT"] = "2"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "supplytrace.cli", "status", _item("JAR-1"), "--network", SEPOLIA],
        env=env, cwd=project, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "did not answer eth_chainId within 2 s" in _words(result)
    assert "SUPPLYTRACE_RPC_TIMEOUT" in _words(result)


def test_deployment_record__public_testnet__chain_id_and_keystore_deployer(deployed: StandIn) -> None:
    record = json.loads((deployed.project / "deployments" / "ethereum-sepolia.json").read_text())
    assert record["chain_id"] == 11155111
    assert record["deployer"].lower() == deployed.address("brand-deployer").lower()


def _csv(folder: Path, name: str, lot: str, serials: range | list[str], prefix: str = "B") -> Path:
    path = folder / f"{name}.csv"
    path.write_text("gtin,serial,lot\n" + "".join(f"{HONEY_GTIN},{prefix}{n},{lot}\n" for n in serials))
    return path


def _lot(s: StandIn, folder: Path, code: str) -> None:
    metadata = folder / f"{code}.json"
    metadata.write_text('{"product": "Acacia honey 500 g", "origin": "RO"}')
    s.sign("brand", "lot", "create", "--gtin", HONEY_GTIN, "--lot", code, "--metadata", str(metadata))


def _spawn(s: StandIn, alias: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "supplytrace.cli", *args, "--account", alias, "--network", SEPOLIA],
        env=s.env(alias), cwd=s.project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _registered(s: StandIn, lot: str) -> list[str]:
    """The serial of every item registered into ``lot`` (the registry refuses a second
    registration of an item, so what matters is that none is missing)."""
    return s.lot_serials(HONEY_GTIN, lot)


def test_register_batch__three_processes_one_account__all_exit_0_each_item_once(
    deployed: StandIn, tmp_path: Path
) -> None:
    s = deployed
    _lot(s, tmp_path, "CONC-1")
    files = [_csv(tmp_path, f"part{n}", "CONC-1", range(n * 100, n * 100 + 100)) for n in range(3)]
    runs = [_spawn(s, "brand", "register-batch", str(f), "--yes") for f in files]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "Traceback" not in err
    serials = _registered(s, "CONC-1")
    assert sorted(serials) == sorted(f"B{n}" for n in range(300))


def test_register_batch__same_csv_in_two_processes__both_exit_0_each_item_once(
    deployed: StandIn, tmp_path: Path
) -> None:
    s = deployed
    _lot(s, tmp_path, "CONC-2")
    rows = _csv(tmp_path, "same", "CONC-2", range(200), prefix="D")
    first = _spawn(s, "brand", "register-batch", str(rows), "--yes", "--receipt", str(tmp_path / "r1.csv"))
    second = _spawn(s, "brand", "register-batch", str(rows), "--yes", "--receipt", str(tmp_path / "r2.csv"))
    for run in (first, second):
        _out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    assert sorted(_registered(s, "CONC-2")) == sorted(f"D{n}" for n in range(200))


def test_merchant_flow__1000_items_unattended__every_item_registered_and_moved_once(
    deployed: StandIn, tmp_path: Path
) -> None:
    """The issue's acceptance run: register-batch, offer --lot of 1,000 items (more gas than one
    transaction may use), accept --lot, a signed handoff of the lot, sales; stdin closed."""
    from supplytrace.chain.reads import RegistryReads
    from supplytrace.chain.rpc import Rpc
    from supplytrace.core import deployments

    s = deployed
    _lot(s, tmp_path, "FLOW-1000")
    serials = [f"F{n}" for n in range(1000)]
    s.sign("brand", "register-batch", str(_csv(tmp_path, "flow", "FLOW-1000", serials, prefix="")), "--yes")
    lot = f"{HONEY_GTIN}:FLOW-1000"
    s.sign("brand", "offer", "--lot", lot, "--to", s.address("distributor"), "--yes")
    s.sign("distributor", "accept", "--lot", lot, "--yes")
    acceptance = tmp_path / "acceptance.txt"
    s.sign(
        "retailer",
        "sign-acceptance",
        "--lot",
        lot,
        "--from",
        s.address("distributor"),
        "--output",
        str(acceptance),
    )
    s.sign("distributor", "handoff", str(acceptance), "--yes")
    s.sign("retailer", "sell", _item_in("FLOW-1000", "F0"), _item_in("FLOW-1000", "F999"), "--yes")

    record = deployments.load(s.project / "deployments", "ethereum", "sepolia")
    reads = RegistryReads(Rpc(s.node_url), record.address)
    assert sorted(_registered(s, "FLOW-1000")) == sorted(serials)
    items = [ItemKey.create(HONEY_GTIN, serial, "FLOW-1000").id for serial in serials]
    records = [reads.item(i) for i in items]
    assert {r.custodian for r in records} == {s.address("retailer")}
    # offer+accept and the signed handoff: each item's custody moved exactly twice
    assert {r.custody_nonce for r in records} == {2}
    assert sum(r.status.name == "SOLD" for r in records) == 2


def _item_in(lot: str, serial: str) -> str:
    return ItemKey.create(HONEY_GTIN, serial, lot).digital_link("https://id.example.com")
