"""A brand that loses its rights stops at once: registrar role revoked or renounced, GTIN or company
prefix released or given to another brand (registration epochs), and the renewal of its lots."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from supplytrace.core.ids import encode_code, item_id
from tests.conftest import (
    HONEY_GTIN,
    METADATA_HASH,
    OTHER_GTIN,
    ZERO_ADDRESS,
    ItemStatus,
    assert_emitted,
    item_record,
    lot_record,
    reverts_with,
    with_check_digit,
)

SERIAL = encode_code("NEW-0001")
NEW_LOT = encode_code("LOT-R", "lot code")
# GTINs under the company prefix 9506001 (7 digits), which no one holds in the test world.
PREFIXED_GTIN = with_check_digit("0950600100001")
OTHER_PREFIXED_GTIN = with_check_digit("0950600100002")


@pytest.fixture(params=["registerItem", "registerItems"])
def register_one(registry, request) -> Callable[..., object]:
    """register_one(lot, serial, sender): one item, through registerItem or registerItems."""

    def _register(lot: int, serial: bytes, sender) -> object:
        if request.param == "registerItem":
            return registry.registerItem(lot, serial, sender=sender)
        return registry.registerItems(lot, [serial], sender=sender)

    return _register


@pytest.fixture
def prefixed_lot(registry, admin, brand) -> int:
    """A lot of PREFIXED_GTIN, which the brand owns through its company prefix 9506001."""
    registry.assignCompanyPrefix(9506001, 7, brand, sender=admin)
    registry.registerLot(PREFIXED_GTIN, NEW_LOT, METADATA_HASH, sender=brand)
    return registry.lotCount()


def rogue_lot(registry, rogue) -> int:
    registry.registerLot(int(OTHER_GTIN), NEW_LOT, METADATA_HASH, sender=rogue)
    return registry.lotCount()


# ----------------------------------------------------------------------------------------------
# The registrar role
# ----------------------------------------------------------------------------------------------


def test_register_item__registrar_role_revoked__reverts_not_registrar(
    registry, registrar_role, admin, brand, lot_id, register_one
):
    registry.revokeRole(registrar_role, brand, sender=admin)

    with reverts_with(registry.NotRegistrar, account=brand):
        register_one(lot_id, SERIAL, brand)
    assert item_record(registry, item_id(HONEY_GTIN, "NEW-0001"))["status"] == ItemStatus.UNKNOWN
    assert registry.lotNeedsRenewal(lot_id)


def test_register_item__registrar_role_renounced__reverts_not_registrar(
    registry, registrar_role, brand, lot_id, register_one
):
    registry.renounceRole(registrar_role, brand, sender=brand)

    with reverts_with(registry.NotRegistrar, account=brand):
        register_one(lot_id, SERIAL, brand)


def test_register_item__role_revoked_and_lot_closed_by_admin__reverts_lot_is_closed(
    registry, registrar_role, admin, brand, lot_id
):
    """A closed lot says so first, whatever else its brand lost."""
    registry.revokeRole(registrar_role, brand, sender=admin)

    registry.closeLot(lot_id, sender=admin)

    with reverts_with(registry.LotIsClosed, lotId=lot_id):
        registry.registerItem(lot_id, encode_code("JAR-0002"), sender=brand)


@pytest.mark.parametrize("action", ["closeLot", "recallLot"])
def test_close_or_recall_lot__registrar_role_revoked__reverts_not_registrar_and_admin_still_can(
    registry, registrar_role, admin, brand, lot_id, action
):
    registry.revokeRole(registrar_role, brand, sender=admin)
    args = (lot_id,) if action == "closeLot" else (lot_id, "contaminated")

    with reverts_with(registry.NotRegistrar, account=brand):
        getattr(registry, action)(*args, sender=brand)
    tx = getattr(registry, action)(*args, sender=admin)

    event = registry.LotClosed if action == "closeLot" else registry.LotRecalled
    assert_emitted(tx, event(*args[:1], admin, *args[1:]))


def test_register_item__role_granted_again__reverts_lot_needs_renewal_until_renewed(
    registry, registrar_role, admin, brand, lot_id, other_lot_id, register_one
):
    registry.revokeRole(registrar_role, brand, sender=admin)
    registry.grantRole(registrar_role, brand, sender=admin)

    with reverts_with(registry.LotNeedsRenewal, lotId=lot_id):
        register_one(lot_id, SERIAL, brand)
    tx = registry.renewLot(lot_id, sender=brand)

    assert_emitted(tx, registry.LotRenewed(lot_id, brand))
    assert not registry.lotNeedsRenewal(lot_id)
    register_one(lot_id, SERIAL, brand)
    assert item_record(registry, item_id(HONEY_GTIN, "NEW-0001"))["custodian"] == brand
    assert registry.lotNeedsRenewal(other_lot_id)  # each lot is renewed on its own
    with reverts_with(registry.LotNeedsRenewal, lotId=other_lot_id):
        registry.registerItem(other_lot_id, encode_code("NEW-0002"), sender=brand)


def test_register_lot__role_granted_again__new_lot_takes_items_at_once(
    registry, registrar_role, admin, brand
):
    registry.revokeRole(registrar_role, brand, sender=admin)
    registry.grantRole(registrar_role, brand, sender=admin)

    registry.registerLot(int(HONEY_GTIN), NEW_LOT, METADATA_HASH, sender=brand)

    lot = registry.lotCount()
    assert not registry.lotNeedsRenewal(lot)
    registry.registerItem(lot, SERIAL, sender=brand)


def test_revoke_role__of_one_registrar__other_registrars_lots_unaffected(
    registry, registrar_role, admin, brand, rogue, lot_id
):
    lot = rogue_lot(registry, rogue)

    registry.revokeRole(registrar_role, brand, sender=admin)

    registry.registerItem(lot, SERIAL, sender=rogue)
    assert not registry.lotNeedsRenewal(lot)
    assert item_record(registry, item_id(OTHER_GTIN, "NEW-0001"))["custodian"] == rogue


def test_revoke_role__account_without_the_role__changes_nothing(
    registry, registrar_role, admin, brand, stranger, lot_id
):
    tx = registry.revokeRole(registrar_role, stranger, sender=admin)  # nothing to revoke: no event

    assert_emitted(tx)
    registry.registerItem(lot_id, SERIAL, sender=brand)


def test_revoke_role__other_role_of_the_brand__lots_unaffected(registry, admin, brand, lot_id):
    other_role = b"\x77" * 32
    registry.grantRole(other_role, brand, sender=admin)

    registry.revokeRole(other_role, brand, sender=admin)

    registry.registerItem(lot_id, SERIAL, sender=brand)
    assert not registry.lotNeedsRenewal(lot_id)


# ----------------------------------------------------------------------------------------------
# GTINs and company prefixes
# ----------------------------------------------------------------------------------------------


def test_register_item__gtin_released__reverts_gtin_not_owned(registry, admin, brand, lot_id, register_one):
    registry.releaseGtin(int(HONEY_GTIN), sender=admin)

    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=brand, owner=ZERO_ADDRESS):
        register_one(lot_id, SERIAL, brand)


def test_register_item__gtin_given_to_another_brand__old_brand_cannot_squat_serials(
    registry, admin, brand, rogue, lot_id, register_one
):
    """The serial squatting of issue #11: the old owner registers NEW-0001 in its old lot before the
    new owner can."""
    registry.releaseGtin(int(HONEY_GTIN), sender=admin)
    registry.assignGtin(int(HONEY_GTIN), rogue, sender=admin)

    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=brand, owner=rogue):
        register_one(lot_id, SERIAL, brand)
    registry.registerLot(int(HONEY_GTIN), NEW_LOT, METADATA_HASH, sender=rogue)
    tx = registry.registerItem(registry.lotCount(), SERIAL, sender=rogue)

    assert tx.return_value == item_id(HONEY_GTIN, "NEW-0001")
    assert item_record(registry, tx.return_value)["brand"] == rogue


def test_renew_lot__gtin_given_back_to_the_brand__lot_takes_items_again(
    registry, admin, brand, rogue, lot_id
):
    registry.releaseGtin(int(HONEY_GTIN), sender=admin)
    registry.assignGtin(int(HONEY_GTIN), rogue, sender=admin)
    registry.releaseGtin(int(HONEY_GTIN), sender=admin)
    registry.assignGtin(int(HONEY_GTIN), brand, sender=admin)

    with reverts_with(registry.LotNeedsRenewal, lotId=lot_id):
        registry.registerItem(lot_id, SERIAL, sender=brand)
    registry.renewLot(lot_id, sender=brand)

    registry.registerItem(lot_id, SERIAL, sender=brand)


def test_release_company_prefix__brand_keeps_its_other_gtins__every_lot_of_the_brand_needs_renewal(
    registry, admin, brand, lot_id, prefixed_lot
):
    """The epoch is the registrar's, not the GTIN's: any loss stops all its lots until renewed."""
    registry.releaseCompanyPrefix(9506001, 7, sender=admin)

    with reverts_with(registry.GtinNotOwned, gtin=PREFIXED_GTIN, account=brand, owner=ZERO_ADDRESS):
        registry.registerItem(prefixed_lot, SERIAL, sender=brand)
    with reverts_with(registry.LotNeedsRenewal, lotId=lot_id):
        registry.registerItem(lot_id, SERIAL, sender=brand)
    registry.renewLot(lot_id, sender=brand)
    registry.registerItem(lot_id, SERIAL, sender=brand)
    with reverts_with(registry.GtinNotOwned, gtin=PREFIXED_GTIN, account=brand, owner=ZERO_ADDRESS):
        registry.renewLot(prefixed_lot, sender=brand)


def test_register_item__exact_gtin_given_to_another_brand_over_own_prefix__reverts_gtin_not_owned(
    registry, admin, brand, rogue, prefixed_lot
):
    registry.assignGtin(PREFIXED_GTIN, rogue, sender=admin)  # an exact assignment beats the prefix

    with reverts_with(registry.GtinNotOwned, gtin=PREFIXED_GTIN, account=brand, owner=rogue):
        registry.registerItem(prefixed_lot, SERIAL, sender=brand)
    assert registry.lotNeedsRenewal(prefixed_lot)


def test_register_item__longer_prefix_given_to_another_brand__reverts_gtin_not_owned(
    registry, admin, brand, rogue, prefixed_lot
):
    registry.assignCompanyPrefix(95060010, 8, rogue, sender=admin)  # longer: beats 9506001

    with reverts_with(registry.GtinNotOwned, gtin=PREFIXED_GTIN, account=brand, owner=rogue):
        registry.registerItem(prefixed_lot, SERIAL, sender=brand)


def test_register_item__company_prefix_released__reverts_gtin_not_owned(
    registry, admin, brand, prefixed_lot, register_one
):
    registry.releaseCompanyPrefix(9506001, 7, sender=admin)

    with reverts_with(registry.GtinNotOwned, gtin=PREFIXED_GTIN, account=brand, owner=ZERO_ADDRESS):
        register_one(prefixed_lot, SERIAL, brand)


def test_release_company_prefix__longer_one_of_another_brand__covering_prefix_lots_unaffected(
    registry, admin, brand, rogue
):
    """Releasing a longer prefix gives its GTINs back to the covering prefix: its holder (rogue) loses
    them, the covering prefix's holder (brand) loses nothing."""
    registry.assignCompanyPrefix(9506001, 7, brand, sender=admin)
    registry.assignCompanyPrefix(950600199, 9, rogue, sender=admin)
    registry.registerLot(PREFIXED_GTIN, NEW_LOT, METADATA_HASH, sender=brand)  # 950600100001: brand's
    lot = registry.lotCount()
    other = rogue_lot(registry, rogue)

    registry.releaseCompanyPrefix(950600199, 9, sender=admin)

    registry.registerItem(lot, SERIAL, sender=brand)
    assert not registry.lotNeedsRenewal(lot)
    assert registry.lotNeedsRenewal(other)


def test_register_item__exact_gtin_released_but_owned_through_prefix__lot_unaffected(
    registry, admin, brand, prefixed_lot
):
    """Nothing is lost: the brand still owns the GTIN through its company prefix."""
    registry.assignGtin(OTHER_PREFIXED_GTIN, brand, sender=admin)
    registry.registerLot(OTHER_PREFIXED_GTIN, NEW_LOT, METADATA_HASH, sender=brand)
    exact_lot = registry.lotCount()

    registry.releaseGtin(OTHER_PREFIXED_GTIN, sender=admin)

    assert registry.gtinOwner(OTHER_PREFIXED_GTIN) == brand
    registry.registerItem(exact_lot, SERIAL, sender=brand)
    registry.registerItem(prefixed_lot, encode_code("NEW-0002"), sender=brand)


def test_assign_gtin_or_prefix__inside_own_prefix__lots_unaffected(registry, admin, brand, prefixed_lot):
    registry.assignGtin(PREFIXED_GTIN, brand, sender=admin)
    registry.assignCompanyPrefix(95060010, 8, brand, sender=admin)

    registry.registerItem(prefixed_lot, SERIAL, sender=brand)


def test_assign_gtin__unassigned_gtin__no_lot_affected(registry, admin, brand, rogue, lot_id):
    lot = rogue_lot(registry, rogue)

    registry.assignGtin(PREFIXED_GTIN, rogue, sender=admin)
    registry.assignCompanyPrefix(9506002, 7, rogue, sender=admin)

    registry.registerItem(lot_id, SERIAL, sender=brand)
    registry.registerItem(lot, SERIAL, sender=rogue)


def test_release_gtin__of_one_registrar__other_registrars_lots_unaffected(registry, admin, brand, rogue):
    lot = rogue_lot(registry, rogue)

    registry.releaseGtin(int(HONEY_GTIN), sender=admin)

    registry.registerItem(lot, SERIAL, sender=rogue)


def test_recall_lot__gtin_released_brand_still_registrar__allowed(registry, admin, brand, lot_id):
    """The brand made the lot's items: it may still recall them (and close the lot)."""
    registry.releaseGtin(int(HONEY_GTIN), sender=admin)

    registry.recallLot(lot_id, "contaminated", sender=brand)
    registry.closeLot(lot_id, sender=brand)

    assert registry.getLot(lot_id).closed


# ----------------------------------------------------------------------------------------------
# renewLot
# ----------------------------------------------------------------------------------------------


def test_renew_lot__lot_that_takes_items__emits_lot_renewed_and_changes_nothing(registry, brand, lot_id):
    before = lot_record(registry, lot_id)

    tx = registry.renewLot(lot_id, sender=brand)

    assert_emitted(tx, registry.LotRenewed(lot_id, brand))
    assert lot_record(registry, lot_id) == before
    registry.registerItem(lot_id, SERIAL, sender=brand)


def test_renew_lot__without_registrar_role__reverts_not_registrar(
    registry, registrar_role, admin, brand, lot_id
):
    registry.revokeRole(registrar_role, brand, sender=admin)

    with reverts_with(registry.NotRegistrar, account=brand):
        registry.renewLot(lot_id, sender=brand)


def test_renew_lot__gtin_not_owned__reverts_gtin_not_owned(registry, admin, brand, rogue, lot_id):
    registry.releaseGtin(int(HONEY_GTIN), sender=admin)
    registry.assignGtin(int(HONEY_GTIN), rogue, sender=admin)

    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=brand, owner=rogue):
        registry.renewLot(lot_id, sender=brand)


@pytest.mark.parametrize("caller", ["rogue", "admin"])
def test_renew_lot__by_other_account__reverts_not_lot_registrar(registry, brand, lot_id, request, caller):
    account = request.getfixturevalue(caller)

    with reverts_with(registry.NotLotRegistrar, lotId=lot_id, account=account, registrar=brand):
        registry.renewLot(lot_id, sender=account)


def test_renew_lot__closed_or_recalled__reverts(registry, registrar_role, admin, brand, lot_id, other_lot_id):
    registry.revokeRole(registrar_role, brand, sender=admin)
    registry.grantRole(registrar_role, brand, sender=admin)
    registry.closeLot(lot_id, sender=brand)
    registry.recallLot(other_lot_id, "contaminated", sender=brand)

    with reverts_with(registry.LotIsClosed, lotId=lot_id):
        registry.renewLot(lot_id, sender=brand)
    with reverts_with(registry.LotIsRecalled, lotId=other_lot_id):
        registry.renewLot(other_lot_id, sender=brand)
    assert not registry.lotNeedsRenewal(lot_id)  # closed and recalled lots never take items again
    assert not registry.lotNeedsRenewal(other_lot_id)


@pytest.mark.parametrize("unknown_lot", [0, 99])
def test_renew_lot__unknown_lot__reverts_unknown_lot(registry, brand, stranger, unknown_lot):
    with reverts_with(registry.UnknownLot, lotId=unknown_lot):
        registry.renewLot(unknown_lot, sender=brand)
    with reverts_with(registry.UnknownLot, lotId=unknown_lot):
        registry.lotNeedsRenewal.transact(unknown_lot, sender=stranger)  # ape decodes errors of transactions
