"""GTIN ownership: exact GTIN assignments and GS1 company prefixes (admin only), and who owns what."""

from __future__ import annotations

import pytest

from supplytrace.core.ids import encode_code
from tests.conftest import (
    HONEY_GTIN,
    METADATA_HASH,
    UNASSIGNED_GTIN,
    ZERO_ADDRESS,
    assert_emitted,
    reverts_with,
    with_check_digit,
)

LOT = encode_code("LOT-1", "lot code")
# GTINs under the company prefix 9506001 (7 digits); none is assigned in the test world.
PREFIXED_GTIN = with_check_digit("0950600100001")
PREFIXED_GTIN_CASE = with_check_digit("1950600100001")  # indicator digit 1: same prefix
OUTSIDE_GTIN = with_check_digit("0950600200001")  # company prefix 9506002


@pytest.mark.parametrize(
    "gtin",
    [UNASSIGNED_GTIN, 96385074, 4006381333931],
    ids=["gtin-14", "gtin-8-as-integer", "gtin-13-as-integer"],
)
def test_assign_gtin__valid_gtin_by_admin__registrar_owns_it(registry, admin, stranger, gtin):
    tx = registry.assignGtin(gtin, stranger, sender=admin)

    assert_emitted(tx, registry.GtinAssigned(gtin, stranger))
    assert registry.gtinOwner(gtin) == stranger


@pytest.mark.parametrize(
    "gtin",
    [int(HONEY_GTIN) + 1, 0, 10**14 + int(HONEY_GTIN)],
    ids=["bad-check-digit", "zero", "15-digits"],
)
def test_assign_gtin__invalid_gtin__reverts_invalid_gtin(registry, admin, stranger, gtin):
    with reverts_with(registry.InvalidGtin, gtin=gtin):
        registry.assignGtin(gtin, stranger, sender=admin)


def test_assign_gtin__already_assigned__reverts_gtin_already_assigned(registry, admin, brand, rogue):
    with reverts_with(registry.GtinAlreadyAssigned, gtin=int(HONEY_GTIN), owner=brand):
        registry.assignGtin(int(HONEY_GTIN), rogue, sender=admin)
    assert registry.gtinOwner(int(HONEY_GTIN)) == brand


def test_assign_gtin__zero_registrar__reverts_not_registrar(registry, admin):
    with reverts_with(registry.NotRegistrar, account=ZERO_ADDRESS):
        registry.assignGtin(UNASSIGNED_GTIN, ZERO_ADDRESS, sender=admin)


def test_release_gtin__by_admin__owner_cleared_and_existing_lots_stop_taking_items(
    registry, register, lot_id, admin, brand
):
    tx = registry.releaseGtin(int(HONEY_GTIN), sender=admin)

    assert_emitted(tx, registry.GtinReleased(int(HONEY_GTIN), brand))
    assert registry.gtinOwner(int(HONEY_GTIN)) == ZERO_ADDRESS
    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=brand, owner=ZERO_ADDRESS):
        registry.registerLot(int(HONEY_GTIN), LOT, METADATA_HASH, sender=brand)
    assert registry.getLot(lot_id).registrar == brand
    # The lot registered before the release no longer takes items (issue #11; it used to).
    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=brand, owner=ZERO_ADDRESS):
        register("AFTER-RELEASE")


def test_release_gtin__not_assigned__reverts_gtin_not_assigned(registry, admin):
    with reverts_with(registry.GtinNotAssigned, gtin=UNASSIGNED_GTIN):
        registry.releaseGtin(UNASSIGNED_GTIN, sender=admin)


def test_assign_company_prefix__by_admin__registrar_owns_every_gtin_under_it(registry, admin, brand):
    tx = registry.assignCompanyPrefix(9506001, 7, brand, sender=admin)

    assert_emitted(tx, registry.CompanyPrefixAssigned(9506001, 7, brand))
    assert registry.gtinOwner(PREFIXED_GTIN) == brand
    assert registry.gtinOwner(PREFIXED_GTIN_CASE) == brand
    assert registry.gtinOwner(OUTSIDE_GTIN) == ZERO_ADDRESS
    registry.registerLot(PREFIXED_GTIN, LOT, METADATA_HASH, sender=brand)
    registry.registerLot(PREFIXED_GTIN_CASE, LOT, METADATA_HASH, sender=brand)
    assert registry.getLot(registry.lotCount()).gtin == PREFIXED_GTIN_CASE


def test_assign_company_prefix__leading_zero__length_tells_prefixes_apart(registry, admin, brand, rogue):
    gtin = with_check_digit("0061414112345")  # company prefix 0614141

    registry.assignCompanyPrefix(614141, 6, rogue, sender=admin)  # "614141": does not match
    assert registry.gtinOwner(gtin) == ZERO_ADDRESS
    registry.assignCompanyPrefix(614141, 7, brand, sender=admin)  # "0614141"

    assert registry.gtinOwner(gtin) == brand


def test_gtin_owner__exact_assignment_and_prefix__exact_assignment_wins(registry, admin, brand, rogue):
    registry.assignCompanyPrefix(9506000, 7, rogue, sender=admin)  # covers HONEY_GTIN too

    assert registry.gtinOwner(int(HONEY_GTIN)) == brand
    assert registry.gtinOwner(UNASSIGNED_GTIN) == rogue
    with reverts_with(registry.GtinNotOwned, gtin=int(HONEY_GTIN), account=rogue, owner=brand):
        registry.registerLot(int(HONEY_GTIN), LOT, METADATA_HASH, sender=rogue)
    registry.registerLot(UNASSIGNED_GTIN, LOT, METADATA_HASH, sender=rogue)


def test_gtin_owner__nested_prefixes__longest_wins_and_release_falls_back(
    registry, admin, brand, rogue, stranger
):
    registry.assignCompanyPrefix(9506, 4, rogue, sender=admin)
    registry.assignCompanyPrefix(9506001, 7, brand, sender=admin)
    registry.assignCompanyPrefix(950600100001, 12, stranger, sender=admin)
    assert registry.gtinOwner(PREFIXED_GTIN) == stranger

    tx = registry.releaseCompanyPrefix(950600100001, 12, sender=admin)
    assert_emitted(tx, registry.CompanyPrefixReleased(950600100001, 12, stranger))
    assert registry.gtinOwner(PREFIXED_GTIN) == brand

    registry.releaseCompanyPrefix(9506001, 7, sender=admin)
    assert registry.gtinOwner(PREFIXED_GTIN) == rogue

    registry.releaseCompanyPrefix(9506, 4, sender=admin)
    assert registry.gtinOwner(PREFIXED_GTIN) == ZERO_ADDRESS


@pytest.mark.parametrize(
    ("prefix", "length"),
    [(950, 3), (9506001000012, 13), (10000, 4), (0, 0)],
    ids=["too-short", "too-long", "more-digits-than-length", "empty"],
)
def test_assign_company_prefix__invalid__reverts_invalid_company_prefix(
    registry, admin, brand, prefix, length
):
    with reverts_with(registry.InvalidCompanyPrefix, prefix=prefix, length=length):
        registry.assignCompanyPrefix(prefix, length, brand, sender=admin)


def test_release_company_prefix__invalid__reverts_invalid_company_prefix(registry, admin):
    with reverts_with(registry.InvalidCompanyPrefix, prefix=95060011, length=7):
        registry.releaseCompanyPrefix(95060011, 7, sender=admin)


def test_assign_company_prefix__already_assigned__reverts_company_prefix_already_assigned(
    registry, admin, brand, rogue
):
    registry.assignCompanyPrefix(9506001, 7, brand, sender=admin)

    with reverts_with(registry.CompanyPrefixAlreadyAssigned, prefix=9506001, length=7, owner=brand):
        registry.assignCompanyPrefix(9506001, 7, rogue, sender=admin)


def test_assign_company_prefix__zero_registrar__reverts_not_registrar(registry, admin):
    with reverts_with(registry.NotRegistrar, account=ZERO_ADDRESS):
        registry.assignCompanyPrefix(9506001, 7, ZERO_ADDRESS, sender=admin)


def test_release_company_prefix__not_assigned__reverts_company_prefix_not_assigned(registry, admin, brand):
    registry.assignCompanyPrefix(9506001, 7, brand, sender=admin)

    with reverts_with(registry.CompanyPrefixNotAssigned, prefix=9506001, length=8):
        registry.releaseCompanyPrefix(9506001, 8, sender=admin)  # same digits, other length
