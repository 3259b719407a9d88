#!/usr/bin/env python3
"""Write the registry's compiled artifact into the package (supplytrace/core/abi/), from ape's build.

    make artifact        # = ape compile, then this script

The package ships the ABI and bytecode it deploys and reads with (ApePay-style), so that it works
from a wheel, outside this checkout, without ape's project. ``tests/core/test_abi.py`` fails when
the committed artifact differs from what the sources compile to: run ``make artifact`` after
changing a contract.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".build" / "__local__.json"
TARGET = ROOT / "supplytrace" / "core" / "abi"
CONTRACTS = ("ProvenanceRegistry",)


def artifact(manifest: dict, name: str) -> dict:
    contract = manifest["contractTypes"][name]
    compiler = next(c for c in manifest.get("compilers", []) if name in c.get("contractTypes", []))
    return {
        "contractName": name,
        "sourceId": contract["sourceId"],
        "compiler": {
            "name": compiler["name"],
            "version": compiler["version"],
            "settings": {k: v for k, v in compiler["settings"].items() if k != "outputSelection"},
        },
        "abi": contract["abi"],
        "deploymentBytecode": contract["deploymentBytecode"]["bytecode"],
        "runtimeBytecode": contract["runtimeBytecode"]["bytecode"],
    }


def main() -> int:
    if not BUILD.exists():
        print(f"error: {BUILD} is missing; run `make compile` first.", file=sys.stderr)
        return 1
    manifest = json.loads(BUILD.read_text())
    for name in CONTRACTS:
        path = TARGET / f"{name}.json"
        path.write_text(json.dumps(artifact(manifest, name), indent=1, sort_keys=True) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
