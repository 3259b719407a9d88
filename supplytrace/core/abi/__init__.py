"""The compiled registry, shipped with the package: ABI, bytecode and the compiler settings.

``ProvenanceRegistry.json`` is written by ``make artifact`` (``tools/export-artifact.py``) from
ape's build; ``tests/core/test_abi.py`` fails when it differs from what the sources compile to.
Everything that encodes, decodes or deploys reads it from here, so the package needs neither
ape's project nor the checkout.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

REGISTRY = "ProvenanceRegistry"


@cache
def artifact(name: str = REGISTRY) -> dict[str, Any]:
    """The artifact of contract ``name``: ``abi``, ``deploymentBytecode``, ``runtimeBytecode``,
    ``compiler`` (name, version, settings) and ``sourceId``."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def abi(name: str = REGISTRY) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = artifact(name)["abi"]
    return entries


def entries(kind: str, name: str = REGISTRY) -> dict[str, dict[str, Any]]:
    """The ABI entries of one kind (``event``, ``error``, ``function``) by name."""
    return {e["name"]: e for e in abi(name) if e.get("type") == kind}


def canonical_type(param: dict[str, Any]) -> str:
    """The canonical ABI type of a parameter (tuples spelled out, as in signatures)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    """``name(type,type,...)`` of an event, error or function entry."""
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry.get('inputs', []))})"
