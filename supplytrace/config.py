"""Settings from environment variables prefixed ``SUPPLYTRACE_`` (all optional).

| variable                      | default                     | meaning                                   |
|-------------------------------|-----------------------------|-------------------------------------------|
| SUPPLYTRACE_HOME              | ``.supplytrace`` (in cwd)   | devnet state, logs, metadata, index       |
| SUPPLYTRACE_DEPLOYMENTS       | ``deployments`` (in cwd)    | one JSON file per network with an address |
| SUPPLYTRACE_DEVNET_HOST       | ``127.0.0.1``               | devnet (anvil) listen address             |
| SUPPLYTRACE_DEVNET_PORT       | ``8545``                    | devnet port (must match ape-config.yaml)  |
| SUPPLYTRACE_DEVNET_CHAIN_ID   | ``1337``                    | devnet chain id (ape's local network id)  |
| SUPPLYTRACE_RESOLVER          | ``http://127.0.0.1:8000``   | GS1 Digital Link resolver base for QR URIs |
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
