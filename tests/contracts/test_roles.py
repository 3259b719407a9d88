"""Administration: REGISTRAR_ROLE, the two-step admin transfer (AccessControlDefaultAdminRules),
verified brand names and unverified self-descriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from supplytrace.core.ids import encode_code
from tests.conftest import (
    HONEY_GTIN,
    METADATA_HASH,
    OTHER_GTIN,
    UNASSIGNED_GTIN,
    assert_emitted,
    reverts_with,
)

DEFAULT_ADMIN_ROLE = b"\0" * 32
NEW_LOT = encode_code("HONEY-2026-Z", "lot code")


def test_grant_role__registrar_by_admin__account_can_register_lots(registry, registrar_role, admin, stranger):
    registry.assignGtin(UNASSIGNED_GTIN, stranger, sender=admin)

    tx = registry.grantRole(registrar_role, stranger, sender=admin)

    assert_emitted(tx, registry.RoleGranted(registrar_role, stranger, admin))
    assert registry.hasRole(registrar_role, stranger)
    registry.registerLot(UNASSIGNED_GTIN, NEW_LOT, METADATA_HASH, sender=stranger)
    assert registry.getLot(registry.lotCount()).registrar == stranger


def test_revoke_role__registrar_by_admin__register_lot_reverts_not_registrar(
    registry, registrar_role, admin, brand
):
    tx = registry.revokeRole(registrar_role, brand, sender=admin)

    assert_emitted(tx, registry.RoleRevoked(registrar_role, brand, admin))
    assert not registry.hasRole(registrar_role, brand)
    with reverts_with(registry.NotRegistrar, account=brand):
        registry.registerLot(int(HONEY_GTIN), NEW_LOT, METADATA_HASH, sender=brand)


def test_grant_role__default_admin_role_directly__reverts_enforced_admin_rules(registry, admin, stranger):
    with reverts_with(registry.AccessControlEnforcedDefaultAdminRules):
        registry.grantRole(DEFAULT_ADMIN_ROLE, stranger, sender=admin)


# Every admin-only function, called by a registrar (brand) that is not the admin.
ADMIN_ONLY_CALLS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "grantRole": lambda r, role, who: r.grantRole(role, who, sender=who),
    "revokeRole": lambda r, role, who: r.revokeRole(role, who, sender=who),
    "beginDefaultAdminTransfer": lambda r, role, who: r.beginDefaultAdminTransfer(who, sender=who),
    "nameBrand": lambda r, role, who: r.nameBrand(who, "Acme Honey", sender=who),
    "unnameBrand": lambda r, role, who: r.unnameBrand(who, sender=who),
    "assignGtin": lambda r, role, who: r.assignGtin(int(OTHER_GTIN), who, sender=who),
    "releaseGtin": lambda r, role, who: r.releaseGtin(int(HONEY_GTIN), sender=who),
    "assignCompanyPrefix": lambda r, role, who: r.assignCompanyPrefix(9506000, 7, who, sender=who),
    "releaseCompanyPrefix": lambda r, role, who: r.releaseCompanyPrefix(9506000, 7, sender=who),
}


@pytest.mark.parametrize("call", ADMIN_ONLY_CALLS.values(), ids=ADMIN_ONLY_CALLS.keys())
def test_admin_function__by_non_admin__reverts_unauthorized_account(registry, registrar_role, brand, call):
    with reverts_with(
        registry.AccessControlUnauthorizedAccount, account=brand, neededRole=DEFAULT_ADMIN_ROLE
    ):
        call(registry, registrar_role, brand)


def test_default_admin_transfer__accepted_by_new_admin__old_admin_loses_power(
    registry, registrar_role, chain, admin, stranger, rogue
):
    begin = registry.beginDefaultAdminTransfer(stranger, sender=admin)
    assert_emitted(begin, registry.DefaultAdminTransferScheduled(stranger, begin.timestamp))  # delay 0
    assert registry.defaultAdmin() == admin  # nothing changes before acceptance
    chain.pending_timestamp = max(chain.pending_timestamp, begin.timestamp + 1)  # schedule must have passed

    accept = registry.acceptDefaultAdminTransfer(sender=stranger)

    assert_emitted(
        accept,
        registry.RoleRevoked(DEFAULT_ADMIN_ROLE, admin, stranger),
        registry.RoleGranted(DEFAULT_ADMIN_ROLE, stranger, stranger),
    )
    assert registry.defaultAdmin() == stranger
    assert not registry.hasRole(DEFAULT_ADMIN_ROLE, admin)
    for old_admin_call in (
        lambda: registry.grantRole(registrar_role, rogue, sender=admin),
        lambda: registry.nameBrand(rogue, "Rogue Honey", sender=admin),
    ):
        with reverts_with(
            registry.AccessControlUnauthorizedAccount, account=admin, neededRole=DEFAULT_ADMIN_ROLE
        ):
            old_admin_call()
    registry.grantRole(registrar_role, rogue, sender=stranger)
    assert registry.hasRole(registrar_role, rogue)


def test_accept_default_admin_transfer__by_other_account__reverts_invalid_default_admin(
    registry, chain, admin, stranger, rogue
):
    begin = registry.beginDefaultAdminTransfer(stranger, sender=admin)
    chain.pending_timestamp = max(chain.pending_timestamp, begin.timestamp + 1)

    with reverts_with(registry.AccessControlInvalidDefaultAdmin, defaultAdmin=rogue):
        registry.acceptDefaultAdminTransfer(sender=rogue)
    assert registry.defaultAdmin() == admin


def test_name_brand__by_admin__emits_brand_named(registry, admin, brand):
    tx = registry.nameBrand(brand, "Acme Honey", sender=admin)

    assert_emitted(tx, registry.BrandNamed(brand, "Acme Honey"))


def test_name_brand__empty_name__reverts_empty_brand_name(registry, admin, brand):
    """An empty name used to be the only way to withdraw one; unnameBrand says so instead."""
    with reverts_with(registry.EmptyBrandName, brand=brand):
        registry.nameBrand(brand, "", sender=admin)


def test_unname_brand__by_admin__emits_brand_unnamed(registry, admin, brand):
    registry.nameBrand(brand, "Acme Honey", sender=admin)

    tx = registry.unnameBrand(brand, sender=admin)

    assert_emitted(tx, registry.BrandUnnamed(brand))


def test_describe_self__by_anyone__emits_participant_described(registry, stranger):
    tx = registry.describeSelf("Corner shop, Main Street", sender=stranger)

    assert_emitted(tx, registry.ParticipantDescribed(stranger, "Corner shop, Main Street"))
