"""supplytrace.core.abi: the packaged artifact is what the sources compile to."""

from __future__ import annotations

import json

from supplytrace.core import abi
from tests.conftest import ROOT


def test_packaged_artifact__after_ape_compile__equals_the_build():
    build = json.loads((ROOT / ".build" / "__local__.json").read_text())
    built = build["contractTypes"][abi.REGISTRY]
    packaged = abi.artifact()
    assert packaged["abi"] == built["abi"], "the ABI changed: run `make artifact` and commit it"
    assert packaged["deploymentBytecode"] == built["deploymentBytecode"]["bytecode"], "run `make artifact`"
    assert packaged["runtimeBytecode"] == built["runtimeBytecode"]["bytecode"], "run `make artifact`"


def test_signature__tuple_outputs_and_arrays__canonical():
    get_item = abi.entries("function")["getItem"]
    assert abi.signature(get_item) == "getItem(bytes32)"
    assert (
        abi.signature(abi.entries("function")["handoffBatch"])
        == "handoffBatch(bytes32[],address,uint256,bytes)"
    )
    assert abi.canonical_type(get_item["outputs"][0]).startswith("(uint8,address,address,address,uint32,")
