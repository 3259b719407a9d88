"""Deployment records: ``deployments/<ecosystem>-<network>.json``, one per network.

Later commands find the registry there; addresses never live in code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from supplytrace.core.errors import SupplytraceError


class DeploymentError(SupplytraceError):
    """No usable deployment record; the message says what to do."""


@dataclass(frozen=True)
class Deployment:
    ecosystem: str
    network: str
    chain_id: int
    address: str
    tx_hash: str
    block: int
    deployer: str
    admin: str
    compiler: str
    runtime_bytecode_keccak: str
    deployed_at: str

    @property
    def key(self) -> str:
        return f"{self.ecosystem}-{self.network}"


def record_path(folder: Path, ecosystem: str, network: str) -> Path:
    return folder / f"{ecosystem}-{network}.json"


def load(folder: Path, ecosystem: str, network: str) -> Deployment:
    path = record_path(folder, ecosystem, network)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeploymentError(
            f"no deployment is recorded for {ecosystem}:{network} ({path} is missing). "
            f"Run `supplytrace deploy --network {ecosystem}:{network}` first."
        ) from None
    except json.JSONDecodeError as exc:
        raise DeploymentError(
            f"{path} is not valid JSON ({exc.msg}); restore it from version control."
        ) from None
    try:
        return Deployment(**data)
    except TypeError:
        raise DeploymentError(
            f"{path} is not a deployment record (expected the fields written by `supplytrace deploy`); "
            "restore it from version control or deploy again with --force."
        ) from None


def save(folder: Path, deployment: Deployment, *, force: bool = False) -> Path:
    path = record_path(folder, deployment.ecosystem, deployment.network)
    if path.exists() and not force:
        raise DeploymentError(
            f"a deployment is already recorded for {deployment.ecosystem}:{deployment.network} in {path}. "
            "Use --force to deploy a new registry and replace the record."
        )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(deployment), indent=2) + "\n")
    tmp.replace(path)
    return path
