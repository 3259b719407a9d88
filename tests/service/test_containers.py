"""Registry use cases of containers (GS1 SSCC): a pallet of cases of items packed, offered and
accepted, handed over with a signed acceptance and through a relayer, unpacked, and its items sold
one by one; a packed item does not move alone. Reruns skip what is done."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import NamedTuple

import pytest

from supplytrace.core.errors import ContractRevertError, SupplytraceError
from supplytrace.core.ids import container_id, encode_code, sscc_with_check_digit
from supplytrace.service.containers import ever_packed, file_items, sscc
from supplytrace.service.relaying import poster, relay_handoff, relay_steps
from supplytrace.service.selection import ItemSelection
from tests.conftest import HONEY_GTIN, METADATA_HASH
from tests.service.test_relaying import URL, book, relayer_for  # noqa: F401 (fixtures)

PREFIX = 9506000
# for the tests that send nothing
CASE_A = sscc_with_check_digit("09506000000000001")
PALLET = sscc_with_check_digit("19506000000000001")
_runs = itertools.count(1)


class Codes(NamedTuple):
    """One test's own codes: two case SSCCs, a pallet SSCC, a serial tag and a lot of its own, so
    that no test depends on the chain being reset between tests (in the full suite it was not)."""

    case_a: str
    case_b: str
    pallet: str
    tag: str
    lot: int
    lot_code: str


@pytest.fixture(scope="module")
def prefix(registry, admin, brand) -> None:
    """The brand holds GS1 company prefix 9506000: it builds SSCCs from it."""
    registry.assignCompanyPrefix(PREFIX, 7, brand, sender=admin)


@pytest.fixture
def codes(registry, brand, prefix, lot_id) -> Codes:
    n = next(_runs)
    lot_code = f"PK{n}"
    registry.registerLot(int(HONEY_GTIN), encode_code(lot_code, "lot code"), METADATA_HASH, sender=brand)
    return Codes(
        case_a=sscc_with_check_digit(f"09506000{1000 * n + 1:09d}"),
        case_b=sscc_with_check_digit(f"09506000{1000 * n + 2:09d}"),
        pallet=sscc_with_check_digit(f"19506000{1000 * n + 1:09d}"),
        tag=f"T{n}",
        lot=int(registry.lotCount()),
        lot_code=lot_code,
    )


@pytest.fixture
def mint(register, codes) -> Callable[..., list[bytes]]:
    """mint(*serials) -> item ids of fresh serials (the test's tag before each) in the test's lot."""
    return lambda *serials: register(*(f"{codes.tag}-{s}" for s in serials), lot=codes.lot)


def named(*texts: str) -> ItemSelection:
    return ItemSelection(items=texts)


@pytest.fixture
def pallet(as_, brand, mint, codes) -> tuple[list[bytes], list[bytes]]:
    """(items of case A, items of case B): two cases of three jars on a pallet, all the brand's."""
    a = mint("CA-1", "CA-2", "CA-3")
    b = mint("CB-1", "CB-2", "CB-3")
    registry = as_(brand)
    registry.pack(codes.case_a, a)
    registry.pack(f"(00){codes.case_b}", named(*("0x" + i.hex() for i in b)))
    registry.pack(codes.pallet, named(f"(00){codes.case_a}", f"00{codes.case_b}"))
    return a, b


def test_sscc__forms__the_18_digits_or_a_sentence():
    link = f"https://id.example.com/00/{PALLET}"
    assert {sscc(t) for t in (PALLET, f"(00){PALLET}", f"00{PALLET}", link, f" (00) {PALLET} ")} == {PALLET}
    with pytest.raises(SupplytraceError, match="'12' is not an SSCC; give the container's 18 digits"):
        sscc("12")
    with pytest.raises(SupplytraceError, match="is not valid"):
        sscc(PALLET[:-1] + str((int(PALLET[-1]) + 1) % 10))


def test_pack__pallet_of_cases_of_items__each_in_its_container_and_held_by_the_brand(
    codes, pallet, reader, registry, brand
):
    a, b = pallet
    assert {bytes(registry.getItem(i).container) for i in a} == {container_id(codes.case_a)}
    assert {bytes(registry.getItem(i).container) for i in b} == {container_id(codes.case_b)}
    case = registry.getContainer(container_id(codes.case_a))
    assert bytes(case.container) == container_id(codes.pallet)
    assert {reader.item(i).custodian for i in a + b} == {brand.address}
    assert ever_packed(reader, container_id(codes.pallet)) == [
        container_id(codes.case_a),
        container_id(codes.case_b),
    ]


def test_pack__rerun_and_lot__what_is_in_it_is_done_loose_lot_items_packed(as_, brand, mint, codes, registry):
    a = mint("R-1", "R-2")
    loose = mint("R-3")
    registry_ = as_(brand)
    registry_.pack(codes.case_a, a)

    again = registry_.pack(codes.case_a, a)
    assert (again.moves, again.done) == ((), tuple(a))
    by_lot = registry_.pack(codes.case_a, ItemSelection(lot_ref=f"{HONEY_GTIN}:{codes.lot_code}"))
    assert (by_lot.items, set(by_lot.done)) == (tuple(loose), set(a))


def test_pack__many_items_in_small_chunks__several_transactions_a_rerun_sends_nothing(
    as_, brand, mint, codes, registry
):
    items = mint(*(f"M-{n}" for n in range(7)))
    from supplytrace.service.bulk import RunOptions

    result = as_(brand).pack(codes.case_a, items, run=RunOptions(max_items_per_tx=3))
    assert [len(m.items) for m in result] == [3, 3, 1]
    assert {bytes(registry.getItem(i).container) for i in items} == {container_id(codes.case_a)}
    assert len(as_(brand).pack(codes.case_a, items).done) == 7


def test_pack__into_itself_or_a_foreign_prefix__one_sentence(as_, brand, rogue, mint, codes):
    with pytest.raises(SupplytraceError, match=f"container {codes.case_a} cannot be packed into itself"):
        as_(brand).pack(codes.case_a, named(codes.case_a))
    (item,) = mint("F-1")
    with pytest.raises(ContractRevertError, match=f"the company prefix of SSCC {codes.case_a}"):
        as_(rogue).pack(codes.case_a, [item])


def test_offer_accept__the_pallet_by_its_sscc__every_item_moves_with_it(
    codes, pallet, as_, reader, brand, distributor
):
    a, b = pallet
    offered = as_(brand).offer(named(f"(00){codes.pallet}"), to=distributor.address)
    assert offered.items == (container_id(codes.pallet),)
    accepted = as_(distributor).accept(named(f"https://id.example.com/00/{codes.pallet}"))
    assert accepted.items == (container_id(codes.pallet),)
    assert {reader.item(i).custodian for i in a + b} == {distributor.address}
    again = as_(distributor).accept([container_id(codes.pallet), container_id(codes.case_a)])
    assert again.done == (container_id(codes.pallet), container_id(codes.case_a))  # the case came with it


def test_handoff__signed_acceptance_of_the_pallet__nonce_from_the_container(
    codes, pallet, as_, reader, registry, brand, retailer
):
    a, _b = pallet
    acceptance = as_(retailer).sign_acceptance(named(f"00{codes.pallet}"), sender=brand.address)
    nonce = registry.getContainer(container_id(codes.pallet)).custodyNonce
    assert acceptance.parts[0].request.nonces == (nonce,)

    as_(brand).handoff(acceptance)

    assert reader.item(a[0]).custodian == retailer.address
    assert as_(brand).handoff(acceptance).done == (container_id(codes.pallet),)


def test_relay__offer_and_handoff_of_a_pallet__the_container_signed_at_its_nonce(
    codes,
    pallet,
    as_,
    reader,
    brand,
    distributor,
    retailer,
    relayer_for,  # noqa: F811 (fixture)
):
    a, _b = pallet
    _, client = relayer_for()
    post = poster(URL, client=client)
    run = relay_steps(as_(brand), post, "offer", named(f"(00){codes.pallet}"), to=distributor.address)
    assert [r.status for r in run.relayed] == ["success"]
    relay_steps(as_(distributor), post, "accept", named(codes.pallet))
    acceptance = as_(retailer).sign_acceptance(named(codes.pallet), sender=distributor.address)
    relay_handoff(as_(distributor), post, acceptance)
    assert reader.item(a[0]).custodian == retailer.address


def test_unpack__everything_then_a_case__items_loose_sold_one_by_one_rerun_sends_nothing(
    codes, pallet, as_, reader, registry, brand, retailer
):
    a, b = pallet
    acceptance = as_(retailer).sign_acceptance(named(codes.pallet), sender=brand.address)
    as_(brand).handoff(acceptance)
    shop = as_(retailer)

    cases = shop.unpack(codes.pallet)
    assert set(cases.items) == {container_id(codes.case_a), container_id(codes.case_b)}
    jars = shop.unpack(f"(00){codes.case_a}")
    assert set(jars.items) == set(a)
    assert shop.unpack(codes.case_a).done == tuple(a)
    for item in a:
        shop.sell([item])
    assert {reader.item(i).sold for i in a} == {True}
    assert {reader.item(i).custodian for i in b} == {retailer.address}


def test_offer__a_packed_item_alone__refused_naming_its_container(codes, pallet, as_, brand, distributor):
    a, _b = pallet
    with pytest.raises(
        ContractRevertError, match=rf"is packed in container \(00\){codes.case_a}; move the container"
    ):
        as_(brand).offer([a[0]], to=distributor.address)
    with pytest.raises(ContractRevertError, match="move the container, or unpack it first"):
        as_(brand).sell([a[0]])


def test_file_items__lines_and_comments__the_names_in_order(tmp_path):
    path = tmp_path / "contents.txt"
    path.write_text(f"# pallet 1\n(00){CASE_A}\n\n  0x{'ab' * 32}  \n")
    assert file_items(path) == (f"(00){CASE_A}", "0x" + "ab" * 32)
    with pytest.raises(SupplytraceError, match="does not exist"):
        file_items(tmp_path / "missing.txt")


def test_batch_gas__pack_and_unpack_estimated_on_anvil__within_their_constants(as_, brand, mint, codes):
    """Packing and unpacking are sized from ``BATCH_GAS``: upper bounds of the node's estimates
    (a container's first packing, which creates it, included; measured: pack 2 items 107,299 and
    40 items 334,975, unpack 45,436 and 273,302)."""
    from supplytrace.chain.gas import BATCH_GAS

    ids = mint(*(f"P-{n}" for n in range(40)))
    sender = as_(brand).sender
    measured = {
        n: sender.estimate(sender.calldata("pack", int(codes.case_a), ids[:n]), to=sender.registry)
        for n in (2, 40)
    }
    assert measured[40] - measured[2] <= 38 * BATCH_GAS["pack"].per_item, measured
    assert all(measured[n] <= BATCH_GAS["pack"].gas(n) for n in measured), measured
    as_(brand).pack(codes.case_a, ids)
    target = container_id(codes.case_a)
    measured = {
        n: sender.estimate(sender.calldata("unpack", target, ids[:n]), to=sender.registry) for n in (2, 40)
    }
    assert measured[40] - measured[2] <= 38 * BATCH_GAS["unpack"].per_item, measured
    assert all(measured[n] <= BATCH_GAS["unpack"].gas(n) for n in measured), measured


def test_offer__whole_lot_with_packed_items__only_the_loose_ones_then_a_sentence(
    as_, brand, distributor, mint, codes, reader
):
    packed = mint("L-1", "L-2")
    (loose,) = mint("L-3")
    registry = as_(brand)
    registry.pack(codes.case_a, packed)
    lot = ItemSelection(lot_ref=f"{HONEY_GTIN}:{codes.lot_code}")

    assert registry.offer(lot, to=distributor.address).items == (loose,)
    registry.cancel([loose])
    registry.sell([loose])
    with pytest.raises(
        SupplytraceError, match=r"is packed in a container \(2 of them\); name the containers"
    ):
        registry.offer(lot, to=distributor.address)
