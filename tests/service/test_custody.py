"""Registry use cases of custody: which items (URIs, ids, GTIN + serial, a whole lot), offer,
accept, reject, cancel, and the signed one-transaction handoff."""

from __future__ import annotations

from dataclasses import replace

import pytest

from supplytrace.core.acceptance import AcceptanceError
from supplytrace.core.errors import ContractRevertError, SupplytraceError
from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.core.records import ItemRecord, ItemStatus
from supplytrace.service.handoffs import Acceptance, read_acceptance, sign
from supplytrace.service.selection import Applies, ItemSelection, SelectionError
from tests.conftest import HONEY_GTIN, LOT_CODE
from tests.service.conftest import RESOLVER, nonce

LOT = f"{HONEY_GTIN}:{LOT_CODE}"


def custody(registry, item: bytes) -> tuple[str | None, str | None]:
    record = registry.item(item)
    return record.custodian, record.pending_receiver


# ----------------------------------------------------------------------------------------------
# Which items
# ----------------------------------------------------------------------------------------------


def test_select__uri_id_and_gtin_serial__the_named_items_in_order(as_, brand, register):
    a, b, c = register("S-1", "S-2", "S-3")
    uri = ItemKey(HONEY_GTIN, "S-1", LOT_CODE).digital_link(RESOLVER)
    named = ItemSelection(items=(uri, "0x" + b.hex().upper()), gtin=HONEY_GTIN[1:], serial="S-3")
    assert as_(brand).select(named) == [a, b, c]


@pytest.mark.parametrize(
    ("selection", "error", "sentence"),
    [
        (ItemSelection(), SelectionError, "name at least one item: a Digital Link URI, a 0x item id"),
        (ItemSelection(gtin=HONEY_GTIN), SelectionError, "--gtin and --serial go together"),
        (ItemSelection(serial="S-1"), SelectionError, "--gtin and --serial go together"),
        (ItemSelection(items=("0x1234",)), IdentityError, "'0x1234' is not an item id"),
        (
            ItemSelection(items=("https://id.example.com/01/09506000134352",)),
            IdentityError,
            "does not identify one item",
        ),
    ],
)
def test_select__nothing_or_malformed__one_sentence_with_the_fix(reader, selection, error, sentence):
    with pytest.raises(error, match=sentence):
        reader.select(selection)


def test_select__empty_list__says_name_an_item(reader):
    with pytest.raises(SelectionError, match="name at least one item"):
        reader.select([])


def test_select__whole_lot__only_the_items_that_apply(as_, brand, distributor, register, lot_id):
    held, offered, sold = register("W-1", "W-2", "W-3")
    registry = as_(brand)
    registry.offer([offered], to=distributor.address)
    registry.sell([sold])
    lot = ItemSelection(lot_ref=LOT)
    assert registry.select(lot) == [held]  # default: held by the signer, no open offer
    assert registry.select(lot, Applies(holder=brand.address, offered=True)) == [offered]
    assert as_(distributor).select(lot, Applies(offered_to=distributor.address)) == [offered]
    with pytest.raises(
        SelectionError, match=f"no item of lot {lot_id} is offered to {brand.address}; check the lot"
    ):
        registry.select(lot, Applies(offered_to=brand.address))


def test_applies__records__held_offered_and_sold(brand, distributor):
    base = replace(ItemRecord.unknown(b"\1" * 32), status=ItemStatus.ACTIVE, custodian=brand.address)
    offered = replace(base, pending_receiver=distributor.address)
    sold = replace(base, status=ItemStatus.SOLD)
    assert Applies(holder=brand.address.lower())(base) and not Applies(holder=brand.address)(offered)
    assert Applies(holder=brand.address, offered=True)(offered)
    assert Applies(offered_to=distributor.address)(offered) and not Applies(offered_to=brand.address)(offered)
    assert not Applies(holder=brand.address)(sold) and not Applies()(base)


# ----------------------------------------------------------------------------------------------
# Offer, accept, reject, cancel
# ----------------------------------------------------------------------------------------------


def test_offer_accept__one_item__single_functions_and_custody_moves(as_, brand, distributor, register):
    (item,) = register("O-1")
    moved = as_(brand).offer([item], to=distributor.address.lower())
    assert moved.items == (item,) and [m.sent.success for m in moved.moves] == [True]
    assert custody(as_(brand), item) == (brand.address, distributor.address)
    as_(distributor).accept([item])
    assert custody(as_(brand), item) == (distributor.address, None)
    assert as_(brand).item(item).custody_nonce == 1


def test_offer_accept__whole_lot__one_transaction_each(as_, brand, distributor, register, rpc):
    ids = register("P-1", "P-2", "P-3")
    before = nonce(rpc, brand)
    moved = as_(brand).offer(ItemSelection(lot_ref=LOT), to=distributor.address)
    assert moved.items == tuple(ids) and nonce(rpc, brand) == before + 1
    accepted = as_(distributor).accept(ItemSelection(lot_ref=LOT))
    assert accepted.items == tuple(ids)
    assert all(custody(as_(brand), i) == (distributor.address, None) for i in ids)


def test_reject_and_cancel__open_offers__withdrawn(as_, brand, distributor, register):
    first, second = register("Q-1", "Q-2")
    registry = as_(brand)
    registry.offer([first, second], to=distributor.address)
    assert as_(distributor).reject(ItemSelection(items=("0x" + first.hex(),))).items == (first,)
    assert registry.cancel(ItemSelection(lot_ref=LOT)).items == (second,)
    assert custody(registry, first) == custody(registry, second) == (brand.address, None)


def test_offer__not_the_custodian__the_registrys_sentence(as_, rogue, distributor, register):
    (item,) = register("N-1")
    with pytest.raises(
        ContractRevertError, match=f"you \\({rogue.address}\\) do not hold item 0x{item.hex()}"
    ):
        as_(rogue).offer([item], to=distributor.address)


def test_offer__unregistered_item__the_registrys_sentence(as_, brand, distributor):
    key = ItemKey.create(HONEY_GTIN, "NEVER-MADE")
    with pytest.raises(ContractRevertError, match="is not registered; check the GTIN and serial"):
        as_(brand).offer(ItemSelection(gtin=key.gtin, serial=key.serial), to=distributor.address)


def test_offer__receiver_not_an_address__refused_before_anything_is_sent(as_, brand, register, rpc):
    (item,) = register("A-1")
    before = nonce(rpc, brand)
    with pytest.raises(SelectionError, match="'distributor' is not an Ethereum address"):
        as_(brand).offer([item], to="distributor")
    assert nonce(rpc, brand) == before


def test_accept__nothing_offered_in_the_lot__says_none_applies(as_, distributor, register, lot_id):
    register("Z-1")
    with pytest.raises(SelectionError, match=f"no item of lot {lot_id} is offered to {distributor.address}"):
        as_(distributor).accept(ItemSelection(lot_ref=LOT))


def test_offer__empty_account_with_an_item_it_does_not_hold__says_fund_it(
    as_, stranger, distributor, register
):
    """An account that cannot pay for any transaction hears that first (a zero balance at a
    non-zero gas price), whatever else is wrong."""
    (item,) = register("F-1")
    registry = as_(stranger)
    registry.rpc.request("anvil_setBalance", [stranger.address, "0x0"])
    registry.rpc.request("anvil_setNextBlockBaseFeePerGas", ["0x3b9aca00"])
    registry.rpc.request("evm_mine", [])
    if int(registry.rpc.request("eth_gasPrice", []), 16) == 0:
        pytest.fail("the test node has a zero gas price; the funds check cannot be shown")
    with pytest.raises(SupplytraceError, match=f"{stranger.address} has too little ether for gas; fund it"):
        registry.offer([item], to=distributor.address)


# ----------------------------------------------------------------------------------------------
# Signed acceptances and the one-transaction handoff
# ----------------------------------------------------------------------------------------------


def test_handoff__signed_acceptance_of_one_item__custody_moves_in_one_transaction(
    as_, brand, distributor, register, rpc
):
    (item,) = register("H-1")
    acceptance = as_(distributor).sign_acceptance([item], sender=brand.address, valid_for=600)
    (part,) = acceptance.parts
    request = part.request
    assert (request.items, request.nonces, request.sender, request.receiver) == (
        (item,), (0,), brand.address, distributor.address
    )  # fmt: skip
    head = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert request.deadline >= head + 600
    assert read_acceptance(acceptance.text) == acceptance  # the st1: text carries everything
    before = nonce(rpc, brand)
    moved = as_(brand).handoff(acceptance.text)
    assert moved.items == (item,) and nonce(rpc, brand) == before + 1
    assert custody(as_(brand), item) == (distributor.address, None)


def test_handoff__whole_lot_acceptance_from_a_file__batch_handoff(as_, brand, retailer, register, tmp_path):
    ids = register("B-1", "B-2")
    acceptance = as_(retailer).sign_acceptance(ItemSelection(lot_ref=LOT), sender=brand.address)
    (part,) = acceptance.parts
    assert part.request.items == tuple(ids) and part.request.is_batch
    path = tmp_path / "acceptance.txt"
    path.write_text(acceptance.text + "\n")
    assert as_(brand).handoff(str(path)).items == tuple(ids)
    assert all(custody(as_(brand), i) == (retailer.address, None) for i in ids)


def test_handoff__acceptance_for_another_sender__refused_with_the_fix(
    as_, brand, rogue, distributor, register
):
    (item,) = register("X-1")
    acceptance = as_(distributor).sign_acceptance([item], sender=brand.address)
    with pytest.raises(
        AcceptanceError, match=f"sent by {brand.address}, not by you \\({rogue.address}\\); sign with"
    ):
        as_(rogue).handoff(acceptance)


def test_handoff__acceptance_for_another_registry_or_chain__refused(as_, brand, distributor, register):
    (item,) = register("X-2")
    (acceptance,) = as_(distributor).sign_acceptance([item], sender=brand.address).parts
    elsewhere = Acceptance(replace(acceptance.request, registry="0x" + "11" * 20), acceptance.signature)
    with pytest.raises(AcceptanceError, match=r"for the registry at 0x1111.*; check --network"):
        as_(brand).handoff(elsewhere)
    other_chain = Acceptance(replace(acceptance.request, chain_id=11155111), acceptance.signature)
    with pytest.raises(AcceptanceError, match="for chain 11155111, but the registry is on chain"):
        as_(brand).handoff(other_chain)


def test_handoff__expired_acceptance__the_registrys_sentence(as_, brand, distributor, register, rpc):
    (item,) = register("X-3")
    acceptance = as_(distributor).sign_acceptance([item], sender=brand.address, valid_for=0)
    head = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    rpc.request("evm_increaseTime", [acceptance.parts[0].request.deadline - head + 120])  # past the deadline
    rpc.request("evm_mine", [])
    with pytest.raises(
        ContractRevertError, match=r"signed acceptance expired .* ask the receiver to sign again"
    ):
        as_(brand).handoff(acceptance)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("no-such-file.txt", "is neither an acceptance \\(st1:...\\) nor a file holding one; give the text"),
        ("st1:not-base64!", "the acceptance is damaged .* ask the receiver to send it again"),
    ],
)
def test_read_acceptance__neither_text_nor_file__one_sentence_with_the_fix(text, sentence):
    with pytest.raises(AcceptanceError, match=sentence):
        read_acceptance(text)


def test_sign__signer_that_signs_transactions_only_or_another_receiver__refused(
    as_, brand, distributor, register
):
    (item,) = register("X-4")
    request = as_(distributor).handoff_request([item], sender=brand.address)

    class TransactionsOnly:
        address = distributor.address

    with pytest.raises(SupplytraceError, match="cannot sign an acceptance"):
        sign(TransactionsOnly(), request)
    with pytest.raises(SupplytraceError, match=f"the acceptance is for {distributor.address}, not for"):
        sign(as_(brand).sender.signer, request)
