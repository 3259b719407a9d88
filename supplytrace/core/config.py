"""Settings from environment variables prefixed ``SUPPLYTRACE_`` (all optional).

| variable                      | default                     | meaning                                   |
|-------------------------------|-----------------------------|-------------------------------------------|
| SUPPLYTRACE_HOME              | ``.supplytrace`` (in cwd)   | devnet state, logs, metadata, index       |
| SUPPLYTRACE_DEPLOYMENTS       | ``deployments`` (in cwd)    | one JSON file per network with an address |
| SUPPLYTRACE_DEVNET_HOST       | ``127.0.0.1``               | devnet (anvil) listen address             |
| SUPPLYTRACE_DEVNET_PORT       | ``8545``                    | devnet port (must match ape-config.yaml)  |
| SUPPLYTRACE_DEVNET_CHAIN_ID   | ``1337``                    | devnet chain id (ape's local network id)  |
| SUPPLYTRACE_RESOLVER          | ``http://127.0.0.1:8000``   | GS1 Digital Link resolver base for QR URIs |
| SUPPLYTRACE_INDEX_DB          | ``<HOME>/index.db``         | event index: path, sqlite://, postgresql:// |

``SUPPLYTRACE_INDEX_DB`` is read where the index is opened (``supplytrace.indexer.store``);
``--db`` overrides it for ``index``, ``export-epcis`` and ``serve``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    deployments: Path
    devnet_host: str
    devnet_port: int
    devnet_chain_id: int
    resolver: str

    @property
    def devnet_url(self) -> str:
        return f"http://{self.devnet_host}:{self.devnet_port}"


def prepare_environment(project: Path | None = None) -> None:
    """Let the CLI run from a checkout without activating anything: use the project's own solc
    (``.solc/``, made by ``make install``) and its npm tools (``node_modules/.bin``: anvil, cast)."""
    root = (project or Path.cwd()).resolve()
    solc = root / ".solc"
    if "SOLCX_BINARY_PATH" not in os.environ and solc.is_dir():
        os.environ["SOLCX_BINARY_PATH"] = str(solc)
    tools = root / "node_modules" / ".bin"
    if tools.is_dir() and str(tools) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([str(tools), os.environ.get("PATH", "")])


def load_settings() -> Settings:
    env = os.environ
    return Settings(
        home=Path(env.get("SUPPLYTRACE_HOME", ".supplytrace")).resolve(),
        deployments=Path(env.get("SUPPLYTRACE_DEPLOYMENTS", "deployments")).resolve(),
        devnet_host=env.get("SUPPLYTRACE_DEVNET_HOST", "127.0.0.1"),
        devnet_port=int(env.get("SUPPLYTRACE_DEVNET_PORT", "8545")),
        devnet_chain_id=int(env.get("SUPPLYTRACE_DEVNET_CHAIN_ID", "1337")),
        resolver=env.get("SUPPLYTRACE_RESOLVER", "http://127.0.0.1:8000"),
    )
