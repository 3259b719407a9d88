"""Deployment records: ``deployments/<ecosystem>-<network>.json``, one per network.

Later commands find the registry there; addresses never live in code. ``source_check`` is the
last result of ``supplytrace verify-deployment`` (:class:`SourceCheck`), absent until it ran; a
new deployment (``deploy --force``) starts without one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from supplytrace.core.errors import SupplytraceError


class DeploymentError(SupplytraceError):
    """No usable deployment record; the message says what to do."""


#: The matches of ``supplytrace verify-deployment``, as Sourcify names them (its API v2).
EXACT_MATCH = "exact_match"  # the same bytecode and the same metadata hash
MATCH = "match"  # the same bytecode, different metadata (comments, file names, settings)
MISMATCH = "mismatch"  # not what the sources compile to


@dataclass(frozen=True)
class SourceCheck:
    """When the code at the registry's address was compared with the sources, and what matched."""

    match: str  # EXACT_MATCH, MATCH or MISMATCH (the runtime code)
    creation_match: str | None  # the same for the creation transaction, None if not checked
    checked_at: str  # UTC, ISO 8601
    sources_commit: str | None  # git commit of the sources compiled, "+dirty" if they had changes
    compiler: str  # the solc version compiled with, e.g. 0.8.37+commit.f401782d

    @property
    def verified(self) -> bool:
        return self.match in (EXACT_MATCH, MATCH)


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
    source_check: SourceCheck | None = None

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
        check = data.pop("source_check", None) if isinstance(data, dict) else None
        return Deployment(**data, source_check=SourceCheck(**check) if check else None)
    except TypeError:
        raise DeploymentError(
            f"{path} is not a deployment record (expected the fields written by `supplytrace deploy`); "
            "restore it from version control or deploy again with --force."
        ) from None


def with_source_check(folder: Path, deployment: Deployment, check: SourceCheck) -> Deployment:
    """Record ``check`` in ``deployment``'s record (rewritten whole) and return the new record."""
    updated = replace(deployment, source_check=check)
    save(folder, updated, force=True)
    return updated


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
