"""Reads: getItem, itemStatuses, getLot, lotIdOf, lotCount, gtinOwner and itemIdOf."""

from __future__ import annotations

import pytest

from supplytrace.core.ids import encode_code, item_id
from tests.conftest import (
    HONEY_GTIN,
    LOT_CODE,
    METADATA_HASH,
    OTHER_GTIN,
    OTHER_LOT_CODE,
    OTHER_METADATA_HASH,
    UNASSIGNED_GTIN,
    ZERO_ADDRESS,
    ItemStatus,
    item_record,
    lot_record,
    normalized,
    reverts_with,
)

UNKNOWN_ITEM = item_id(HONEY_GTIN, "NEVER-MADE")


def test_get_item__registered__full_record(registry, lot_id, brand):
    tx = registry.registerItem(lot_id, encode_code("JAR-1"), sender=brand)

    assert item_record(registry, item_id(HONEY_GTIN, "JAR-1")) == normalized(
        {
            "status": ItemStatus.ACTIVE,
            "custodian": brand,
            "pendingReceiver": ZERO_ADDRESS,
            "brand": brand,
            "lotId": lot_id,
            "gtin": int(HONEY_GTIN),
            "lotCode": encode_code(LOT_CODE, "lot code"),
            "lotMetadataHash": METADATA_HASH,
            "custodyNonce": 0,
            "updatedAt": tx.timestamp,
            "recalled": False,
            "recalledAt": 0,
            "lotClosed": False,
            "container": b"\0" * 32,
        }
    )


def test_get_item__after_handoffs_and_recall__full_record(
    registry, register, lot_id, brand, distributor, retailer
):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)
    accepted = registry.accept(iid, sender=distributor)
    registry.offer(iid, retailer, sender=distributor)
    recall = registry.recallLot(lot_id, "glass splinters", sender=brand)

    assert item_record(registry, iid) == normalized(
        {
            "status": ItemStatus.ACTIVE,
            "custodian": distributor,
            "pendingReceiver": retailer,
            "brand": brand,
            "lotId": lot_id,
            "gtin": int(HONEY_GTIN),
            "lotCode": encode_code(LOT_CODE, "lot code"),
            "lotMetadataHash": METADATA_HASH,
            "custodyNonce": 1,
            "updatedAt": accepted.timestamp,
            "recalled": True,
            "recalledAt": recall.timestamp,
            "lotClosed": False,
            "container": b"\0" * 32,
        }
    )


def test_get_item__never_registered__unknown_and_empty(registry):
    assert item_record(registry, UNKNOWN_ITEM) == normalized(
        {
            "status": ItemStatus.UNKNOWN,
            "custodian": ZERO_ADDRESS,
            "pendingReceiver": ZERO_ADDRESS,
            "brand": ZERO_ADDRESS,
            "lotId": 0,
            "gtin": 0,
            "lotCode": b"\0" * 32,
            "lotMetadataHash": b"\0" * 32,
            "custodyNonce": 0,
            "updatedAt": 0,
            "recalled": False,
            "recalledAt": 0,
            "lotClosed": False,
            "container": b"\0" * 32,
        }
    )


def test_get_item__life_cycle__nonce_counts_custody_changes_updated_at_follows_changes(
    registry, register, brand, distributor, retailer, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    registered_at = item_record(registry, iid)["updatedAt"]

    def nonce_and_updated_at() -> tuple[int, int]:
        record = item_record(registry, iid)
        return record["custodyNonce"], record["updatedAt"]

    registry.offer(iid, distributor, sender=brand)
    registry.rejectOffer(iid, sender=distributor)
    registry.offer(iid, distributor, sender=brand)
    registry.cancelOffer(iid, sender=brand)
    registry.offer(iid, distributor, sender=brand)
    # an ended offer (declined, withdrawn) advances the nonce, so its signature cannot be replayed;
    # an open offer does not, and none of them is a move: the time stays
    assert nonce_and_updated_at() == (2, registered_at)
    accept = registry.accept(iid, sender=distributor)
    assert nonce_and_updated_at() == (3, accept.timestamp)
    registry.record(iid, encode_code("inspecting", "bizStep"), b"\0" * 32, sender=distributor)
    assert nonce_and_updated_at() == (4, accept.timestamp)  # an observation: a step, not a move
    signature = sign_handoff(retailer, [iid], distributor, retailer, deadline)
    handoff = registry.handoff(iid, retailer, deadline, signature, sender=distributor)
    assert nonce_and_updated_at() == (5, handoff.timestamp)
    sale = registry.sell(iid, sender=retailer)
    assert nonce_and_updated_at() == (5, sale.timestamp)  # a status change stamps the time too


def test_item_statuses__mixed_batch__status_and_lot_of_each(registry, register, lot_id, other_lot_id, brand):
    active, sold = register("JAR-1", "JAR-2")
    (other,) = register("JAR-3", lot=other_lot_id)
    registry.sell(sold, sender=brand)

    statuses, lot_ids = registry.itemStatuses([active, UNKNOWN_ITEM, sold, other])

    assert list(statuses) == [ItemStatus.ACTIVE, ItemStatus.UNKNOWN, ItemStatus.SOLD, ItemStatus.ACTIVE]
    assert list(lot_ids) == [lot_id, 0, lot_id, other_lot_id]


def test_item_statuses__no_items__empty_lists(registry):
    statuses, lot_ids = registry.itemStatuses([])

    assert (list(statuses), list(lot_ids)) == ([], [])


def test_get_lot__registered__full_record(registry, brand, lot_id):
    assert lot_record(registry, lot_id) == normalized(
        {
            "registrar": brand,
            "gtin": int(HONEY_GTIN),
            "lotCode": encode_code(LOT_CODE, "lot code"),
            "metadataHash": METADATA_HASH,
            "recalledAt": 0,
            "closed": False,
            "unit": 0,
            "stock": 0,
            "itemQuantity": 0,
        }
    )


def test_get_lot__closed_and_recalled__full_record(registry, brand, other_lot_id):
    registry.closeLot(other_lot_id, sender=brand)
    recall = registry.recallLot(other_lot_id, "mislabelled", sender=brand)

    assert lot_record(registry, other_lot_id) == normalized(
        {
            "registrar": brand,
            "gtin": int(HONEY_GTIN),
            "lotCode": encode_code(OTHER_LOT_CODE, "lot code"),
            "metadataHash": OTHER_METADATA_HASH,
            "recalledAt": recall.timestamp,
            "closed": True,
            "unit": 0,
            "stock": 0,
            "itemQuantity": 0,
        }
    )


def test_get_lot__recalled_then_closed__recall_time_kept(registry, brand, other_lot_id):
    recall = registry.recallLot(other_lot_id, "mislabelled", sender=brand)
    registry.closeLot(other_lot_id, sender=brand)

    record = lot_record(registry, other_lot_id)
    assert (record["registrar"], record["gtin"], record["recalledAt"], record["closed"]) == (
        brand.address,
        int(HONEY_GTIN),
        recall.timestamp,
        True,
    )


@pytest.mark.parametrize("unknown_lot", [0, 99])
def test_get_lot__unknown__reverts_unknown_lot(registry, stranger, unknown_lot):
    with reverts_with(registry.UnknownLot, lotId=unknown_lot):
        registry.getLot.transact(unknown_lot, sender=stranger)  # ape decodes errors of transactions


def test_lot_id_of__gtin_and_lot_code__lot_or_zero(registry, lot_id, other_lot_id):
    assert registry.lotIdOf(int(HONEY_GTIN), encode_code(LOT_CODE, "lot code")) == lot_id
    assert registry.lotIdOf(int(HONEY_GTIN), encode_code(OTHER_LOT_CODE, "lot code")) == other_lot_id
    assert registry.lotIdOf(int(OTHER_GTIN), encode_code(LOT_CODE, "lot code")) == 0
    assert registry.lotIdOf(int(HONEY_GTIN), encode_code("NO-SUCH-LOT", "lot code")) == 0


def test_lot_count__new_registry__counts_registered_lots(project, registrar_role, admin, brand):
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    assert registry.lotCount() == 0
    registry.grantRole(registrar_role, brand, sender=admin)
    registry.assignGtin(int(HONEY_GTIN), brand, sender=admin)

    for expected, code in enumerate(("A", "B", "C"), start=1):
        registry.registerLot(int(HONEY_GTIN), encode_code(code, "lot code"), METADATA_HASH, sender=brand)
        assert registry.lotCount() == expected


def test_gtin_owner__world__owners_or_zero(registry, brand, rogue):
    assert registry.gtinOwner(int(HONEY_GTIN)) == brand
    assert registry.gtinOwner(int(OTHER_GTIN)) == rogue
    assert registry.gtinOwner(UNASSIGNED_GTIN) == ZERO_ADDRESS


@pytest.mark.parametrize(
    ("gtin", "serial"),
    [(HONEY_GTIN, "JAR-1"), ("9506000134352", "JAR-1"), (OTHER_GTIN, "x" * 20), ("96385074", "(21)/%&")],
    ids=["gtin-14", "gtin-13", "20-characters", "gtin-8-special-characters"],
)
def test_item_id_of__gs1_key__equals_python_item_id(registry, gtin, serial):
    assert registry.itemIdOf(int(gtin), encode_code(serial)) == item_id(gtin, serial)


def test_item_id_of__registered_item__is_the_id_registration_used(registry, register):
    (iid,) = register("JAR-1")

    assert registry.itemIdOf(int(HONEY_GTIN), encode_code("JAR-1")) == iid
    assert item_record(registry, iid)["status"] == ItemStatus.ACTIVE
