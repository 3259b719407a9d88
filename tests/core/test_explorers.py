"""Explorer links: public explorers per network, the devnet's own page, overrides, unknown networks."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytrace.core import explorers
from supplytrace.core.explorers import (
    KNOWN_EXPLORERS,
    ExplorerConfigError,
    ExplorerLinks,
    ape_config_overrides,
)

RESOLVER = "http://127.0.0.1:8000"
NONE: dict[str, str] = {}  # no overrides: these tests do not depend on the repository's ape-config.yaml
TX = "0x" + "ab" * 32
ADDRESS = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.mark.parametrize(
    ("ecosystem", "network", "base"),
    [
        ("ethereum", "mainnet", "https://etherscan.io"),
        ("ethereum", "sepolia", "https://sepolia.etherscan.io"),
        ("ethereum", "holesky", "https://holesky.etherscan.io"),
        ("base", "sepolia", "https://sepolia.basescan.org"),
        ("arbitrum", "sepolia", "https://sepolia.arbiscan.io"),
        ("optimism", "sepolia", "https://sepolia-optimism.etherscan.io"),
        ("polygon", "amoy", "https://amoy.polygonscan.com"),
    ],
)
def test_for_network__public_network__etherscan_family_links(ecosystem: str, network: str, base: str) -> None:
    links = ExplorerLinks.for_network(ecosystem, network, resolver=RESOLVER, overrides=NONE)

    assert links.tx(TX) == f"{base}/tx/{TX}"
    assert links.address(ADDRESS) == f"{base}/address/{CHECKSUMMED}"


def test_known_explorers__every_network__named_as_ape_and_evmchains_name_it() -> None:
    from ape_ethereum.ecosystem import NETWORKS
    from evmchains import PUBLIC_CHAIN_META

    for ecosystem, network in KNOWN_EXPLORERS:
        if ecosystem == "ethereum":
            assert network in NETWORKS
        else:
            assert network in PUBLIC_CHAIN_META[ecosystem]


@pytest.mark.parametrize("ecosystem", ["ethereum", "base"])
def test_for_network__local_devnet__links_to_the_resolver_page(ecosystem: str) -> None:
    links = ExplorerLinks.for_network(ecosystem, "local", resolver=RESOLVER + "/", overrides=NONE)

    assert links.tx(TX) == f"{RESOLVER}/tx/{TX}"
    assert links.address(ADDRESS) == f"{RESOLVER}/address/{CHECKSUMMED}"


@pytest.mark.parametrize(("ecosystem", "network"), [("ethereum", "sepolia-fork"), ("gnosis", "chiado")])
def test_for_network__unknown_network__links_are_none(ecosystem: str, network: str) -> None:
    links = ExplorerLinks.for_network(ecosystem, network, resolver=RESOLVER, overrides=NONE)

    assert links.base is None
    assert links.tx(TX) is None
    assert links.address(ADDRESS) is None


def test_for_network__override__replaces_table_and_devnet_page() -> None:
    overrides = {
        "ethereum:sepolia": "https://my-explorer.example/",
        "ethereum:local": "http://localhost:5100",
    }

    sepolia = ExplorerLinks.for_network("ethereum", "sepolia", resolver=RESOLVER, overrides=overrides)
    local = ExplorerLinks.for_network("ethereum", "local", resolver=RESOLVER, overrides=overrides)
    mainnet = ExplorerLinks.for_network("ethereum", "mainnet", resolver=RESOLVER, overrides=overrides)

    assert sepolia.tx(TX) == f"https://my-explorer.example/tx/{TX}"
    assert local.address(ADDRESS) == f"http://localhost:5100/address/{CHECKSUMMED}"
    assert mainnet.tx(TX) == f"https://etherscan.io/tx/{TX}"


def test_tx__hash_as_bytes_or_upper_case__same_link() -> None:
    links = ExplorerLinks.for_network("ethereum", "sepolia", resolver=RESOLVER, overrides=NONE)

    assert links.tx(bytes.fromhex("ab" * 32)) == links.tx(TX.upper().replace("0X", "0x")) == links.tx(TX)


@pytest.mark.parametrize("bad", ["0x1234", "ab" * 32, "0x" + "zz" * 32, "0x" + "ab" * 32 + "/../x"])
def test_tx__not_a_hash__raises(bad: str) -> None:
    with pytest.raises(ValueError, match="not a transaction hash"):
        ExplorerLinks.for_network("ethereum", "sepolia", resolver=RESOLVER, overrides=NONE).tx(bad)


def test_address__not_an_address__raises() -> None:
    with pytest.raises(ValueError):
        ExplorerLinks.for_network("ethereum", "sepolia", resolver=RESOLVER, overrides=NONE).address("0x1234")


def _ape_project(folder: Path, section: str) -> Path:
    (folder / "ape-config.yaml").write_text(f"name: explorer-test\n{section}")
    return folder


def test_ape_config_overrides__section_in_ape_config__honoured(tmp_path: Path) -> None:
    project = _ape_project(
        tmp_path,
        "supplytrace:\n  explorers:\n    ethereum:sepolia: https://my-explorer.example\n",
    )

    overrides = ape_config_overrides(project)
    sepolia = ExplorerLinks.for_network("ethereum", "sepolia", resolver=RESOLVER, overrides=overrides)

    assert overrides == {"ethereum:sepolia": "https://my-explorer.example"}
    assert sepolia.tx(TX) == f"https://my-explorer.example/tx/{TX}"


def test_for_network__overrides_not_given__read_from_the_current_ape_project(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(explorers, "ape_config_overrides", lambda: {"ethereum:sepolia": "https://o.example"})

    links = ExplorerLinks.for_network("ethereum", "sepolia", resolver=RESOLVER)

    assert links.tx(TX) == f"https://o.example/tx/{TX}"
    assert isinstance(ape_config_overrides(), dict)  # the repository's own ape-config.yaml parses


def test_ape_config_overrides__no_section__empty(tmp_path: Path) -> None:
    assert ape_config_overrides(_ape_project(tmp_path, "")) == {}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("supplytrace:\n  explorers:\n    sepolia: https://x.example\n", "ecosystem:network"),
        ("supplytrace:\n  explorers:\n    ethereum:sepolia: ftp://x.example\n", "http"),
        ("supplytrace:\n  explorers:\n    ethereum:sepolia: 42\n", "must be a URL"),
        ("supplytrace:\n  explorers: [https://x.example]\n", "must map"),
    ],
)
def test_ape_config_overrides__malformed__raises_with_the_fix(
    tmp_path: Path, section: str, message: str
) -> None:
    with pytest.raises(ExplorerConfigError, match=message):
        ape_config_overrides(_ape_project(tmp_path, section))
