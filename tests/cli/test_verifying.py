"""`supplytrace verify-deployment` on the module's devnet: the deployed registry is what the
checkout's sources compile to; a registry compiled from changed sources is not.

Each check compiles the registry with solc-js (twice, more for a partial match), so the cases
share one devnet and one deployment folder, and the two changed copies compile at the same time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.core import deployments, sources
from supplytrace.core.deployments import EXACT_MATCH, MATCH, MISMATCH
from supplytrace.core.hashing import checksum, keccak
from tests.cli.conftest import ADMIN, Cli

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "contracts/ProvenanceRegistry.sol"


def _record(cli: Cli) -> deployments.Deployment:
    return deployments.load(Path(cli.env["SUPPLYTRACE_DEPLOYMENTS"]), "ethereum", "local")


def _verify(cli: Cli) -> tuple[subprocess.CompletedProcess[str], float]:
    """`supplytrace verify-deployment` (whatever its exit status) and how long it took."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "supplytrace.cli", "verify-deployment"],
        env=cli.env,
        cwd=cli.workdir,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    return result, time.monotonic() - started


#: The changed copies the cases deploy: (text in ProvenanceRegistry.sol, its replacement).
CHANGED_CODE = (
    "uint8 private constant _MIN_PREFIX_LENGTH = 4;",
    "uint8 private constant _MIN_PREFIX_LENGTH = 5;",
)
CHANGED_COMMENT = ("// GTIN-14 has 14 digits", "// a GTIN-14 has 14 digits")


def _start_compile(tmp: Path, old: str, new: str) -> subprocess.Popen[str]:
    """solc-js (the project's settings) started on a copy of the sources in which ``old`` is
    replaced by ``new`` in ProvenanceRegistry.sol; :func:`_creation_code` reads its answer."""
    shutil.copytree(ROOT / "contracts", tmp / "contracts", ignore=shutil.ignore_patterns(".cache"))
    config = (ROOT / "ape-config.yaml").read_text()
    (tmp / "ape-config.yaml").write_text(config.replace("local: .deps/", f"local: {ROOT}/.deps/"))
    source = tmp / REGISTRY
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new, 1))
    solidity = sources.solidity_config(tmp)
    solc = ROOT / ".solc" / f"solc-v{solidity.version}"
    process = subprocess.Popen(
        [str(solc), "--standard-json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(sources.standard_input(solidity)))
    process.stdin.close()
    return process


def _creation_code(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    output = process.stdout.read()
    assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    contract = json.loads(output)["contracts"][REGISTRY]["ProvenanceRegistry"]
    return "0x" + contract["evm"]["bytecode"]["object"]


@pytest.fixture(scope="module")
def changed_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """The registry's creation code compiled from each changed copy of the sources: both
    compilations at once (solc-js is single-threaded; this machine has two cores)."""
    started = {
        change: _start_compile(tmp_path_factory.mktemp("changed"), *change)
        for change in (CHANGED_CODE, CHANGED_COMMENT)
    }
    return {change: _creation_code(process) for change, process in started.items()}


def deploy_and_record(cli: Cli, creation_code: str) -> deployments.Deployment:
    """Deploy ``creation_code`` (constructor: ADMIN, delay 0) from anvil's unlocked ADMIN and make
    it the module's deployment record, as `supplytrace deploy --force` would."""
    rpc = Rpc(f"http://127.0.0.1:{cli.env['SUPPLYTRACE_DEVNET_PORT']}")
    arguments = ADMIN[2:].lower().rjust(64, "0") + "0" * 64
    tx_hash = rpc.request("eth_sendTransaction", [{"from": ADMIN, "data": creation_code + arguments}])
    receipt = None
    while receipt is None:
        receipt = rpc.request("eth_getTransactionReceipt", [tx_hash])
    address = receipt["contractAddress"]
    code = rpc.request("eth_getCode", [address, "latest"])
    record = replace(
        _record(cli),
        address=address,
        tx_hash=tx_hash,
        block=hex_int(receipt["blockNumber"]),
        runtime_bytecode_keccak="0x" + keccak(bytes.fromhex(code[2:])).hex(),
        source_check=None,
    )
    deployments.save(Path(cli.env["SUPPLYTRACE_DEPLOYMENTS"]), record, force=True)
    return record


@pytest.fixture(scope="module")
def deployed_registry(cli: Cli) -> Cli:
    cli.run("deploy", "--account", "TEST::0")
    return cli


def test_deploy__verify_on_the_devnet__full_match_and_nothing_published(deployed_registry: Cli) -> None:
    result = deployed_registry.run("deploy", "--account", "TEST::0", "--force", "--verify", timeout=600)
    assert "registry deployed at" in result.stdout
    assert "full match (exact, metadata included)" in result.stdout
    assert "not published: Sourcify and the explorers do not know a local network." in result.stderr
    check = _record(deployed_registry).source_check
    assert check is not None and check.match == EXACT_MATCH


def test_verify_deployment__deployed_registry__full_match_recorded(deployed_registry: Cli) -> None:
    result, seconds = _verify(deployed_registry)
    assert result.returncode == 0, result.stderr
    assert "full match (exact, metadata included)" in result.stdout
    check = _record(deployed_registry).source_check
    assert check is not None and check.match == EXACT_MATCH and check.creation_match == EXACT_MATCH
    assert check.compiler.startswith("0.8.37+commit.")
    assert check.sources_commit and len(check.sources_commit.split("+")[0]) == 40
    print(f"verify-deployment (full match) took {seconds:.1f} s")  # shown with -s


def test_verify_deployment__registry_from_changed_code__mismatch_exit_1(
    deployed_registry: Cli, changed_builds: dict[tuple[str, str], str]
) -> None:
    record = deploy_and_record(deployed_registry, changed_builds[CHANGED_CODE])
    result, seconds = _verify(deployed_registry)
    print(f"verify-deployment (mismatch) took {seconds:.1f} s")
    assert result.returncode == 1, result.stderr
    sentence = f"MISMATCH: the code at {checksum(record.address)} is not what these sources compile to"
    assert sentence in result.stdout
    assert "Traceback" not in result.stderr
    check = _record(deployed_registry).source_check
    assert check is not None and check.match == MISMATCH and not check.verified


def test_verify_deployment__registry_from_changed_comment__partial_match_exit_0(
    deployed_registry: Cli, changed_builds: dict[tuple[str, str], str]
) -> None:
    deploy_and_record(deployed_registry, changed_builds[CHANGED_COMMENT])
    result, seconds = _verify(deployed_registry)
    print(f"verify-deployment (partial match) took {seconds:.1f} s")
    assert result.returncode == 0, result.stderr
    assert "partial match (same code, different metadata)" in result.stdout
    check = _record(deployed_registry).source_check
    assert check is not None and check.match == MATCH and check.verified
