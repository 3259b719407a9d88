"""supplytrace.errors: one sentence per contract custom error, checked against real reverts on anvil."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from supplytrace import errors
from supplytrace.errors import explain, explain_custom_error
from supplytrace.ids import encode_code, item_id
from tests.conftest import HONEY_GTIN, LOT_CODE, METADATA_HASH

INTERFACE = Path(__file__).resolve().parents[2] / "contracts" / "interfaces" / "IProvenanceRegistry.sol"
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
        return {"lotCode": encode_code("LOT-7", "lot code"), "serial": encode_code("JAR00001")}.get(
            name, ITEM
        )
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
    assert len(ERRORS) == 27
    assert ERRORS["GtinNotOwned"] == [("uint256", "gtin"), ("address", "account"), ("address", "owner")]
    assert ERRORS["EmptyBatch"] == []


def test_sentences__every_interface_error__has_exactly_one_sentence():
    assert set(errors._SENTENCES) == set(ALL_ERRORS)


def test_sentences__every_error_the_compiled_registry_can_raise__covered(project):
    abi_errors = {e.name for e in project.ProvenanceRegistry.contract_type.errors}
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


def test_explain_custom_error__gtin_not_owned_by_anyone__asks_for_assignment():
    sentence = explain_custom_error(
        "GtinNotOwned", {"gtin": int(HONEY_GTIN), "account": ALICE, "owner": ZERO}
    )
    assert sentence == f"GTIN {HONEY_GTIN} is not yours ({ALICE}); ask the admin to assign it to you."


def test_explain_custom_error__gtin_owned_by_another__names_owner():
    sentence = explain_custom_error("GtinNotOwned", {"gtin": int(HONEY_GTIN), "account": ALICE, "owner": BOB})
    assert sentence == f"GTIN {HONEY_GTIN} is not yours ({ALICE}); it belongs to {BOB}."


def test_explain_custom_error__lot_code_not_ascii__shown_as_hex():
    raw = b"\xff" * 32
    assert (
        explain_custom_error("InvalidLotCode", {"lotCode": raw})
        == f"lot code 0x{raw.hex()} must be 1 to 20 characters."
    )


def test_explain_custom_error__account_object__rendered_by_address():
    class Account:
        address = ALICE

    sentence = explain_custom_error("NotRegistrar", {"account": Account()})
    assert sentence is not None and sentence.startswith(f"{ALICE} is not a registered brand")


def test_explain_custom_error__unknown_name__returns_none():
    assert explain_custom_error("SomeoneElsesError", {"x": 1}) is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("insufficient funds for gas * price + value", "too little ether"),
        ("HTTPConnectionPool: Max retries exceeded with url: /", "node is not reachable"),
        ("[Errno 111] Connection refused", "node is not reachable"),
        ("Could not connect to node", "node is not reachable"),
    ],
)
def test_explain__known_failure_text__plain_sentence(message, expected):
    sentence = explain(RuntimeError(message))
    assert sentence is not None and expected in sentence


def test_explain__unknown_exception__returns_none():
    assert explain(ValueError("something else")) is None


# ---------------------------------------------------------------------------------------------
# Real reverts on anvil
# ---------------------------------------------------------------------------------------------


def explain_revert(call) -> str | None:
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError) as info:
        call()
    return explain(info.value)


def test_explain__duplicate_item_on_anvil__item_already_registered_sentence(
    registry, register, brand, lot_id
):
    (iid,) = register("DUP-0001")
    sentence = explain_revert(lambda: registry.registerItems(lot_id, [encode_code("DUP-0001")], sender=brand))
    assert sentence == f"item 0x{iid.hex()} is already registered; each GTIN + serial can be registered once."
    assert iid == item_id(HONEY_GTIN, "DUP-0001")


def test_explain__lot_of_someone_elses_gtin__gtin_not_owned_names_owner(registry, setup_brand, brand, rogue):
    sentence = explain_revert(
        lambda: registry.registerLot(int(HONEY_GTIN), encode_code("ROGUE-1"), METADATA_HASH, sender=rogue)
    )
    assert sentence == f"GTIN {HONEY_GTIN} is not yours ({rogue.address}); it belongs to {brand.address}."


def test_explain__duplicate_lot__lot_already_registered_names_code(registry, lot_id, brand):
    sentence = explain_revert(
        lambda: registry.registerLot(int(HONEY_GTIN), encode_code(LOT_CODE), METADATA_HASH, sender=brand)
    )
    assert sentence == (
        f"lot {LOT_CODE!r} of GTIN {HONEY_GTIN} already exists (lot id {lot_id}); "
        "use it or pick another code."
    )


def test_explain__offer_by_non_custodian__not_custodian_sentence(registry, register, brand, stranger):
    (iid,) = register("NC-0001")
    sentence = explain_revert(lambda: registry.offer(iid, stranger, sender=stranger))
    assert sentence == (
        f"you ({stranger.address}) do not hold item 0x{iid.hex()}; {brand.address} does. "
        "Sign with the custodian's account."
    )


def test_explain__grant_role_by_stranger__access_control_sentence(registry, registrar_role, stranger):
    sentence = explain_revert(lambda: registry.grantRole(registrar_role, stranger, sender=stranger))
    assert sentence == (
        f"{stranger.address} lacks the role this needs (the registry admin's); sign with the admin account."
    )


def test_explain__expired_signature__signature_expired_sentence(
    registry, register, brand, distributor, chain, sign_handoff
):
    (iid,) = register("EXP-0001")
    deadline = chain.pending_timestamp - 10
    signature = sign_handoff(distributor, [iid], brand, distributor, deadline)
    sentence = explain_revert(lambda: registry.handoff(iid, distributor, deadline, signature, sender=brand))
    assert sentence is not None
    assert sentence.startswith(f"the receiver's signed acceptance expired (deadline {deadline}, now ")


def test_explain__unknown_item__unknown_item_sentence(registry, setup_brand, brand, distributor):
    iid = item_id(HONEY_GTIN, "NEVER-REGISTERED")
    sentence = explain_revert(lambda: registry.offer(iid, distributor, sender=brand))
    assert sentence == f"item 0x{iid.hex()} is not registered; check the GTIN and serial."
