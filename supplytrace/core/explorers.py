"""Block-explorer links for transactions and addresses (a contract is an address), per network.

Networks are keyed by ``(ecosystem, network)`` as ape names them (``ape_ethereum`` for Ethereum,
``evmchains`` for the L2s: ``("base", "sepolia")``, ``("polygon", "amoy")``...). The built-in
table covers Ethereum mainnet, Sepolia and Holesky, and mainnet plus the main testnet of Base,
Arbitrum, Optimism and Polygon, each on its Etherscan-family explorer. On a ``local`` network
(the devnet) links point to the project's own verification page on the resolver,
``{SUPPLYTRACE_RESOLVER}/tx/{hash}`` and ``/address/{address}``, since no public explorer has
seen that chain. A network that is in neither place gets a builder whose links are ``None``,
so callers simply leave links out (forks, custom networks).

Any network's explorer can be replaced in ``ape-config.yaml`` with any explorer that uses the
common ``/tx/{hash}`` and ``/address/{address}`` paths (Etherscan, Blockscout, Otterscan, ...)::

    supplytrace:
      explorers:
        ethereum:sepolia: https://my-explorer.example

The section is read from the project's ``ape-config.yaml`` as YAML (:func:`ape_config_overrides`),
the same section ape 0.8 hands out as ``get_config("supplytrace")``, without starting ape: commands
that only read never import it.

Why not the ``ape-etherscan`` plugin: its job is explorer *API* calls (contract verification,
ABI and history queries), which need network access and API keys, and it brings its own
dependencies. A link is one string format; building it here works offline, in tests and on
the devnet, and an unknown network degrades to "no link" instead of an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.hashing import checksum
from supplytrace.core.networks import LOCAL_NETWORK

#: The top-level ``ape-config.yaml`` section this module reads (key ``explorers``).
CONFIG_SECTION = "supplytrace"

#: Public explorers (Etherscan family), the first one ``evmchains`` lists for each network.
KNOWN_EXPLORERS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("ethereum", "mainnet"): "https://etherscan.io",
        ("ethereum", "sepolia"): "https://sepolia.etherscan.io",
        ("ethereum", "holesky"): "https://holesky.etherscan.io",
        ("base", "mainnet"): "https://basescan.org",
        ("base", "sepolia"): "https://sepolia.basescan.org",
        ("arbitrum", "mainnet"): "https://arbiscan.io",
        ("arbitrum", "sepolia"): "https://sepolia.arbiscan.io",
        ("optimism", "mainnet"): "https://optimistic.etherscan.io",
        ("optimism", "sepolia"): "https://sepolia-optimism.etherscan.io",
        ("polygon", "mainnet"): "https://polygonscan.com",
        ("polygon", "amoy"): "https://amoy.polygonscan.com",
    }
)

_TX_HASH = re.compile(r"0x[0-9a-f]{64}")


class ExplorerConfigError(SupplytraceError, ValueError):
    """An explorer override (``supplytrace.explorers`` in ape-config.yaml) is malformed."""


@dataclass(frozen=True)
class ExplorerLinks:
    """Link builder for one network; ``base`` is ``None`` when the network has no explorer."""

    ecosystem: str
    network: str
    base: str | None

    @classmethod
    def for_network(
        cls,
        ecosystem: str,
        network: str,
        *,
        resolver: str,
        overrides: Mapping[str, str] | None = None,
    ) -> ExplorerLinks:
        """The links of ``ecosystem:network``: an override, else the devnet page, else the table.

        ``resolver`` is the Digital Link resolver base (``SUPPLYTRACE_RESOLVER``) that serves
        the verification page for the local network. ``overrides`` maps ``"ecosystem:network"``
        to an explorer base URL; ``None`` (the default) reads them from the current
        project's ``ape-config.yaml`` (:func:`ape_config_overrides`), ``{}`` means none.
        """
        if overrides is None:
            overrides = ape_config_overrides()
        override = overrides.get(f"{ecosystem}:{network}")
        if override is not None:
            base: str | None = override
        elif network == LOCAL_NETWORK:
            base = resolver
        else:
            base = KNOWN_EXPLORERS.get((ecosystem, network))
        return cls(ecosystem, network, None if base is None else _check_base(base, f"{ecosystem}:{network}"))

    def tx(self, tx_hash: str | bytes) -> str | None:
        """The page of a transaction, or ``None`` if the network has no explorer."""
        return self._link("tx", _normalize_tx_hash(tx_hash))

    def address(self, address: str) -> str | None:
        """The page of an account or contract (checksummed), or ``None`` without an explorer."""
        return self._link("address", checksum(address))

    def _link(self, kind: str, value: str) -> str | None:
        return None if self.base is None else f"{self.base}/{kind}/{value}"


def ape_config_overrides(project_path: str | Path | None = None) -> dict[str, str]:
    """``supplytrace.explorers`` of the project at ``project_path`` (default: the current one,
    :func:`supplytrace.core.config.project_root`), read from its ``ape-config.yaml``.

    Returns ``{"ecosystem:network": base_url}``; empty when the file or the section is absent.
    """
    import yaml

    from supplytrace.core.config import project_root

    path = Path(project_path or project_root()) / "ape-config.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ExplorerConfigError(f"{path} cannot be read as YAML ({exc}); fix the file.") from None
    section = config.get(CONFIG_SECTION) if isinstance(config, Mapping) else None
    explorers = (section.get("explorers") if isinstance(section, Mapping) else None) or {}
    where = f"{CONFIG_SECTION}.explorers in ape-config.yaml"
    if not isinstance(explorers, Mapping):
        raise ExplorerConfigError(f"{where} must map 'ecosystem:network' to an explorer URL.")
    overrides: dict[str, str] = {}
    for choice, base in explorers.items():
        if not (isinstance(choice, str) and re.fullmatch(r"[\w-]+:[\w-]+", choice)):
            raise ExplorerConfigError(
                f"{where}: key {choice!r} must name a network as ecosystem:network, e.g. ethereum:sepolia."
            )
        if not isinstance(base, str):
            raise ExplorerConfigError(
                f"{where}: {choice} must be a URL such as https://sepolia.etherscan.io."
            )
        overrides[choice] = _check_base(base, choice)
    return overrides


def _check_base(base: str, choice: str) -> str:
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ExplorerConfigError(
            f"explorer for {choice}: {base!r} must be an http(s) URL such as https://sepolia.etherscan.io "
            "(a path prefix is allowed; no query string)."
        )
    return base.strip().rstrip("/")


def _normalize_tx_hash(tx_hash: str | bytes) -> str:
    text = "0x" + bytes(tx_hash).hex() if isinstance(tx_hash, bytes | bytearray) else tx_hash.strip().lower()
    if not _TX_HASH.fullmatch(text):
        raise ValueError(f"{tx_hash!r} is not a transaction hash: expected 0x followed by 64 hex digits.")
    return text
