"""Bulk custody: offer, accept, reject, cancel and signed handoffs of many items in gas-sized
chunks, sell and record one transaction per item; the cost told before sending, progress, and a
rerun after an interruption that finishes the job without repeating what is done."""

from __future__ import annotations

from collections import Counter

import pytest

from supplytrace.chain.gas import BATCH_GAS
from supplytrace.chain.history import ChainHistory
from supplytrace.chain.send import TX_GAS_CAP
from supplytrace.core.errors import ChainError, InterruptedRunError, SupplytraceError
from supplytrace.core.events import CustodyOffered, CustodyTransferred, ItemObserved, topic0
from supplytrace.core.records import ItemStatus
from supplytrace.service.bulk import Cost, RunOptions
from supplytrace.service.handoffs import read_acceptance
from supplytrace.service.selection import ItemSelection
from tests.conftest import HONEY_GTIN, LOT_CODE
from tests.service.conftest import nonce

LOT = f"{HONEY_GTIN}:{LOT_CODE}"


def stop_after_first(moved) -> None:
    raise KeyboardInterrupt


def events(registry, kind) -> Counter[bytes]:
    """How many ``kind`` events each item has."""
    history = ChainHistory(registry.rpc, registry.address, 0)
    return Counter(e.event.item_id for e in history.logs([topic0(kind)]) if isinstance(e.event, kind))


# ----------------------------------------------------------------------------------------------
# Chunks
# ----------------------------------------------------------------------------------------------


def test_offer__more_items_than_a_chunk__one_transaction_per_chunk(as_, brand, distributor, register, rpc):
    ids = register(*(f"C-{n}" for n in range(7)))
    before = nonce(rpc, brand)
    result = as_(brand).offer(ids, to=distributor.address, run=RunOptions(max_items_per_tx=3))
    assert [len(m.items) for m in result.moves] == [3, 3, 1]
    assert result.items == tuple(ids) and result.done == ()
    assert nonce(rpc, brand) == before + 3
    assert result.fee_wei == sum(m.sent.fee_wei for m in result.moves)
    assert all(r.pending_receiver == distributor.address for r in as_(brand).items(ids))


def test_offer_accept__1200_items_at_a_16777216_block_gas_limit__chunks_under_the_cap_each_item_once(
    as_, brand, distributor, block_gas_limit
):
    """At 16,777,216 gas a transaction (EIP-7825's cap, and this node's block gas limit) takes 538
    offers or 1,111 accepts: 1,200 items need 3 offers and 2 accepts (1,000 accepts fit one)."""
    block_gas_limit(TX_GAS_CAP)
    serials = [f"BIG-{n:05d}" for n in range(1200)]
    registered = as_(brand).register_items(HONEY_GTIN, LOT_CODE, serials)
    assert len(registered.transactions) >= 2
    offered = as_(brand).offer(ItemSelection(lot_ref=LOT), to=distributor.address)
    accepted = as_(distributor).accept(ItemSelection(lot_ref=LOT))
    for result in (offered, accepted):
        assert len(result.moves) >= 2 and len(result.items) == 1200
        assert all(m.sent.gas_limit <= TX_GAS_CAP and m.sent.success for m in result.moves)
    assert sorted(offered.items) == sorted(accepted.items)
    offers, transfers = events(as_(brand), CustodyOffered), events(as_(brand), CustodyTransferred)
    assert set(offers) == set(transfers) == set(offered.items)
    assert set(offers.values()) == set(transfers.values()) == {1}  # every item moved exactly once


def test_batch_gas__each_batch_function_estimated_on_anvil__within_its_measured_constants(
    as_, brand, distributor, retailer, register, rpc
):
    """The per-item and base gas the chunks are sized from are upper bounds of the node's
    estimates (measured: offer 27,374 per item, accept 13,224, cancel 10,068, reject 10,013,
    handoff 11,049; base 22,000-29,500)."""
    ids = register(*(f"G-{n}" for n in range(40)))

    def within(registry, name: str, *args) -> None:
        sender = registry.sender
        measured = [
            sender.estimate(sender.calldata(name, ids[:n], *args), to=registry.address) for n in (2, 40)
        ]
        gas = BATCH_GAS[name]
        assert measured[1] - measured[0] <= 38 * gas.per_item, (name, measured)
        assert measured[0] <= gas.gas(2) and measured[1] <= gas.gas(40), (name, measured)

    within(as_(brand), "offerBatch", distributor.address)
    as_(brand).offer(ids, to=distributor.address)
    within(as_(brand), "cancelOfferBatch")
    within(as_(distributor), "rejectOfferBatch")
    within(as_(distributor), "acceptBatch")
    as_(brand).cancel(ids)
    for n in (2, 40):
        (part,) = as_(retailer).sign_acceptance(ids[:n], sender=brand.address).parts
        sender = as_(brand).sender
        data = sender.calldata(
            "handoffBatch", ids[:n], retailer.address, part.request.deadline, part.signature
        )
        assert sender.estimate(data, to=sender.registry) <= BATCH_GAS["handoffBatch"].gas(n)


def test_batch_gas__register_items_with_codes_estimated_on_anvil__within_its_measured_constants(
    as_, brand, lot_id
):
    """Hidden-code batches are sized from ``registerItemsWithCodes``' constants too."""
    from supplytrace.core.codes import CodeTree, leaf, new_code
    from supplytrace.core.ids import encode_code, item_id

    sender = as_(brand).sender
    measured = []
    for n in (2, 40):
        serials = [f"W{n}-{k}" for k in range(n)]
        tree = CodeTree.of(leaf(item_id(HONEY_GTIN, s), new_code()) for s in serials)
        data = sender.calldata("registerItemsWithCodes", lot_id, [encode_code(s) for s in serials], tree.root)
        measured.append(sender.estimate(data, to=sender.registry))
    gas = BATCH_GAS["registerItemsWithCodes"]
    assert measured[1] - measured[0] <= 38 * gas.per_item, measured
    assert measured[0] <= gas.gas(2) and measured[1] <= gas.gas(40), measured


# ----------------------------------------------------------------------------------------------
# The cost, told before anything is sent
# ----------------------------------------------------------------------------------------------


def test_offer__several_chunks__before_send_told_transactions_gas_and_fee(
    as_, brand, distributor, register, rpc
):
    ids = register(*(f"K-{n}" for n in range(5)))
    told: list[Cost] = []
    as_(brand).offer(ids, to=distributor.address, run=RunOptions(max_items_per_tx=2, before_send=told.append))
    (cost,) = told
    assert (cost.items, cost.transactions, cost.done) == (5, 3, 0)
    gas = BATCH_GAS["offerBatch"]
    assert cost.gas == gas.gas(2) * 2 + gas.gas(1)
    assert cost.fee_wei == cost.gas * cost.gas_price > 0
    assert "3 transactions, about" in cost.sentence() and "ETH at the current base fee" in cost.sentence()


def test_offer__before_send_refuses__nothing_sent(as_, brand, distributor, register, rpc):
    ids = register("K-10", "K-11")
    before = nonce(rpc, brand)

    def refuse(cost: Cost) -> None:
        raise SupplytraceError("not now")

    with pytest.raises(SupplytraceError, match="not now"):
        as_(brand).offer(ids, to=distributor.address, run=RunOptions(before_send=refuse))
    assert nonce(rpc, brand) == before


# ----------------------------------------------------------------------------------------------
# Progress, interruptions and reruns
# ----------------------------------------------------------------------------------------------


def test_offer__interrupted_after_the_first_chunk__exit_3_then_the_rerun_offers_the_rest_once(
    as_, brand, distributor, register, rpc
):
    ids = register(*(f"I-{n}" for n in range(7)))
    before = nonce(rpc, brand)
    shown: list[tuple[int, int]] = []
    run = RunOptions(
        max_items_per_tx=3, on_sent=stop_after_first, on_progress=lambda d, t: shown.append((d, t))
    )
    with pytest.raises(
        InterruptedRunError, match=r"3 of 7 items were offered.*run the same command again"
    ) as caught:
        as_(brand).offer(ids, to=distributor.address, run=run)
    assert caught.value.exit_code == 3 and nonce(rpc, brand) == before + 1
    assert shown == [(0, 7), (3, 7)]
    rerun = as_(brand).offer(ids, to=distributor.address, run=RunOptions(max_items_per_tx=3))
    assert rerun.done == tuple(ids[:3]) and rerun.items == tuple(ids[3:])
    assert [len(m.items) for m in rerun.moves] == [3, 1]
    assert nonce(rpc, brand) == before + 3  # total transactions = chunks
    offers = events(as_(brand), CustodyOffered)
    assert [offers[i] for i in ids] == [1] * 7  # no item offered twice


def test_offer__node_fails_after_the_first_chunk__interrupted_and_says_a_rerun_finishes(
    as_, brand, distributor, register, monkeypatch
):
    ids = register(*(f"J-{n}" for n in range(4)))
    registry = as_(brand)
    sent = []
    real = registry.sender.transact

    def flaky(*args, **kwargs):
        if sent:
            raise ChainError("the node is not reachable")
        sent.append(real(*args, **kwargs))
        return sent[-1]

    monkeypatch.setattr(registry.sender, "transact", flaky)
    with pytest.raises(
        InterruptedRunError, match=r"2 of 4 items were offered.*node is not reachable.*run the same"
    ):
        registry.offer(ids, to=distributor.address, run=RunOptions(max_items_per_tx=2))


def test_offer__list_partly_offered_to_the_receiver__only_the_rest_sent_done_counted(
    as_, brand, distributor, register, rpc
):
    ids = register("D-1", "D-2", "D-3")
    as_(brand).offer(ids[:2], to=distributor.address)
    before = nonce(rpc, brand)
    result = as_(brand).offer(ids, to=distributor.address)
    assert result.done == tuple(ids[:2]) and result.items == (ids[2],)
    assert nonce(rpc, brand) == before + 1
    again = as_(brand).offer(ids, to=distributor.address)
    assert again.done == tuple(ids) and again.moves == () and nonce(rpc, brand) == before + 1


def test_accept__lot_partly_accepted__accepts_the_rest_and_counts_the_done(as_, brand, distributor, register):
    ids = register("E-1", "E-2", "E-3")
    as_(brand).offer(ids, to=distributor.address)
    as_(distributor).accept(ids[:1])
    result = as_(distributor).accept(ItemSelection(lot_ref=LOT))
    assert result.items == tuple(ids[1:]) and result.done == (ids[0],)
    again = as_(distributor).accept(ItemSelection(lot_ref=LOT))
    assert again.moves == () and again.done == tuple(ids)


def test_reject_cancel__list_with_items_without_an_open_offer__those_counted_done(
    as_, brand, distributor, register
):
    ids = register("F-1", "F-2", "F-3", "F-4")
    as_(brand).offer(ids, to=distributor.address)
    as_(distributor).reject(ids[:1])
    rejected = as_(distributor).reject(ids[:2])
    assert rejected.items == (ids[1],) and rejected.done == (ids[0],)
    as_(brand).cancel(ids[2:3])
    cancelled = as_(brand).cancel(ids[2:])
    assert cancelled.items == (ids[3],) and cancelled.done == (ids[2],)


def test_sell__interrupted_after_the_first_item__rerun_sells_the_rest_once(as_, brand, register, rpc):
    ids = register("V-1", "V-2", "V-3")
    before = nonce(rpc, brand)
    with pytest.raises(InterruptedRunError, match="1 of 3 items were sold"):
        as_(brand).sell(ids, run=RunOptions(on_sent=stop_after_first))
    result = as_(brand).sell(ids)
    assert result.done == (ids[0],) and [m.items for m in result] == [(ids[1],), (ids[2],)]
    assert nonce(rpc, brand) == before + 3
    assert [r.status for r in as_(brand).items(ids)] == [ItemStatus.SOLD] * 3


def test_record__interrupted_after_the_first_item__rerun_records_each_item_once(as_, brand, register, rpc):
    ids = register("W-1", "W-2", "W-3")
    before = nonce(rpc, brand)
    with pytest.raises(InterruptedRunError, match="1 of 3 items were recorded"):
        as_(brand).record(ids, "inspecting", data=b"report", run=RunOptions(on_sent=stop_after_first))
    result = as_(brand).record(ids, "inspecting", data=b"report")
    assert result.done == (ids[0],) and result.items == tuple(ids[1:])
    assert nonce(rpc, brand) == before + 3
    assert [events(as_(brand), ItemObserved)[i] for i in ids] == [1, 1, 1]
    # The run finished: the same observation again is a new run (a second inspection), not a rerun.
    assert as_(brand).record(ids, "inspecting", data=b"report").items == tuple(ids)


# ----------------------------------------------------------------------------------------------
# Signed acceptances in parts
# ----------------------------------------------------------------------------------------------


def test_sign_acceptance__more_items_than_a_chunk__signed_parts_in_one_text(as_, brand, retailer, register):
    ids = register(*(f"H-{n}" for n in range(5)))
    acceptance = as_(retailer).sign_acceptance(ids, sender=brand.address, max_items_per_tx=2)
    assert [p.request.items for p in acceptance.parts] == [tuple(ids[:2]), tuple(ids[2:4]), (ids[4],)]
    assert len({p.signature for p in acceptance.parts}) == 3
    assert acceptance.items == tuple(ids)
    assert read_acceptance(acceptance.text) == acceptance
    assert read_acceptance("".join(acceptance.text.split())) == acceptance  # as pasted from a terminal


def test_handoff__acceptance_in_parts_interrupted__rerun_hands_over_the_rest_once(
    as_, brand, retailer, register, rpc, tmp_path
):
    ids = register(*(f"HP-{n}" for n in range(5)))
    acceptance = as_(retailer).sign_acceptance(ids, sender=brand.address, max_items_per_tx=2)
    path = tmp_path / "acceptance.txt"
    path.write_text(acceptance.text + "\n")
    before = nonce(rpc, brand)
    with pytest.raises(InterruptedRunError, match="2 of 5 items were handed over"):
        as_(brand).handoff(str(path), run=RunOptions(on_sent=stop_after_first))
    result = as_(brand).handoff(str(path))
    assert result.done == tuple(ids[:2]) and [m.items for m in result.moves] == [tuple(ids[2:4]), (ids[4],)]
    assert nonce(rpc, brand) == before + 3
    assert all(r.custodian == retailer.address for r in as_(brand).items(ids))
    assert [events(as_(brand), CustodyTransferred)[i] for i in ids] == [1] * 5
