"""supplytrace.core.errors: one sentence, with the fix, for every custom error the registry can
revert with (the interface's own and those it inherits from OpenZeppelin)."""

from __future__ import annotations

import re

import pytest
from eth_utils import keccak, to_checksum_address

from supplytrace.core import abi, errors
from supplytrace.core.errors import explain_custom_error
from supplytrace.core.ids import CSET82_TEXT, encode_code
from tests.conftest import HONEY_GTIN, ROOT

INTERFACE = ROOT / "contracts" / "interfaces" / "IProvenanceRegistry.sol"
ZERO = "0x0000000000000000000000000000000000000000"
ALICE = to_checksum_address("0x" + "a1" * 20)
BOB = to_checksum_address("0x" + "b2" * 20)
ITEM = keccak(b"jar")


def interface_errors() -> dict[str, list[tuple[str, str]]]:
    """error name -> [(type, name), ...] parsed from the interface source."""
    found: dict[str, list[tuple[str, str]]] = {}
    for name, params in re.findall(
        r"^\s*error\s+(\w+)\s*\(([^)]*)\)\s*;", INTERFACE.read_text(), re.MULTILINE
    ):
        found[name] = [tuple(p.split()) for p in params.split(",") if p.strip()]  # type: ignore[misc]
    return found


ERRORS = interface_errors()
# Errors the registry inherits from OpenZeppelin (AccessControlDefaultAdminRules, SafeCast).
INHERITED_ERRORS = {
    "AccessControlUnauthorizedAccount": [("address", "account"), ("bytes32", "neededRole")],
    "AccessControlBadConfirmation": [],
    "AccessControlEnforcedDefaultAdminRules": [],
    "AccessControlEnforcedDefaultAdminDelay": [("uint48", "schedule")],
    "AccessControlInvalidDefaultAdmin": [("address", "defaultAdmin")],
    "SafeCastOverflowedUintDowncast": [("uint8", "bits"), ("uint256", "value")],
    "StringTooLong": [("string", "str")],  # EIP712's ShortStrings, constructor only
    "InvalidShortString": [],
}
ALL_ERRORS = {**ERRORS, **INHERITED_ERRORS}


def plausible(kind: str, name: str, index: int):
    """A value ape could decode for a parameter (addresses as checksummed strings, bytes32 as bytes)."""
    if kind == "address":
        return [ALICE, BOB, to_checksum_address("0x" + "c3" * 20)][index]
    if kind == "bytes32":
        return {
            "lotCode": encode_code("LOT-7", "lot code"),
            "serial": encode_code("JAR00001"),
            "bizStep": encode_code("inspecting", "business step"),
        }.get(name, ITEM)
    return {
        "length": 7,
        "prefix": 614141,
        "lotId": 3,
        "deadline": 1_700_000_000,
        "timestamp": 1_700_000_100,
    }.get(name, int(HONEY_GTIN))


def inputs_for(error: str) -> dict:
    return {name: plausible(kind, name, i) for i, (kind, name) in enumerate(ALL_ERRORS[error])}


def test_interface__errors_parsed__the_known_count():
    # 27, then LotNeedsRenewal, InvalidBizStep, EmptyBrandName (issue #11), then InvalidCode,
    # ItemAlreadyClaimed, InvalidCodeRoot (issue #13), then InvalidQuantity, QuantityExceeded,
    # UnitMismatch, OutputExceedsInputs, InvalidSscc, SsccNotOwned, ItemPacked, NotInContainer,
    # NotAnItem, ContainerTooDeep (issue #14)
    assert len(ERRORS) == 43
    assert ERRORS["GtinNotOwned"] == [("uint256", "gtin"), ("address", "account"), ("address", "owner")]
    assert ERRORS["EmptyBatch"] == []


def test_sentences__every_interface_error__has_exactly_one_sentence():
    assert errors.known_errors() == set(ALL_ERRORS)


def test_sentences__every_error_the_compiled_registry_can_raise__covered():
    abi_errors = set(abi.entries("error"))  # the packaged artifact: tests/core/test_abi.py
    assert abi_errors == set(ALL_ERRORS)


@pytest.mark.parametrize("error", sorted(ALL_ERRORS))
def test_explain_custom_error__plausible_inputs__renders_one_sentence(error):
    inputs = inputs_for(error)
    sentence = explain_custom_error(error, inputs)
    assert isinstance(sentence, str)
    assert sentence.endswith(".")
    assert "\n" not in sentence
    assert "{" not in sentence and "None" not in sentence
    for (kind, name), value in zip(ALL_ERRORS[error], inputs.values(), strict=True):
        if kind == "address":
            assert value in sentence, f"{error} does not name its {name} ({value}): {sentence}"
        elif name == "itemId":
            assert "0x" + value.hex() in sentence
        elif name in ("lotCode", "serial"):
            assert repr(value.rstrip(b"\0").decode()) in sentence
        elif name in ("gtin", "lotId", "deadline", "timestamp", "prefix"):
            assert str(value) in sentence


def test_explain_custom_error__lot_needs_renewal__says_how_to_renew():
    sentence = explain_custom_error("LotNeedsRenewal", {"lotId": 3})

    assert sentence is not None and sentence.startswith("lot 3 stopped taking items")
    assert "renewLot" in sentence


@pytest.mark.parametrize(
    ("error", "argument", "what"),
    [("InvalidSerial", "serial", "serial"), ("InvalidLotCode", "lotCode", "lot code")],
)
def test_explain_custom_error__code_outside_cset_82__names_the_character_set(error, argument, what):
    sentence = explain_custom_error(error, {argument: b"JAR 1".ljust(32, b"\0")})

    assert sentence == f"{what} 'JAR 1' must be 1 to 20 characters: {CSET82_TEXT}."


def test_explain_custom_error__hostile_biz_step__rendered_safely():
    sentence = explain_custom_error("InvalidBizStep", {"bizStep": b"in\nspecting\xff".ljust(32, b"\0")})

    assert sentence is not None and "\n" not in sentence
    assert sentence.endswith("(for example 'inspecting').")


def test_explain_custom_error__container_with_its_sscc__named_by_the_sscc_else_its_id():
    args = {"id": b"\1" * 32, "containerId": b"\2" * 32}
    assert "container 0x0202" in explain_custom_error("ItemPacked", args)
    named = explain_custom_error("ItemPacked", {**args, "containerSscc": 95060000000000015})
    assert "is packed in container (00)095060000000000015; move the container" in named
