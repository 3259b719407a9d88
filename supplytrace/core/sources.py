"""The registry's sources as the compiler saw them: the solc settings of ``ape-config.yaml`` and
the standard-JSON input that reproduces ape's build byte for byte, metadata hash included.

``ape-config.yaml`` is the one place the compiler settings live (the Makefile reads the version
from it too); :func:`solidity_config` reads its ``solidity`` and ``dependencies`` sections
without starting ape. :func:`standard_input` rebuilds what ape-solidity 0.8 hands solc:

- source unit names relative to the project (``contracts/ProvenanceRegistry.sol``);
- a dependency's files under ``<contracts_folder>/.cache/<name>/<version>/``, where ape copies
  them (ours come from ``.deps/`` as ``make install`` lays them out), and each import remapping
  ``prefix=<name>/<version>`` pointing there, as ape rewrites it;
- the optimizer, its runs and the EVM version; only the remappings the sources use.

solc hashes the metadata (the compiler version, these settings and the keccak256 of every
source it read) into the bytecode, so the same input gives the same bytes, and a source that
differs in one character gives different metadata, or different code.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supplytrace.core.errors import SupplytraceError

#: The public Sourcify server ``deploy --verify`` publishes the sources to (``--sourcify-server``).
SOURCIFY_SERVER = "https://sourcify.dev/server"

#: The contract a deployment holds, as ``(source unit, contract name)``.
REGISTRY_TARGET = ("contracts/ProvenanceRegistry.sol", "ProvenanceRegistry")

_IMPORT = re.compile(r"^\s*import\b[^;]*?[\"']([^\"']+)[\"'][^;]*;", re.MULTILINE)


class SourcesError(SupplytraceError):
    """The sources or ``ape-config.yaml`` cannot be read as this module expects."""


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    folder: Path  # where the dependency's .sol files are, laid out as their source units


@dataclass(frozen=True)
class SolidityConfig:
    """``solidity`` of ``ape-config.yaml``: version ``0.8.37``, EVM version, optimizer runs, and
    the IR pipeline (``via_ir``)."""

    project: Path
    version: str
    evm_version: str | None
    optimize: bool
    runs: int
    contracts_folder: str
    remappings: tuple[tuple[str, str], ...]  # (prefix, source unit prefix) as ape rewrites them
    dependencies: tuple[tuple[str, Dependency], ...]  # (source unit prefix, dependency)
    via_ir: bool = False

    def settings(self) -> dict[str, Any]:
        """solc's ``settings`` (without ``outputSelection`` and ``remappings``)."""
        settings: dict[str, Any] = {"optimizer": {"enabled": self.optimize, "runs": self.runs}}
        if self.evm_version:
            settings["evmVersion"] = self.evm_version
        if self.via_ir:
            settings["viaIR"] = True
        return settings


def solidity_config(project: Path) -> SolidityConfig:
    """The compiler settings of the project at ``project`` (its ``ape-config.yaml``)."""
    import yaml

    path = project / "ape-config.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SourcesError(
            f"{path} cannot be read ({exc}); run this from the supplytrace checkout."
        ) from None
    solidity = config.get("solidity") if isinstance(config, Mapping) else None
    if not isinstance(solidity, Mapping) or not solidity.get("version"):
        raise SourcesError(f"{path} has no solidity.version; the sources' compiler is unknown.")
    contracts_folder = str(config.get("contracts_folder") or "contracts").strip("/")
    dependencies: list[tuple[str, Dependency]] = []
    for entry in config.get("dependencies") or []:
        if not (isinstance(entry, Mapping) and entry.get("local") and entry.get("name")):
            continue  # only local dependencies can be read offline
        override = entry.get("config_override") or {}
        folder = project / str(entry["local"]) / str(override.get("contracts_folder") or "contracts")
        dependency = Dependency(str(entry["name"]), str(entry["version"]), folder.resolve())
        unit_prefix = f"{contracts_folder}/.cache/{dependency.name}/{dependency.version}"
        dependencies.append((unit_prefix, dependency))
    remappings: list[tuple[str, str]] = []
    for remapping in solidity.get("import_remapping") or []:
        prefix, _, target = str(remapping).partition("=")
        target = target.strip("/")
        if any(target == f"{d.name}/{d.version}" for _, d in dependencies):
            target = f"{contracts_folder}/.cache/{target}"
        remappings.append((prefix.rstrip("/"), target))
    return SolidityConfig(
        project=project,
        version=str(solidity["version"]),
        evm_version=solidity.get("evm_version"),
        optimize=bool(solidity.get("optimize", True)),
        runs=int(solidity.get("optimization_runs", 200)),
        contracts_folder=contracts_folder,
        remappings=tuple(remappings),
        dependencies=tuple(dependencies),
        via_ir=bool(solidity.get("via_ir", False)),
    )


def standard_input(config: SolidityConfig, target: str = REGISTRY_TARGET[0]) -> dict[str, Any]:
    """solc's standard-JSON input for source unit ``target`` and everything it imports, read from
    the files now on disk (an ``outputSelection`` for ``target``'s contracts only)."""
    sources: dict[str, dict[str, str]] = {}
    used: set[tuple[str, str]] = set()
    pending = [target]
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_unit(config, unit)
        sources[unit] = {"content": text}
        for imported in _IMPORT.findall(text):
            resolved, remapping = _resolve(config, unit, imported)
            if remapping:
                used.add(remapping)
            pending.append(resolved)
    settings = config.settings()
    if used:
        settings["remappings"] = sorted(f"{prefix}={target_}" for prefix, target_ in used)
    outputs = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]
    settings["outputSelection"] = {target: {"*": outputs}}
    return {"language": "Solidity", "sources": dict(sorted(sources.items())), "settings": settings}


def _resolve(config: SolidityConfig, unit: str, imported: str) -> tuple[str, tuple[str, str] | None]:
    if imported.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(unit), imported)), None
    for prefix, target in config.remappings:
        if imported.startswith(prefix + "/"):
            return target + imported[len(prefix) :], (prefix, target)
    return imported, None


def _read_unit(config: SolidityConfig, unit: str) -> str:
    path = config.project / unit
    for prefix, dependency in config.dependencies:
        if unit.startswith(prefix + "/"):
            path = dependency.folder / unit[len(prefix) + 1 :]
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise SourcesError(
            f"source {unit} is missing ({path}); "
            "run `make install` in the checkout to lay out the dependencies."
        ) from None


def long_version(version: str, artifact_version: str) -> str:
    """``0.8.37+commit.f401782d``: the configured version with the build the artifact names."""
    if artifact_version.split("+")[0] != version:
        raise SourcesError(
            f"ape-config.yaml asks for solc {version}, "
            f"the packaged artifact was built with {artifact_version}; "
            "run `make artifact`."
        )
    return artifact_version
