"""Registration of lots and items by registrars, lot closing, and front-running by a rogue registrar."""

from __future__ import annotations

import pytest

from supplytrace.core.ids import encode_code, item_id
from tests.conftest import (
    HONEY_GTIN,
    LOT_CODE,
    OTHER_GTIN,
    UNASSIGNED_GTIN,
    ZERO_ADDRESS,
    ItemStatus,
    assert_emitted,
    item_record,
    reverts_with,
)

NEW_LOT = encode_code("HONEY-2026-C", "lot code")
NEW_HASH = b"\x33" * 32
SERIAL = encode_code("JAR-0001")
BAD_CODES = {
    "empty": b"\0" * 32,
    "21-characters": b"A" * 21 + b"\0" * 11,
    "not-left-aligned": b"\0" + b"A" * 5 + b"\0" * 26,
    # Not GS1's character set 82 (!"%&'()*+,-./0-9:;<=>?A-Z_a-z), anywhere in the code:
    "space": b"JAR 0001".ljust(32, b"\0"),
    "hash": b"#JAR".ljust(32, b"\0"),
    "dollar": b"JAR$".ljust(32, b"\0"),
    "at-sign": b"JAR@1".ljust(32, b"\0"),
    "square-bracket": b"JAR[1]".ljust(32, b"\0"),
    "backslash": b"JAR\\1".ljust(32, b"\0"),
    "caret": b"JAR^1".ljust(32, b"\0"),
    "backtick": b"`JAR".ljust(32, b"\0"),
    "curly-brace": b"JAR{1}".ljust(32, b"\0"),
    "tilde": b"JAR~".ljust(32, b"\0"),
    "delete": b"JAR\x7f".ljust(32, b"\0"),
    "newline": b"JAR\n".ljust(32, b"\0"),
    "control-character": b"\x01JAR".ljust(32, b"\0"),
    "bidi-override": "JAR\u202e1".encode().ljust(32, b"\0"),
    "high-byte": b"JAR\xff".ljust(32, b"\0"),
    "interior-nul": b"JAR\0001".ljust(32, b"\0"),
    "nul-then-character-in-padding": b"JAR".ljust(19, b"\0") + b"1" + b"\0" * 12,
    "byte-after-20th": b"A" * 20 + b"\0" * 11 + b"1",
}
#: Codes at the edges of the character set: each is accepted.
EDGE_CODES = [
    "!\"%&'()*+,-./",
    "0123456789:;<=>?",
    "ABCDEFGHIJKLMNOPQRST",
    "UVWXYZ_abcdefghijklm",
    "nopqrstuvwxyz",
    "z",
]


def test_register_lot__by_gtin_owner__emits_lot_registered_with_next_lot_id(registry, brand, other_lot_id):
    tx = registry.registerLot(int(HONEY_GTIN), NEW_LOT, NEW_HASH, sender=brand)

    new_lot = other_lot_id + 1
    assert tx.return_value == new_lot
    assert_emitted(tx, registry.LotRegistered(new_lot, int(HONEY_GTIN), brand, NEW_LOT, NEW_HASH))
    assert registry.lotCount() == new_lot
    assert registry.lotIdOf(int(HONEY_GTIN), NEW_LOT) == new_lot


def test_register_lot__without_registrar_role__reverts_not_registrar(registry, admin, stranger):
    registry.assignGtin(UNASSIGNED_GTIN, stranger, sender=admin)

    with reverts_with(registry.NotRegistrar, account=stranger):
        registry.registerLot(UNASSIGNED_GTIN, NEW_LOT, NEW_HASH, sender=stranger)


def test_register_lot__unassigned_gtin__reverts_gtin_not_owned_by_nobody(registry, brand):
    with reverts_with(registry.GtinNotOwned, gtin=UNASSIGNED_GTIN, account=brand, owner=ZERO_ADDRESS):
        registry.registerLot(UNASSIGNED_GTIN, NEW_LOT, NEW_HASH, sender=brand)


def test_register_lot__bad_check_digit__reverts_invalid_gtin(registry, brand):
    with reverts_with(registry.InvalidGtin, gtin=int(HONEY_GTIN) + 1):
        registry.registerLot(int(HONEY_GTIN) + 1, NEW_LOT, NEW_HASH, sender=brand)


@pytest.mark.parametrize("code", BAD_CODES.values(), ids=BAD_CODES.keys())
def test_register_lot__invalid_lot_code__reverts_invalid_lot_code(registry, brand, code):
    with reverts_with(registry.InvalidLotCode, lotCode=code):
        registry.registerLot(int(HONEY_GTIN), code, NEW_HASH, sender=brand)


def test_register_lot__twenty_character_code__registered(registry, brand):
    code = encode_code("L" * 20, "lot code")

    registry.registerLot(int(HONEY_GTIN), code, NEW_HASH, sender=brand)

    assert registry.getLot(registry.lotCount()).lotCode == code


@pytest.mark.parametrize("text", EDGE_CODES)
def test_register_lot__every_character_of_cset_82__registered(registry, brand, text):
    code = encode_code(text, "lot code")

    registry.registerLot(int(HONEY_GTIN), code, NEW_HASH, sender=brand)

    assert registry.getLot(registry.lotCount()).lotCode == code


def test_register_lot__same_gtin_and_lot_code__reverts_lot_already_registered(registry, brand, lot_id):
    lot_code = encode_code(LOT_CODE, "lot code")

    with reverts_with(registry.LotAlreadyRegistered, gtin=int(HONEY_GTIN), lotCode=lot_code, lotId=lot_id):
        registry.registerLot(int(HONEY_GTIN), lot_code, NEW_HASH, sender=brand)


def test_register_lot__same_lot_code_other_gtin__separate_lot(registry, rogue, lot_id):
    lot_code = encode_code(LOT_CODE, "lot code")

    registry.registerLot(int(OTHER_GTIN), lot_code, NEW_HASH, sender=rogue)

    assert registry.lotIdOf(int(OTHER_GTIN), lot_code) == registry.lotCount() != lot_id
    assert registry.lotIdOf(int(HONEY_GTIN), lot_code) == lot_id


def test_register_item__by_lot_registrar__brand_is_custodian(registry, brand, lot_id):
    tx = registry.registerItem(lot_id, SERIAL, sender=brand)

    iid = item_id(HONEY_GTIN, "JAR-0001")
    assert tx.return_value == iid
    assert_emitted(tx, registry.ItemRegistered(iid, lot_id, SERIAL))
    record = item_record(registry, iid)
    assert (record["status"], record["custodian"], record["lotId"]) == (ItemStatus.ACTIVE, brand, lot_id)


def test_register_items__batch__emits_one_item_registered_per_item(registry, brand, lot_id):
    serials = ["JAR-0001", "JAR-0002", "JAR-0003"]

    tx = registry.registerItems(lot_id, [encode_code(s) for s in serials], sender=brand)

    assert_emitted(
        tx, *(registry.ItemRegistered(item_id(HONEY_GTIN, s), lot_id, encode_code(s)) for s in serials)
    )
    assert all(item_record(registry, item_id(HONEY_GTIN, s))["custodian"] == brand for s in serials)


@pytest.mark.parametrize("unknown_lot", [0, 99])
def test_register_item__unknown_lot__reverts_unknown_lot(registry, brand, unknown_lot):
    with reverts_with(registry.UnknownLot, lotId=unknown_lot):
        registry.registerItem(unknown_lot, SERIAL, sender=brand)


def test_register_item__recalled_lot__reverts_lot_is_recalled(registry, brand, lot_id):
    registry.recallLot(lot_id, "contaminated", sender=brand)

    with reverts_with(registry.LotIsRecalled, lotId=lot_id):
        registry.registerItem(lot_id, SERIAL, sender=brand)


def test_register_item__closed_lot__reverts_lot_is_closed(registry, brand, lot_id):
    registry.closeLot(lot_id, sender=brand)

    with reverts_with(registry.LotIsClosed, lotId=lot_id):
        registry.registerItem(lot_id, SERIAL, sender=brand)


@pytest.mark.parametrize("serial", BAD_CODES.values(), ids=BAD_CODES.keys())
def test_register_item__invalid_serial__reverts_invalid_serial(registry, brand, lot_id, serial):
    with reverts_with(registry.InvalidSerial, serial=serial):
        registry.registerItem(lot_id, serial, sender=brand)


def test_register_item__twenty_character_serial__registered(registry, brand, lot_id):
    registry.registerItem(lot_id, encode_code("S" * 20), sender=brand)

    assert item_record(registry, item_id(HONEY_GTIN, "S" * 20))["custodian"] == brand


def test_register_items__every_character_of_cset_82__registered(registry, brand, lot_id):
    tx = registry.registerItems(lot_id, [encode_code(text) for text in EDGE_CODES], sender=brand)

    assert [log.serial for log in tx.events] == [encode_code(text) for text in EDGE_CODES]
    assert all(item_record(registry, item_id(HONEY_GTIN, text))["custodian"] == brand for text in EDGE_CODES)


def test_register_item__already_registered__reverts_item_already_registered(
    registry, register, brand, lot_id
):
    (iid,) = register("JAR-0001")

    with reverts_with(registry.ItemAlreadyRegistered, itemId=iid):
        registry.registerItem(lot_id, SERIAL, sender=brand)


def test_register_item__same_serial_in_other_lot_of_same_gtin__reverts_item_already_registered(
    registry, register, brand, other_lot_id
):
    (iid,) = register("JAR-0001")  # item ids are GTIN + serial: the lot is not part of them

    with reverts_with(registry.ItemAlreadyRegistered, itemId=iid):
        registry.registerItem(other_lot_id, SERIAL, sender=brand)


def test_register_items__duplicate_inside_batch__reverts_and_registers_nothing(registry, brand, lot_id):
    serials = [encode_code(s) for s in ("JAR-0001", "JAR-0002", "JAR-0001")]

    with reverts_with(registry.ItemAlreadyRegistered, itemId=item_id(HONEY_GTIN, "JAR-0001")):
        registry.registerItems(lot_id, serials, sender=brand)

    for serial in ("JAR-0001", "JAR-0002"):
        assert item_record(registry, item_id(HONEY_GTIN, serial))["status"] == ItemStatus.UNKNOWN


def test_register_items__invalid_serial_inside_batch__reverts_and_registers_nothing(registry, brand, lot_id):
    bad = BAD_CODES["21-characters"]

    with reverts_with(registry.InvalidSerial, serial=bad):
        registry.registerItems(lot_id, [SERIAL, bad], sender=brand)

    assert item_record(registry, item_id(HONEY_GTIN, "JAR-0001"))["status"] == ItemStatus.UNKNOWN


def test_register_items__empty_batch__reverts_empty_batch(registry, brand, lot_id):
    with reverts_with(registry.EmptyBatch):
        registry.registerItems(lot_id, [], sender=brand)


def test_register_item__registrar_role_revoked__refused_at_once_and_after_admin_closes_lot(
    registry, registrar_role, admin, brand, lot_id
):
    """The role is checked at every registration (issue #11; it used to be checked only when the
    lot was registered, and the admin had to close the lot: tests/contracts/test_revocation.py)."""
    registry.revokeRole(registrar_role, brand, sender=admin)
    with reverts_with(registry.NotRegistrar, account=brand):
        registry.registerItem(lot_id, SERIAL, sender=brand)

    registry.closeLot(lot_id, sender=admin)

    with reverts_with(registry.LotIsClosed, lotId=lot_id):
        registry.registerItem(lot_id, encode_code("JAR-0002"), sender=brand)


# ----------------------------------------------------------------------------------------------
# closeLot
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("closer", ["brand", "admin"])
def test_close_lot__by_registrar_or_admin__emits_lot_closed(registry, register, lot_id, request, closer):
    (iid,) = register("JAR-0001")
    account = request.getfixturevalue(closer)

    tx = registry.closeLot(lot_id, sender=account)

    assert_emitted(tx, registry.LotClosed(lot_id, account))
    assert registry.getLot(lot_id).closed
    assert item_record(registry, iid)["lotClosed"]


def test_close_lot__by_other_account__reverts_not_lot_registrar(registry, lot_id, brand, rogue):
    with reverts_with(registry.NotLotRegistrar, lotId=lot_id, account=rogue, registrar=brand):
        registry.closeLot(lot_id, sender=rogue)


def test_close_lot__already_closed__reverts_lot_is_closed(registry, lot_id, brand):
    registry.closeLot(lot_id, sender=brand)

    with reverts_with(registry.LotIsClosed, lotId=lot_id):
        registry.closeLot(lot_id, sender=brand)


def test_close_lot__unknown_lot__reverts_unknown_lot(registry, admin):
    with reverts_with(registry.UnknownLot, lotId=99):
        registry.closeLot(99, sender=admin)


def test_close_lot__items_of_closed_lot__still_move(registry, register, lot_id, brand, distributor):
    (iid,) = register("JAR-0001")
    registry.closeLot(lot_id, sender=brand)

    registry.offer(iid, distributor, sender=brand)
    registry.accept(iid, sender=distributor)

    assert item_record(registry, iid)["custodian"] == distributor


# ----------------------------------------------------------------------------------------------
# Front-running: a second registrar tries to claim the brand's goods
# ----------------------------------------------------------------------------------------------


def test_register_lot__rogue_for_brand_gtin__reverts_gtin_not_owned(registry, brand, rogue):
    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=rogue, owner=brand):
        registry.registerLot(int(HONEY_GTIN), NEW_LOT, NEW_HASH, sender=rogue)


@pytest.mark.parametrize("batch", [False, True], ids=["registerItem", "registerItems"])
def test_register_item__rogue_into_brand_lot__reverts_not_lot_registrar(
    registry, lot_id, brand, rogue, batch
):
    with reverts_with(registry.NotLotRegistrar, lotId=lot_id, account=rogue, registrar=brand):
        if batch:
            registry.registerItems(lot_id, [SERIAL], sender=rogue)
        else:
            registry.registerItem(lot_id, SERIAL, sender=rogue)


def test_register_item__rogue_copies_brand_serial_under_own_gtin__different_item_id(
    registry, register, brand, rogue
):
    (brand_item,) = register("JAR-0001")
    registry.registerLot(int(OTHER_GTIN), NEW_LOT, NEW_HASH, sender=rogue)

    tx = registry.registerItem(registry.lotCount(), SERIAL, sender=rogue)

    rogue_item = item_id(OTHER_GTIN, "JAR-0001")
    assert tx.return_value == rogue_item != brand_item
    assert (item_record(registry, brand_item)["custodian"], item_record(registry, brand_item)["gtin"]) == (
        brand,
        int(HONEY_GTIN),
    )
    assert (item_record(registry, rogue_item)["custodian"], item_record(registry, rogue_item)["gtin"]) == (
        rogue,
        int(OTHER_GTIN),
    )
