"""core.errors.explain: sentences of custom errors checked against real reverts on anvil, and of
common failures. (That every custom error of the registry has a sentence is checked for
``supplytrace.core.errors``, the module that stays: tests/core/test_errors.py.)"""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from supplytrace.core.errors import explain, explain_custom_error
from supplytrace.core.ids import CSET82_TEXT, encode_code, item_id
from tests.conftest import HONEY_GTIN, LOT_CODE, METADATA_HASH

ZERO = "0x0000000000000000000000000000000000000000"
ALICE = to_checksum_address("0x" + "a1" * 20)
BOB = to_checksum_address("0x" + "b2" * 20)


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
        == f"lot code 0x{raw.hex()} must be 1 to 20 characters: {CSET82_TEXT}."
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
