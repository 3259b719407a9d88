"""Containers (GS1 SSCC cases and pallets): packing, custody of everything inside in one write,
unpacking, and what a packed item refuses (issue #14)."""

from __future__ import annotations

import itertools

import pytest

from supplytrace.core.ids import container_id, encode_code, sscc_with_check_digit
from tests.conftest import ZERO_ADDRESS, assert_emitted, reverts_with

BRAND_PREFIX, DISTRIBUTOR_PREFIX = "9506000", "9506001"
DEADLINE = 2**40


def sscc(prefix: str, reference: int, extension: int = 0) -> int:
    return int(sscc_with_check_digit(f"{extension}{prefix}{reference:09d}"))


def cid(value: int) -> bytes:
    return container_id(value)


@pytest.fixture(scope="module")
def prefixes(registry, setup_brand, admin, brand, distributor):
    registry.assignCompanyPrefix(int(BRAND_PREFIX), 7, brand, sender=admin)
    registry.assignCompanyPrefix(int(DISTRIBUTOR_PREFIX), 7, distributor, sender=admin)


_pallets = itertools.count(1)


@pytest.fixture
def pallet(registry, prefixes, register, brand):
    """Six items in two cases of three, both cases on one pallet, all held by the brand:
    (pallet id, [case a id, case b id], items). Fresh serials and SSCCs each time, so that no
    test depends on the chain being reset between tests."""
    n = next(_pallets)
    items = register(*[f"PAL-{n}-{k}" for k in range(6)])
    case_a, case_b, whole = (sscc(BRAND_PREFIX, 1000 * n + k) for k in (1, 2, 3))
    registry.pack(case_a, items[:3], sender=brand)
    registry.pack(case_b, items[3:], sender=brand)
    registry.pack(whole, [cid(case_a), cid(case_b)], sender=brand)
    return cid(whole), [cid(case_a), cid(case_b)], items


def test_pack__new_sscc__container_created_and_contents_packed(registry, prefixes, register, brand):
    items = register("NEW-1", "NEW-2")
    case = sscc(BRAND_PREFIX, 10)
    tx = registry.pack(case, items, sender=brand)
    assert_emitted(
        tx,
        registry.ContainerCreated(cid(case), case, brand),
        registry.ContainerPacked(cid(case), brand, items),
    )
    box = registry.getContainer(cid(case))
    assert (box.sscc, box.custodian, box.level, box.container) == (case, brand, 1, b"\0" * 32)
    for item in items:
        record = registry.getItem(item)
        assert (record.custodian, record.container) == (brand, cid(case))
    assert registry.containerIdOf(case) == cid(case)


def test_offer_accept__pallet_of_cases__every_item_moves_in_one_write(registry, pallet, brand, distributor):
    whole, cases, items = pallet
    registry.offer(whole, distributor, sender=brand)
    assert registry.getContainer(whole).pendingReceiver == distributor
    tx = registry.accept(whole, sender=distributor)
    assert_emitted(tx, registry.CustodyTransferred(whole, brand, distributor))
    for item in items:
        assert registry.getItem(item).custodian == distributor
    assert [registry.getContainer(case).custodian for case in cases] == [distributor] * 2
    assert registry.getContainer(cases[0]).container == whole


def test_unpack__pallet_received__cases_then_items_sold_one_by_one(
    registry, pallet, brand, distributor, retailer
):
    whole, cases, items = pallet
    registry.offer(whole, distributor, sender=brand)
    registry.accept(whole, sender=distributor)
    with reverts_with(registry.NotCustodian, itemId=whole, account=brand, custodian=distributor):
        registry.unpack(whole, cases, sender=brand)
    tx = registry.unpack(whole, cases, sender=distributor)
    assert_emitted(tx, registry.ContainerUnpacked(whole, distributor, cases))
    registry.offer(cases[0], retailer, sender=distributor)
    registry.accept(cases[0], sender=retailer)
    registry.unpack(cases[0], items[:3], sender=retailer)
    for item in items[:3]:
        record = registry.getItem(item)
        assert (record.custodian, record.container) == (retailer, b"\0" * 32)
        registry.sell(item, sender=retailer)
        assert registry.getItem(item).status == 2
    assert registry.getItem(items[3]).custodian == distributor  # still in case b, held by the distributor


def test_handoff__signed_by_the_receiver__pallet_moves(registry, pallet, brand, distributor, sign_handoff):
    whole, _, items = pallet
    nonce = registry.getContainer(whole).custodyNonce
    signature = sign_handoff(distributor, [whole], brand, distributor, DEADLINE, nonces=[nonce])
    registry.handoff(whole, distributor, DEADLINE, signature, sender=brand)
    assert {registry.getItem(item).custodian for item in items} == {distributor.address}
    assert registry.getContainer(whole).custodyNonce == nonce + 1


def test_relayed_offer_and_accept__pallet__moved_by_a_relayer(
    registry, pallet, brand, distributor, stranger, sign_action
):
    whole, _, items = pallet
    nonce = registry.getContainer(whole).custodyNonce
    signature = sign_action(brand, "offer", whole, DEADLINE, nonce=nonce, to=distributor)
    registry.offerBySig(whole, distributor, DEADLINE, signature, sender=stranger)
    signature = sign_action(distributor, "accept", whole, DEADLINE, nonce=nonce)
    registry.acceptBySig(whole, DEADLINE, signature, sender=stranger)
    assert {registry.getItem(item).custodian for item in items} == {distributor.address}


def test_reject_and_cancel__pallet_offer__ended_and_nothing_moves(registry, pallet, brand, distributor):
    whole, _, items = pallet
    registry.offer(whole, distributor, sender=brand)
    registry.rejectOffer(whole, sender=distributor)
    registry.offer(whole, distributor, sender=brand)
    registry.cancelOffer(whole, sender=brand)
    assert registry.getContainer(whole).pendingReceiver == ZERO_ADDRESS
    assert {registry.getItem(item).custodian for item in items} == {brand.address}


def test_packed_item__moved_sold_or_observed_alone__refused_naming_its_container(
    registry, pallet, brand, distributor, sign_handoff
):
    whole, cases, items = pallet
    item = items[0]
    with reverts_with(registry.ItemPacked, id=item, containerId=cases[0]):
        registry.offer(item, distributor, sender=brand)
    with reverts_with(registry.ItemPacked, id=item, containerId=cases[0]):
        registry.sell(item, sender=brand)
    with reverts_with(registry.ItemPacked, id=item, containerId=cases[0]):
        registry.record(item, encode_code("inspecting"), b"\1" * 32, sender=brand)
    signature = sign_handoff(distributor, [item], brand, distributor, DEADLINE)
    with reverts_with(registry.ItemPacked, id=item, containerId=cases[0]):
        registry.handoff(item, distributor, DEADLINE, signature, sender=brand)
    with reverts_with(registry.ItemPacked, id=cases[0], containerId=whole):
        registry.offer(cases[0], distributor, sender=brand)
    with reverts_with(registry.ItemPacked, id=cases[0], containerId=whole):
        registry.unpack(cases[0], items[:1], sender=brand)


def test_pack__offered_item__offer_suspended_then_lapses_with_a_new_holder(
    registry, prefixes, register, brand, distributor, retailer
):
    first, second = register("VOID-1", "VOID-2")
    case = sscc(BRAND_PREFIX, 20)
    registry.offer(first, distributor, sender=brand)
    registry.offer(second, distributor, sender=brand)
    registry.pack(case, [first, second], sender=brand)
    assert registry.getItem(first).pendingReceiver == ZERO_ADDRESS
    with reverts_with(registry.NoPendingOffer, itemId=first):
        registry.accept(first, sender=distributor)
    registry.unpack(cid(case), [first], sender=brand)  # the offerer holds it again: the offer stands
    assert registry.getItem(first).pendingReceiver == distributor
    registry.offer(cid(case), retailer, sender=brand)
    registry.accept(cid(case), sender=retailer)
    registry.unpack(cid(case), [second], sender=retailer)  # held by the retailer: the brand's offer lapsed
    assert registry.getItem(second).pendingReceiver == ZERO_ADDRESS
    with reverts_with(registry.NoPendingOffer, itemId=second):
        registry.accept(second, sender=distributor)
    registry.offer(second, brand, sender=retailer)
    assert registry.getItem(second).pendingReceiver == brand


def test_pack__refusals__each_named(registry, prefixes, register, brand, distributor, rogue):
    a, b = register("REF-1", "REF-2")
    case = sscc(BRAND_PREFIX, 30)
    with reverts_with(
        registry.SsccNotOwned, sscc=sscc(DISTRIBUTOR_PREFIX, 1), account=brand, owner=distributor
    ):
        registry.pack(sscc(DISTRIBUTOR_PREFIX, 1), [a], sender=brand)
    with reverts_with(registry.InvalidSscc, sscc=case + 1 if case % 10 != 9 else case - 1):
        registry.pack(case + 1 if case % 10 != 9 else case - 1, [a], sender=brand)
    with reverts_with(registry.NotCustodian, itemId=a, account=distributor, custodian=brand):
        registry.pack(sscc(DISTRIBUTOR_PREFIX, 2), [a], sender=distributor)
    with reverts_with(registry.EmptyBatch):
        registry.pack(case, [], sender=brand)
    registry.pack(case, [a], sender=brand)
    with reverts_with(registry.NotCustodian, itemId=cid(case), account=rogue, custodian=brand):
        registry.pack(case, [b], sender=rogue)
    with reverts_with(registry.ItemPacked, id=a, containerId=cid(case)):
        registry.pack(case, [a], sender=brand)
    with reverts_with(registry.NotAnItem, id=cid(case)):
        registry.pack(case, [b, cid(case)], sender=brand)
    with reverts_with(registry.NotAnItem, id=cid(case)):
        registry.sell(cid(case), sender=brand)
    with reverts_with(registry.NotInContainer, id=b, containerId=cid(case)):
        registry.unpack(cid(case), [b], sender=brand)
    registry.offer(cid(case), distributor, sender=brand)
    with reverts_with(registry.OfferPending, itemId=cid(case), receiver=distributor):
        registry.pack(case, [b], sender=brand)
    with reverts_with(registry.OfferPending, itemId=cid(case), receiver=distributor):
        registry.unpack(cid(case), [a], sender=brand)
    registry.sell(b, sender=brand)
    with reverts_with(registry.ItemAlreadySold, itemId=b):
        registry.pack(sscc(BRAND_PREFIX, 31), [b], sender=brand)


def test_pack__eighth_level__container_too_deep(registry, prefixes, register, brand):
    (item,) = register("DEEP-1")
    inner = [item]
    for level in range(1, 8):
        outer = sscc(BRAND_PREFIX, 100 + level)
        registry.pack(outer, inner, sender=brand)
        assert registry.getContainer(cid(outer)).level == level
        inner = [cid(outer)]
    assert registry.getItem(item).custodian == brand  # read through seven containers
    with reverts_with(registry.ContainerTooDeep, containerId=cid(sscc(BRAND_PREFIX, 200))):
        registry.pack(sscc(BRAND_PREFIX, 200), inner, sender=brand)


def test_get_item__container_id__empty_record(registry, pallet):
    whole, _, _ = pallet
    assert registry.getItem(whole).status == 0
    assert registry.getContainer(b"\x42" * 32).sscc == 0
