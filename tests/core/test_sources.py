"""supplytrace.core.sources: the standard-JSON input ape's build was compiled from, rebuilt
without ape (what verify-deployment compiles)."""

from __future__ import annotations

import json

import pytest

from supplytrace.core import abi, sources
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def config() -> sources.SolidityConfig:
    return sources.solidity_config(ROOT)


def test_standard_input__repository_sources__settings_of_apes_build(config: sources.SolidityConfig) -> None:
    build = json.loads((ROOT / ".build" / "__local__.json").read_text())
    compiler = next(c for c in build["compilers"] if abi.REGISTRY in c["contractTypes"])
    settings = sources.standard_input(config)["settings"]
    assert {k: v for k, v in settings.items() if k != "outputSelection"} == {
        k: v for k, v in compiler["settings"].items() if k != "outputSelection"
    }
    assert sources.long_version(config.version, abi.artifact()["compiler"]["version"]) == compiler["version"]


def test_standard_input__repository_sources__registry_and_its_imports_by_apes_names(
    config: sources.SolidityConfig,
) -> None:
    units = sources.standard_input(config)["sources"]
    assert "contracts/ProvenanceRegistry.sol" in units and "contracts/types/ItemWord.sol" in units
    ecdsa = "contracts/.cache/openzeppelin/5.7.0/utils/cryptography/ECDSA.sol"
    assert ecdsa in units
    assert "contracts/testing/MockERC1271Wallet.sol" not in units  # not imported by the registry
    path = ROOT / ".deps" / "openzeppelin-contracts" / "utils" / "cryptography" / "ECDSA.sol"
    assert units[ecdsa]["content"] == path.read_text()


def test_long_version__other_version_configured__refused_with_the_fix() -> None:
    with pytest.raises(sources.SourcesError, match="make artifact"):
        sources.long_version("0.8.30", "0.8.37+commit.f401782d")
