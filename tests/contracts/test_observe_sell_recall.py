"""Observations (record), sale to an end customer (sell) and lot recalls (recallLot)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from supplytrace.core.ids import encode_code
from tests.conftest import ZERO_ADDRESS, ItemStatus, assert_emitted, custody, item_record, reverts_with

INSPECTING = encode_code("inspecting", "bizStep")
DATA_HASH = b"\xda" * 32


# ----------------------------------------------------------------------------------------------
# record
# ----------------------------------------------------------------------------------------------


def test_record__by_custodian__emits_item_observed_and_changes_only_the_nonce(registry, register, brand):
    (iid,) = register("JAR-1")
    before = item_record(registry, iid)

    tx = registry.record(iid, INSPECTING, DATA_HASH, sender=brand)

    assert_emitted(tx, registry.ItemObserved(iid, brand, INSPECTING, DATA_HASH))
    # an observation advances the nonce (a signed record works once); nothing else changes
    assert item_record(registry, iid) == before | {"custodyNonce": before["custodyNonce"] + 1}


def test_record__by_non_custodian__reverts_not_custodian(registry, register, brand, distributor):
    (iid,) = register("JAR-1")

    with reverts_with(registry.NotCustodian, itemId=iid, account=distributor, custodian=brand):
        registry.record(iid, INSPECTING, DATA_HASH, sender=distributor)


def test_record__unknown_item__reverts_unknown_item(registry, brand):
    with reverts_with(registry.UnknownItem, itemId=b"\x42" * 32):
        registry.record(b"\x42" * 32, INSPECTING, DATA_HASH, sender=brand)


@pytest.mark.parametrize(
    "step",
    [b"!", b"urn:epcglobal:cbv:bizstep:#1~", b"x" * 32, b"{inspecting}"],
    ids=["one-character", "any-printable-ascii", "32-characters", "braces"],
)
def test_record__printable_ascii_step__emits_item_observed(registry, register, brand, step):
    (iid,) = register("JAR-1")
    word = step.ljust(32, b"\0")

    tx = registry.record(iid, word, DATA_HASH, sender=brand)

    assert_emitted(tx, registry.ItemObserved(iid, brand, word, DATA_HASH))


BAD_STEPS = {
    "empty": b"",
    "not-left-aligned": b"\0inspecting",
    "space": b"in specting",
    "interior-nul": b"in\0specting",
    "newline": b"inspecting\n",
    "delete": b"inspecting\x7f",
    "control-character": b"\x1binspecting",
    "non-ascii": "inspecting\u202e".encode(),
    "high-byte": b"\xffinspecting",
}


@pytest.mark.parametrize("step", BAD_STEPS.values(), ids=BAD_STEPS.keys())
def test_record__not_a_printable_ascii_step__reverts_invalid_biz_step(registry, register, brand, step):
    (iid,) = register("JAR-1")
    word = step.ljust(32, b"\0")

    with reverts_with(registry.InvalidBizStep, bizStep=word):
        registry.record(iid, word, DATA_HASH, sender=brand)


# ----------------------------------------------------------------------------------------------
# sell
# ----------------------------------------------------------------------------------------------


def test_sell__by_custodian__item_sold_custody_unchanged(registry, register, brand, distributor, retailer):
    (iid,) = register("JAR-1")
    for sender, receiver in ((brand, distributor), (distributor, retailer)):
        registry.offer(iid, receiver, sender=sender)
        registry.accept(iid, sender=receiver)

    tx = registry.sell(iid, sender=retailer)

    assert_emitted(tx, registry.ItemSold(iid, retailer))
    record = item_record(registry, iid)
    assert record["status"] == ItemStatus.SOLD
    assert custody(registry, iid) == (retailer, ZERO_ADDRESS, 2)  # a sale is not a custody change
    assert record["updatedAt"] == tx.timestamp


def test_sell__by_non_custodian__reverts_not_custodian(registry, register, brand, retailer):
    (iid,) = register("JAR-1")

    with reverts_with(registry.NotCustodian, itemId=iid, account=retailer, custodian=brand):
        registry.sell(iid, sender=retailer)


def test_sell__unknown_item__reverts_unknown_item(registry, brand):
    with reverts_with(registry.UnknownItem, itemId=b"\x42" * 32):
        registry.sell(b"\x42" * 32, sender=brand)


def test_sell__offer_open__reverts_offer_pending(registry, register, brand, distributor):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    with reverts_with(registry.OfferPending, itemId=iid, receiver=distributor):
        registry.sell(iid, sender=brand)
    assert item_record(registry, iid)["status"] == ItemStatus.ACTIVE


# What the custodian of a sold item may try; all of it must fail with ItemAlreadySold.
SOLD_ITEM_ACTIONS: dict[str, Callable[..., Any]] = {
    "offer": lambda r, iid, brand, dist, sign, dl: r.offer(iid, dist, sender=brand),
    "offerBatch": lambda r, iid, brand, dist, sign, dl: r.offerBatch([iid], dist, sender=brand),
    "handoff": lambda r, iid, brand, dist, sign, dl: r.handoff(
        iid, dist, dl, sign(dist, [iid], brand, dist, dl), sender=brand
    ),
    "handoffBatch": lambda r, iid, brand, dist, sign, dl: r.handoffBatch(
        [iid], dist, dl, sign(dist, [iid], brand, dist, dl), sender=brand
    ),
    "record": lambda r, iid, brand, dist, sign, dl: r.record(iid, INSPECTING, DATA_HASH, sender=brand),
    "sell": lambda r, iid, brand, dist, sign, dl: r.sell(iid, sender=brand),
}


@pytest.mark.parametrize("action", SOLD_ITEM_ACTIONS.values(), ids=SOLD_ITEM_ACTIONS.keys())
def test_sold_item__any_further_action__reverts_item_already_sold(
    registry, register, brand, distributor, sign_handoff, deadline, action
):
    (iid,) = register("JAR-1")
    registry.sell(iid, sender=brand)
    before = item_record(registry, iid)

    with reverts_with(registry.ItemAlreadySold, itemId=iid):
        action(registry, iid, brand, distributor, sign_handoff, deadline)
    assert item_record(registry, iid) == before


def test_sold_item__no_offer_possible__cannot_be_accepted(registry, register, brand, distributor):
    (iid,) = register("JAR-1")
    registry.sell(iid, sender=brand)

    with reverts_with(registry.NoPendingOffer, itemId=iid):
        registry.accept(iid, sender=distributor)


# ----------------------------------------------------------------------------------------------
# recallLot
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("recaller", ["brand", "admin"])
def test_recall_lot__by_registrar_or_admin__every_item_of_lot_reads_recalled(
    registry, register, lot_id, other_lot_id, request, recaller
):
    recalled = register("JAR-1", "JAR-2")
    (other,) = register("JAR-3", lot=other_lot_id)
    account = request.getfixturevalue(recaller)

    tx = registry.recallLot(lot_id, "glass splinters", sender=account)

    assert_emitted(tx, registry.LotRecalled(lot_id, account, "glass splinters"))
    for iid in recalled:
        record = item_record(registry, iid)
        assert (record["recalled"], record["recalledAt"]) == (True, tx.timestamp)
    assert (item_record(registry, other)["recalled"], item_record(registry, other)["recalledAt"]) == (
        False,
        0,
    )
    assert registry.getLot(lot_id).recalledAt == tx.timestamp
    assert registry.getLot(other_lot_id).recalledAt == 0


def test_recall_lot__items_moved_on__still_read_recalled(registry, register, lot_id, brand, distributor):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)
    registry.accept(iid, sender=distributor)

    registry.recallLot(lot_id, "glass splinters", sender=brand)

    assert item_record(registry, iid)["recalled"]


@pytest.mark.parametrize("caller", ["rogue", "distributor"])
def test_recall_lot__by_other_account__reverts_not_lot_registrar(
    registry, register, lot_id, brand, distributor, request, caller
):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)
    registry.accept(iid, sender=distributor)  # even the custodian of an item of the lot may not
    account = request.getfixturevalue(caller)

    with reverts_with(registry.NotLotRegistrar, lotId=lot_id, account=account, registrar=brand):
        registry.recallLot(lot_id, "not mine to recall", sender=account)


def test_recall_lot__already_recalled__reverts_lot_is_recalled(registry, lot_id, brand, admin):
    registry.recallLot(lot_id, "glass splinters", sender=brand)

    with reverts_with(registry.LotIsRecalled, lotId=lot_id):
        registry.recallLot(lot_id, "again", sender=admin)


def test_recall_lot__unknown_lot__reverts_unknown_lot(registry, admin):
    with reverts_with(registry.UnknownLot, lotId=99):
        registry.recallLot(99, "no such lot", sender=admin)


def test_recalled_item__offer_accept_and_signed_handoff__still_move(
    registry, register, lot_id, brand, distributor, retailer, sign_handoff, deadline
):
    """Recalled items can still move, so that they can be returned."""
    (iid,) = register("JAR-1")
    registry.recallLot(lot_id, "glass splinters", sender=brand)

    registry.offer(iid, distributor, sender=brand)
    registry.accept(iid, sender=distributor)
    signature = sign_handoff(retailer, [iid], distributor, retailer, deadline)
    registry.handoff(iid, retailer, deadline, signature, sender=distributor)

    assert custody(registry, iid) == (retailer, ZERO_ADDRESS, 2)
    assert item_record(registry, iid)["recalled"]
