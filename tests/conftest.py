"""Shared fixtures: a fresh ProvenanceRegistry on anvil (ape-foundry) and the cast of a supply chain.

Run through ``ape test`` (the Makefile does), which starts anvil and provides ``accounts``,
``project``, ``chain`` and ``networks`` fixtures. Each test runs in an anvil snapshot that ape
reverts afterwards (function-scoped isolation), so module-scoped deployments are cheap.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ape
import pytest
import solcx
from ape.exceptions import CustomError
from biip.checksums import gs1_standard_check_digit
from eth_utils import is_hex_address, to_checksum_address
from ethpm_types import ContractType
from hypothesis import HealthCheck, settings

from supplytrace.core.handoff import make_request
from supplytrace.core.ids import encode_code, item_id

if TYPE_CHECKING:  # imports web3, which warns when imported before pytest_configure
    from ape.contracts import ContractContainer

HONEY_GTIN = "09506000134352"  # GS1's documentation GTIN, check digit verified
OTHER_GTIN = "09506000134369"
LOT_CODE = "HONEY-2026-A"
METADATA_HASH = b"\x11" * 32
OTHER_LOT_CODE = "HONEY-2026-B"
OTHER_METADATA_HASH = b"\x22" * 32
ZERO_ADDRESS = "0x" + "00" * 20
ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # web3 (imported by ape and by the tests) still imports websockets.legacy.
    config.addinivalue_line("filterwarnings", "ignore:websockets.legacy is deprecated:DeprecationWarning")


#: Profile of the custody state machine (tests/contracts/test_custody_stateful.py).
settings.register_profile(
    "custody-machine",
    max_examples=100,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class ItemStatus(IntEnum):
    """IProvenanceRegistry.ItemStatus."""

    UNKNOWN = 0
    ACTIVE = 1
    SOLD = 2


# ----------------------------------------------------------------------------------------------
# Helpers (plain functions: import them from tests.conftest)
# ----------------------------------------------------------------------------------------------


def with_check_digit(first13: str) -> int:
    """The GTIN-14 (as an integer) whose first 13 digits are ``first13``; check digit from biip."""
    return int(first13 + str(gs1_standard_check_digit(first13)))


#: A valid GTIN nobody owns in the test world (same GS1 company prefix 9506000 as HONEY_GTIN).
UNASSIGNED_GTIN = with_check_digit("0950600077777")


def normalized(value: Any) -> Any:
    """Plain, comparable Python values: checksummed addresses (also for accounts and contracts),
    ``bytes`` for any bytes type, ``int`` for ints, and the same recursively for dicts and lists."""
    if hasattr(value, "address"):
        return to_checksum_address(value.address)
    if isinstance(value, str):
        return to_checksum_address(value) if is_hex_address(value) else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalized(item) for item in value]
    return value


def readable(value: Any) -> Any:
    """``value`` (normalized) with bytes shown as 0x-hex, for failure messages."""
    value = normalized(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value


@contextmanager
def reverts_with(error: type[CustomError], **inputs: Any) -> Iterator[None]:
    """Asserts that the block reverts with the custom error ``error`` carrying exactly ``inputs``
    (every argument of the error, by name). Stricter than ``ape.reverts(Error, **inputs)``, which
    silently skips misspelled or missing argument names.

    Reverting *view* calls are not decoded by ape: call them with ``.transact(..., sender=...)``.
    """
    expected = (error.__name__, normalized(inputs))
    try:
        yield
    except CustomError as exc:
        actual = (type(exc).__name__, normalized(dict(exc.inputs)))
        assert actual == expected, f"expected revert {readable(expected)}, got {readable(actual)}"
    else:
        raise AssertionError(f"did not revert; expected {readable(expected)}")


def assert_emitted(tx: Any, *expected: Any) -> None:
    """Asserts that ``tx`` emitted exactly ``expected`` (mock logs such as
    ``registry.ItemSold(item, seller)``), in order, each with exactly these arguments, and no
    other log at all."""

    def key(log: Any) -> tuple[str, str, Any]:
        return normalized(log.contract_address), log.event_name, normalized(dict(log.event_arguments))

    assert [key(log) for log in tx.events] == [key(log) for log in expected]
    assert len(tx.logs) == len(expected), "the transaction emitted logs that could not be decoded"


@cache
def compile_test_double(source: Path, name: str) -> ContractContainer:
    """Contract ``name`` of the Solidity file ``source``, compiled with the project's solc settings
    (OpenZeppelin imports resolved from node_modules).

    Test doubles are not taken from ``project.<Name>``: ape scans at most 500 files under
    contracts/, and the OpenZeppelin copy that ape keeps in contracts/.cache can push every source
    but ProvenanceRegistry.sol out of that scan (then ``project.MockERC1271Wallet`` does not exist).
    """
    config = ape.project.config.get_config("solidity")
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {source.name: {"content": source.read_text()}},
            "settings": {
                "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
                "optimizer": {"enabled": config.optimize, "runs": config.optimization_runs},
                "evmVersion": config.evm_version,
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
            },
        },
        solc_version=str(config.version),
        base_path=str(ROOT),
        allow_paths=[str(ROOT)],
    )
    from ape.contracts import ContractContainer

    artifact = output["contracts"][source.name][name]
    contract_type = ContractType(
        contractName=name,
        abi=artifact["abi"],
        deploymentBytecode={"bytecode": "0x" + artifact["evm"]["bytecode"]["object"]},
    )
    return ContractContainer(contract_type)


#: The registry as packaged before the hardening of issue #11 (redesign a5636e8): it accepts any
#: bytes as a serial, lot code or business step, and an empty brand name. Its deployments hold
#: such bytes for good, so every reader must take them; its ABI is a subset of today's.
LEGACY_REGISTRY = ROOT / "tests" / "contracts" / "doubles" / "ProvenanceRegistry-v1.json"


@cache
def legacy_registry() -> ContractContainer:
    """A container of :data:`LEGACY_REGISTRY` (deploy it like ``project.ProvenanceRegistry``)."""
    from ape.contracts import ContractContainer

    return ContractContainer(ContractType.model_validate_json(LEGACY_REGISTRY.read_text()))


def item_record(registry: Any, item: bytes) -> dict[str, Any]:
    """``registry.getItem(item)`` as a normalized dict (field name -> value)."""
    return normalized(dict(registry.getItem(item).items()))


def lot_record(registry: Any, lot: int) -> dict[str, Any]:
    """``registry.getLot(lot)`` as a normalized dict (field name -> value)."""
    return normalized(dict(registry.getLot(lot).items()))


def custody(registry: Any, item: bytes) -> tuple[str, str, int]:
    """(custodian, pendingReceiver, custodyNonce) of ``item``."""
    record = item_record(registry, item)
    return record["custodian"], record["pendingReceiver"], record["custodyNonce"]


# ----------------------------------------------------------------------------------------------
# A devnet of a test's own (supplytrace devnet up on a free port, its home in tmp_path)
# ----------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now (never 8545, which the demo's devnet may hold)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 8545:
            return port


@pytest.fixture
def devnet_settings(tmp_path, monkeypatch):
    """Settings for a devnet on a free port with its home in tmp_path; any anvil left running is killed."""
    from supplytrace.core.config import load_settings

    monkeypatch.setenv("SUPPLYTRACE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SUPPLYTRACE_DEPLOYMENTS", str(tmp_path / "deployments"))
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_HOST", "127.0.0.1")
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_PORT", str(free_port()))
    settings = load_settings()
    yield settings
    _kill_started_anvil(settings.home / "devnet" / "anvil.pid")


def _kill_started_anvil(pid_file) -> None:
    """Stop the devnet this test started, by the pid it recorded, and reap it if it is our child.

    ``anvil`` on PATH is npm's node wrapper; it runs the real binary as a child in the same process
    group (devnet.up starts a new session), so the whole group is signalled, or the binary is orphaned.
    """
    import os
    import signal
    import time

    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                try:
                    os.killpg(pid, 0)
                except ProcessLookupError:
                    return
            time.sleep(0.05)


@pytest.fixture
def rpc(chain) -> Iterator[Any]:
    """The package's JSON-RPC client (``supplytrace.chain.rpc.Rpc``) to ape's test node."""
    from supplytrace.chain.rpc import Rpc

    client = Rpc(str(chain.provider.http_uri))
    yield client
    client.close()


@pytest.fixture
def block_gas_limit(chain) -> Iterator[Callable[[int], None]]:
    """block_gas_limit(gas): lower the node's block gas limit (restored afterwards; snapshots don't)."""
    provider = chain.provider
    original = provider.make_request("eth_getBlockByNumber", ["latest", False])["gasLimit"]

    def _set(gas: int) -> None:
        provider.make_request("evm_setBlockGasLimit", [hex(gas)])
        provider.make_request("evm_mine", [])

    yield _set
    provider.make_request("evm_setBlockGasLimit", [original])
    provider.make_request("evm_mine", [])


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def brand(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def distributor(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def retailer(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def rogue(accounts):
    """A second registrar that tries to act on the first brand's goods."""
    return accounts[4]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def registry(project, admin):
    return project.ProvenanceRegistry.deploy(admin, 0, sender=admin)


@pytest.fixture(scope="module")
def registrar_role(registry):
    return registry.REGISTRAR_ROLE()


@pytest.fixture(scope="module")
def setup_brand(registry, registrar_role, admin, brand, rogue):
    """brand owns HONEY_GTIN; rogue is a registrar too and owns OTHER_GTIN."""
    registry.grantRole(registrar_role, brand, sender=admin)
    registry.grantRole(registrar_role, rogue, sender=admin)
    registry.assignGtin(int(HONEY_GTIN), brand, sender=admin)
    registry.assignGtin(int(OTHER_GTIN), rogue, sender=admin)
    return brand


@pytest.fixture(scope="module")
def lot_id(registry, setup_brand, brand):
    registry.registerLot(int(HONEY_GTIN), encode_code(LOT_CODE, "lot code"), METADATA_HASH, sender=brand)
    return registry.lotCount()


@pytest.fixture(scope="module")
def register(registry, lot_id, brand) -> Callable[..., list[bytes]]:
    """register(*serials) -> item ids, registered by the brand into the honey lot."""

    def _register(*serials: str, lot: int | None = None, sender=None) -> list[bytes]:
        registry.registerItems(lot or lot_id, [encode_code(s) for s in serials], sender=sender or brand)
        return [item_id(HONEY_GTIN, s) for s in serials]

    return _register


@pytest.fixture(scope="module")
def sign_handoff(registry, chain) -> Callable[..., bytes]:
    """sign_handoff(signer, items, sender, receiver, deadline, nonces=None) -> 65-byte signature."""

    def _sign(signer, items: Sequence[bytes], sender, receiver, deadline: int, nonces=None) -> bytes:
        if nonces is None:
            nonces = [registry.getItem(i).custodyNonce for i in items]
        request = make_request(
            chain_id=chain.chain_id,
            registry=registry.address,
            items=list(items),
            nonces=list(nonces),
            sender=str(sender),
            receiver=str(receiver),
            deadline=deadline,
        )
        signature = signer.sign_message(request.signable())
        return signature.encode_rsv()

    return _sign


@pytest.fixture(scope="module")
def register_with_codes(registry, lot_id, brand) -> Callable[..., tuple[list[bytes], dict[bytes, str], Any]]:
    """register_with_codes(*serials, lot=None) -> (item ids, code of each id, CodeTree): the
    items registered by the brand with fresh hidden codes committed as one root."""
    from supplytrace.core.codes import CodeTree, leaf, new_code

    def _register(*serials: str, lot: int | None = None):
        ids = [item_id(HONEY_GTIN, s) for s in serials]
        codes = {i: new_code() for i in ids}
        tree = CodeTree.of(leaf(i, c) for i, c in codes.items())
        serial_words = [encode_code(s) for s in serials]
        registry.registerItemsWithCodes(lot or lot_id, serial_words, tree.root, sender=brand)
        return ids, codes, tree

    return _register


@pytest.fixture(scope="module")
def sign_action(registry, chain) -> Callable[..., bytes]:
    """sign_action(signer, kind, item, deadline, **fields) -> 65-byte signature of a relayed
    action (``supplytrace.core.actions``) at the item's current nonce (or ``nonce=``)."""
    from supplytrace.core.actions import SignedAction

    def _sign(
        signer, kind: str, item: bytes, deadline: int, nonce: int | None = None, **fields: Any
    ) -> bytes:
        action = SignedAction(
            kind=kind,  # type: ignore[arg-type]
            chain_id=chain.chain_id,
            registry=registry.address,
            item=item,
            nonce=registry.getItem(item).custodyNonce if nonce is None else nonce,
            deadline=deadline,
            **{k: (str(v) if k in ("to", "sender") else v) for k, v in fields.items()},
        )
        return signer.sign_message(action.signable()).encode_rsv()

    return _sign


@pytest.fixture(scope="module")
def other_lot_id(registry, lot_id, brand) -> int:
    """A second lot of the brand (same GTIN, another lot code)."""
    registry.registerLot(
        int(HONEY_GTIN), encode_code(OTHER_LOT_CODE, "lot code"), OTHER_METADATA_HASH, sender=brand
    )
    return registry.lotCount()


@pytest.fixture
def deadline(chain) -> int:
    """A signature deadline one hour after the next block."""
    return chain.pending_timestamp + 3600


@pytest.fixture
def wallet(retailer):
    """An ERC-1271 contract wallet (contracts/testing/MockERC1271Wallet.sol) owned by the retailer's EOA."""
    container = compile_test_double(ROOT / "contracts/testing/MockERC1271Wallet.sol", "MockERC1271Wallet")
    return container.deploy(retailer, sender=retailer)


@pytest.fixture(scope="module", autouse=True)
def supply_chain(other_lot_id, admin, brand, distributor, retailer, rogue, stranger) -> None:
    """The world every test starts from: brand and rogue are registrars owning HONEY_GTIN and
    OTHER_GTIN, the brand has two empty lots (``lot_id``, ``other_lot_id``).

    Set up before each module's first test, so that ape's snapshot isolation never has to rebase
    module fixtures that a later test would otherwise create."""
