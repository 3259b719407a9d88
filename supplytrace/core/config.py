"""Settings from environment variables prefixed ``SUPPLYTRACE_`` (all optional), and where a
project's files live.

| variable                    | default                    | meaning                                     |
|-----------------------------|----------------------------|---------------------------------------------|
| SUPPLYTRACE_HOME            | ``<project>/.supplytrace`` | devnet state, logs, metadata, index         |
| SUPPLYTRACE_DEPLOYMENTS     | ``<project>/deployments``  | one JSON file per network with an address   |
| SUPPLYTRACE_DEVNET_HOST     | ``127.0.0.1``              | devnet (anvil) listen address               |
| SUPPLYTRACE_DEVNET_PORT     | ``8545``                   | devnet port                                 |
| SUPPLYTRACE_DEVNET_CHAIN_ID | ``1337``                   | devnet chain id (ape's local network id)    |
| SUPPLYTRACE_RESOLVER        | ``http://127.0.0.1:8000``  | GS1 Digital Link resolver base for QR URIs  |
| SUPPLYTRACE_INDEX_DB        | ``<HOME>/index.db``        | event index: path, sqlite://, postgresql:// |
| SUPPLYTRACE_RPC_TIMEOUT     | ``30``                     | seconds any one JSON-RPC call may take      |
| SUPPLYTRACE_RESOLVER_LINKS  | (none)                     | a brand's resolver links file (TOML, JSON)  |

``<project>`` is the nearest folder, from the current one upwards, that holds ``deployments/``,
``.supplytrace/`` or ``ape-config.yaml`` (so every command works from any folder of a project);
outside any project it is the user's data folder (``$XDG_DATA_HOME/supplytrace``, by default
``~/.local/share/supplytrace``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MARKERS = ("deployments", ".supplytrace", "ape-config.yaml")

#: How `supplytrace serve --background` hands the page its RPC URL: in the environment, since a
#: process's arguments are readable by every local user and public RPC URLs carry API keys.
SERVE_RPC_URL_ENV = "SUPPLYTRACE_SERVE_RPC_URL"


@dataclass(frozen=True)
class Settings:
    home: Path
    deployments: Path
    devnet_host: str
    devnet_port: int
    devnet_chain_id: int
    resolver: str
    project: Path
    rpc_timeout: float = 30.0
    #: A brand's own links (``gs1:certificationInfo``, ...) per GTIN or lot: ``docs/resolver.md``.
    resolver_links: Path | None = None

    @property
    def devnet_url(self) -> str:
        return f"http://{self.devnet_host}:{self.devnet_port}"

    @property
    def metadata_folder(self) -> Path:
        return self.home / "metadata"


def project_root(start: Path | None = None) -> Path:
    """The project the current folder belongs to (see the module documentation)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in _MARKERS):
            return folder
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "supplytrace"


def package_checkout() -> Path | None:
    """The checkout this package runs from (an editable install), or None (a wheel)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").exists() and (root / "contracts").is_dir() else None


def prepare_environment() -> None:
    """Let the CLI run without activating anything: when the package runs from its checkout, use
    the checkout's solc (``.solc/``) and npm tools (``node_modules/.bin``: anvil, cast), from
    whatever folder the command runs in. An installed package uses what is on PATH."""
    checkout = package_checkout()
    if checkout is None:
        return
    solc = checkout / ".solc"
    if "SOLCX_BINARY_PATH" not in os.environ and solc.is_dir():
        os.environ["SOLCX_BINARY_PATH"] = str(solc)
    tools = checkout / "node_modules" / ".bin"
    if tools.is_dir() and str(tools) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([str(tools), os.environ.get("PATH", "")])


def load_settings() -> Settings:
    env = os.environ
    project = project_root()
    home = Path(env["SUPPLYTRACE_HOME"]) if env.get("SUPPLYTRACE_HOME") else project / ".supplytrace"
    deployments = (
        Path(env["SUPPLYTRACE_DEPLOYMENTS"])
        if env.get("SUPPLYTRACE_DEPLOYMENTS")
        else project / "deployments"
    )
    return Settings(
        home=home.resolve(),
        deployments=deployments.resolve(),
        devnet_host=env.get("SUPPLYTRACE_DEVNET_HOST", "127.0.0.1"),
        devnet_port=int(env.get("SUPPLYTRACE_DEVNET_PORT", "8545")),
        devnet_chain_id=int(env.get("SUPPLYTRACE_DEVNET_CHAIN_ID", "1337")),
        resolver=env.get("SUPPLYTRACE_RESOLVER", "http://127.0.0.1:8000"),
        project=project,
        rpc_timeout=float(env.get("SUPPLYTRACE_RPC_TIMEOUT", "30")),
        resolver_links=Path(env["SUPPLYTRACE_RESOLVER_LINKS"])
        if env.get("SUPPLYTRACE_RESOLVER_LINKS")
        else None,
    )
