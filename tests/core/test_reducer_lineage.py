"""supplytrace.core.reducer (issue #14): measured lots' stock, blends and the reach of a recall
through them, and containers: packing, custody through the outermost container, unpacking;
the story's replay, verdict and timeline of an item that travelled on a pallet."""

from __future__ import annotations

from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.core import story
from supplytrace.core.events import (
    ContainerCreated,
    ContainerPacked,
    ContainerUnpacked,
    CustodyOffered,
    CustodyTransferred,
    ItemObserved,
    ItemRegistered,
    ItemSold,
    Logged,
    LotQuantityDeclared,
    LotRecalled,
    LotRegistered,
    LotTransformed,
    OfferCancelled,
    OfferRejected,
    RegistryEvent,
    subject_ids,
)
from supplytrace.core.ids import container_id, item_id, sscc_with_check_digit
from supplytrace.core.records import ItemStatus, QuantityUnit
from supplytrace.core.reducer import IndexCorruptError, State, lot_record_of
from supplytrace.core.text import ChainText

GTIN = 9506000134352
BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CARRIER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SHOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
GRAM = int(QuantityUnit.GRAM)
SSCC = sscc_with_check_digit("09506000000000042")
CASE_SSCC = sscc_with_check_digit("09506000000000043")
PALLET = container_id(SSCC)
CASE = container_id(CASE_SSCC)
_positions = count(1)


def logged(event: RegistryEvent) -> Logged:
    block = next(_positions)
    return Logged(event, block, 0, "0x" + f"{block:064x}", "0x" + "cd" * 32, 1_700_000_000 + block)


def lot(lot_id: int, code: str) -> Logged:
    return logged(LotRegistered(lot_id, GTIN, BRAND, ChainText(code.encode()), b"\x11" * 32))


def item(serial: str, lot_id: int = 1) -> tuple[bytes, Logged]:
    key = item_id(f"{GTIN:014d}", serial)
    return key, logged(ItemRegistered(key, lot_id, ChainText(serial.encode())))


def fold(*logs: Logged, state: State | None = None) -> State:
    state = state or State()
    for log in logs:
        state.apply(log)
    return state


# ----------------------------------------------------------------------------------------------
# Quantities, blends, recalls
# ----------------------------------------------------------------------------------------------


def test_apply__measured_lot_and_its_items__stock_drawn_per_item():
    first, first_log = item("A1")
    _second, second_log = item("A2")
    state = fold(lot(1, "H-1"), logged(LotQuantityDeclared(1, 10_000, 500, GRAM)), first_log, second_log)

    record = state.lots[1]
    assert (record.unit, record.quantity, record.stock, record.item_quantity) == (GRAM, 10_000, 9_000, 500)
    assert state.record(first).lot_id == 1
    lot_record = lot_record_of(record)
    assert (lot_record.unit, lot_record.stock, lot_record.item_quantity) == (QuantityUnit.GRAM, 9_000, 500)
    assert lot_record.measured and QuantityUnit.GRAM.code == "GRM"


def test_apply__blend_of_two_harvests__inputs_drawn_and_lineage_recorded():
    state = fold(
        lot(1, "H-RO"),
        logged(LotQuantityDeclared(1, 2_000, 0, GRAM)),
        lot(2, "H-BG"),
        logged(LotQuantityDeclared(2, 3_000, 0, GRAM)),
        lot(3, "BLEND"),
        logged(LotTransformed(3, (1, 2, 1), (600, 400, 100), 1_100, 500, GRAM)),
    )

    assert (state.lots[1].stock, state.lots[2].stock) == (1_300, 2_600)
    assert (state.lots[3].quantity, state.lots[3].stock, state.lots[3].unit) == (1_100, 1_100, GRAM)
    made = state.transformations()[3]
    assert [(i.lot_id, i.quantity) for i in made.inputs] == [(1, 600), (2, 400), (1, 100)]
    assert (made.output_quantity, made.unit) == (1_100, "gram")
    assert [(row.position, row.input_lot_id) for row in state.lot_inputs] == [(0, 1), (1, 2), (2, 1)]
    assert {1, 2, 3} <= state.changed_lots


def test_recall__an_ingredient_lot__items_of_the_blend_read_recalled_with_the_cause():
    blended, blended_log = item("B1", lot_id=3)
    state = fold(
        lot(1, "H-RO"),
        logged(LotQuantityDeclared(1, 2_000, 0, GRAM)),
        lot(2, "H-BG"),
        logged(LotQuantityDeclared(2, 3_000, 0, GRAM)),
        lot(3, "BLEND"),
        logged(LotTransformed(3, (1, 2), (600, 400), 1_000, 500, GRAM)),
        lot(4, "BLEND-OF-BLEND"),
        logged(LotTransformed(4, (3,), (200,), 200, 200, GRAM)),
        blended_log,
    )
    record = state.record(blended)
    assert story.status_of(record, state.recall_causes(3)) == "genuine"

    state.apply(logged(LotRecalled(2, BRAND, ChainText(b"antibiotic residue"))))

    causes = state.recall_causes(3)
    assert [(c.lot_id, c.path, c.reason) for c in causes] == [(2, (3, 2), "antibiotic residue")]
    assert not state.record(blended).recalled  # the chain's record: its own lot is not recalled
    assert story.status_of(state.record(blended), causes) == "recalled"
    assert state.recall_reach(2) == {2, 3, 4}
    assert state.recall_reach(1) == {1, 3, 4}
    assert [c.path for c in state.recall_causes(4)] == [(4, 3, 2)]
    assert state.recall_causes(1) == ()


# ----------------------------------------------------------------------------------------------
# Containers
# ----------------------------------------------------------------------------------------------


def packed_pallet() -> tuple[State, bytes, bytes]:
    first, first_log = item("P1")
    second, second_log = item("P2")
    state = fold(
        lot(1, "L-1"),
        first_log,
        second_log,
        logged(ContainerCreated(PALLET, int(SSCC), BRAND)),
        logged(ContainerPacked(PALLET, BRAND, (first, second))),
    )
    return state, first, second


def test_pack__two_items__in_the_pallet_nonce_advanced_held_by_its_custodian():
    state, first, _second = packed_pallet()

    record = state.record(first)
    assert (record.container, record.custodian, record.custody_nonce) == (PALLET, BRAND, 1)
    assert record.packed
    box = state.container_record(PALLET)
    assert (box.sscc18, box.custodian, box.level, box.custody_nonce, box.container) == (
        SSCC,
        BRAND,
        1,
        1,
        None,
    )
    assert set(state.inside(PALLET)) == {first, _second}


def test_custody__pallet_handed_over__every_item_inside_held_by_the_receiver_nonces_kept():
    state, first, second = packed_pallet()

    fold(
        logged(CustodyOffered(PALLET, BRAND, CARRIER)),
        logged(CustodyTransferred(PALLET, BRAND, CARRIER)),
        state=state,
    )

    for inside in (first, second):
        record = state.record(inside)
        assert (record.custodian, record.custody_nonce, record.pending_receiver) == (CARRIER, 1, None)
    box = state.container_record(PALLET)
    assert (box.custodian, box.custody_nonce, box.pending_receiver) == (CARRIER, 2, None)
    assert [(row.item_id, row.holder, row.seq) for row in state.custody] == [(PALLET, CARRIER, 2)]
    assert PALLET in state.changed_containers


def _offered_then_packed() -> tuple[State, bytes]:
    first, first_log = item("P1")
    state = fold(
        lot(1, "L-1"),
        first_log,
        logged(CustodyOffered(first, BRAND, SHOP)),
        logged(ContainerCreated(PALLET, int(SSCC), BRAND)),
        logged(ContainerPacked(PALLET, BRAND, (first,))),
    )
    return state, first


def test_pack__item_with_an_open_offer__offer_suspended_while_packed():
    state, first = _offered_then_packed()

    record = state.record(first)
    assert (record.pending_receiver, record.custody_nonce) == (None, 1)


def test_unpack__by_the_offers_maker__offer_open_again():
    state, first = _offered_then_packed()

    state.apply(logged(ContainerUnpacked(PALLET, BRAND, (first,))))

    assert state.record(first).pending_receiver == SHOP  # as the contract: its maker holds it again


def test_unpack__by_another_holder__offer_lapsed():
    state, first = _offered_then_packed()

    fold(
        logged(CustodyTransferred(PALLET, BRAND, CARRIER)),
        logged(ContainerUnpacked(PALLET, CARRIER, (first,))),
        logged(ContainerPacked(PALLET, CARRIER, (first,))),
        logged(CustodyTransferred(PALLET, CARRIER, BRAND)),
        logged(ContainerUnpacked(PALLET, BRAND, (first,))),
        state=state,
    )

    assert state.record(first).pending_receiver is None  # lapsed for good when the carrier held it


def test_pack__case_into_pallet__items_held_by_the_outermost_level_two():
    first, first_log = item("P1")
    state = fold(
        lot(1, "L-1"),
        first_log,
        logged(ContainerCreated(CASE, int(CASE_SSCC), BRAND)),
        logged(ContainerPacked(CASE, BRAND, (first,))),
        logged(ContainerCreated(PALLET, int(SSCC), BRAND)),
        logged(ContainerPacked(PALLET, BRAND, (CASE,))),
        logged(CustodyTransferred(PALLET, BRAND, CARRIER)),
    )

    assert state.record(first).custodian == CARRIER
    assert state.record(first).container == CASE
    case = state.container_record(CASE)
    assert (case.container, case.custodian, case.level) == (PALLET, CARRIER, 1)
    assert state.container_record(PALLET).level == 2
    assert set(state.inside(PALLET)) == {CASE, first}


def test_unpack__at_the_shop__items_held_by_the_unpacker_out_of_the_pallet():
    state, first, second = packed_pallet()

    fold(
        logged(CustodyTransferred(PALLET, BRAND, SHOP)),
        logged(ContainerUnpacked(PALLET, SHOP, (first,))),
        state=state,
    )

    out = state.record(first)
    assert (out.container, out.custodian, out.custody_nonce) == (None, SHOP, 2)
    still = state.record(second)
    assert (still.container, still.custodian, still.custody_nonce) == (PALLET, SHOP, 1)
    assert state.container_record(PALLET).custody_nonce == 3  # created 0, packed 1, moved 2, unpacked 3
    state.apply(logged(ItemSold(first, SHOP)))
    assert state.record(first).status is ItemStatus.SOLD


def test_apply__container_event_of_an_unknown_container__index_corrupt():
    first, first_log = item("P1")
    state = fold(lot(1, "L-1"), first_log)

    with pytest.raises(IndexCorruptError, match="container"):
        state.apply(logged(ContainerPacked(PALLET, BRAND, (first,))))


def test_apply__container_sold__index_corrupt():
    state, _first, _second = packed_pallet()

    with pytest.raises(IndexCorruptError, match="cannot be sold"):
        state.apply(logged(ItemSold(PALLET, BRAND)))


# ----------------------------------------------------------------------------------------------
# An item's history with its pallet's: replay, verdict, timeline, sentences
# ----------------------------------------------------------------------------------------------


def pallet_journey() -> tuple[list[Logged], bytes, bytes]:
    first, first_log = item("P1")
    second, second_log = item("P2")
    history = [
        lot(1, "L-1"),
        first_log,
        second_log,
        logged(CustodyOffered(PALLET, BRAND, CARRIER)),  # not yet: the pallet does not exist
        logged(ContainerCreated(PALLET, int(SSCC), BRAND)),
        logged(ContainerPacked(PALLET, BRAND, (first, second))),
        logged(CustodyOffered(PALLET, BRAND, CARRIER)),
        logged(CustodyTransferred(PALLET, BRAND, CARRIER)),
        logged(ContainerUnpacked(PALLET, CARRIER, (first,))),
        logged(CustodyTransferred(PALLET, CARRIER, SHOP)),  # the second item goes on alone
    ]
    del history[3]
    return history, first, second


def test_verdict__item_that_travelled_on_a_pallet__agrees_with_the_state():
    history, first, second = pallet_journey()
    state = fold(*history)

    for inside in (first, second):
        own = [log for log in history if subject_ids(log.event)[0] in (None, inside, PALLET)]
        seen = story.replay(inside, own)
        record = state.record(inside)
        assert (seen.last_holder, seen.container, seen.steps) == (
            record.custodian,
            record.container,
            record.custody_nonce,
        )
        assert story.verdict(record, own) is None
    assert state.record(first).custodian == CARRIER and state.record(second).custodian == SHOP


def test_verdict__history_without_the_packing__behind():
    history, first, _second = pallet_journey()
    state = fold(*history)
    without = [
        log
        for log in history
        if subject_ids(log.event)[0] in (None, first, PALLET)
        and not isinstance(log.event, ContainerPacked | ContainerUnpacked)
    ]

    assert story.verdict(state.record(first), without) == "behind"


def test_timeline__item_unpacked_midway__pallet_moves_only_while_inside():
    history, first, second = pallet_journey()

    mine = story.timeline(first, history)
    names = [log.name for log in mine]
    assert names == [
        "LotRegistered",
        "ItemRegistered",
        "ContainerCreated",
        "ContainerPacked",
        "CustodyOffered",
        "CustodyTransferred",
        "ContainerUnpacked",
    ]
    assert subject_ids(mine[1].event)[0] == first
    theirs = [log.name for log in story.timeline(second, history)]
    assert theirs[-1] == "CustodyTransferred" and "ContainerUnpacked" not in theirs


def test_timeline__case_packed_into_pallet__the_pallets_moves_too():
    first, first_log = item("P1")
    history = [
        lot(1, "L-1"),
        first_log,
        logged(ContainerCreated(CASE, int(CASE_SSCC), BRAND)),
        logged(ContainerPacked(CASE, BRAND, (first,))),
        logged(ContainerCreated(PALLET, int(SSCC), BRAND)),
        logged(ContainerPacked(PALLET, BRAND, (CASE,))),
        logged(CustodyTransferred(PALLET, BRAND, CARRIER)),
        logged(ContainerUnpacked(PALLET, CARRIER, (CASE,))),
        logged(CustodyTransferred(PALLET, CARRIER, SHOP)),
        logged(CustodyTransferred(CASE, CARRIER, SHOP)),
    ]

    names = [(log.name, log.block_number) for log in story.timeline(first, history)]
    assert [n for n, _ in names] == [
        "LotRegistered",
        "ItemRegistered",
        "ContainerCreated",
        "ContainerPacked",
        "ContainerCreated",
        "ContainerPacked",
        "CustodyTransferred",
        "ContainerUnpacked",
        "CustodyTransferred",
    ]
    assert names[-1][1] == history[-1].block_number  # the case's move, not the pallet's
    assert fold(*history).record(first).custodian == SHOP
    assert story.verdict(fold(*history).record(first), history) is None


def test_describe__packing_blending_and_a_pallets_move__sentences():
    history, first, _second = pallet_journey()
    names = story.ssccs(history)
    packed = next(log.event for log in history if isinstance(log.event, ContainerPacked))
    moved = next(log.event for log in history if isinstance(log.event, CustodyTransferred))

    assert story.describe(packed, ssccs=names).sentence() == f"{BRAND} packed 2 items into pallet (00) {SSCC}"
    assert story.describe(moved, ssccs=names).sentence({BRAND: "Acme", CARRIER: "Truck"}) == (
        f"Acme handed it over to Truck (with pallet (00) {SSCC})"
    )
    blend = LotTransformed(3, (1, 2), (600_000, 400_000), 1_000_000, 500, GRAM)
    assert story.describe(blend, lot_codes={1: "H-RO", 2: "H-BG"}).sentence() == (
        "Blended from lot H-RO (600,000 g), lot H-BG (400,000 g) (1,000,000 g made)"
    )
    declared = LotQuantityDeclared(1, 750_000, 250, int(QuantityUnit.MILLILITRE))
    assert story.describe(declared).sentence() == "The lot holds 750,000 ml (250 ml in each item)"
    assert (
        story.describe(ContainerPacked(PALLET, BRAND, (first,)))
        .sentence()
        .endswith(f"packed 1 item into pallet 0x{PALLET.hex()[:8]}…")
    )


# ----------------------------------------------------------------------------------------------
# The invariant: any valid run of custody steps, packings and unpackings
# ----------------------------------------------------------------------------------------------

PEOPLE = (BRAND, CARRIER, SHOP)
BOXES = tuple(container_id(sscc_with_check_digit(f"0950600000000010{n}")) for n in range(3))
_KINDS = (
    "pack",
    "pack",
    "unpack",
    "unpack",
    "offer",
    "offer",
    "accept",
    "accept",
    "cancel",
    "reject",
    "record",
)
_OPS = st.tuples(
    st.sampled_from((*_KINDS, "sell")),
    st.integers(0, 6),  # the subject: an item (0-3) or a box (4-6)
    st.integers(0, 2),  # a person, or a box to pack into / unpack from
    st.sets(st.integers(0, 6), min_size=1, max_size=3),  # contents
)


class _Model:
    """What the contract keeps: each id's own holder, container, open offer, nonce, status."""

    def __init__(self, items: list[bytes]) -> None:
        self.ids = [*items, *BOXES]
        self.items = set(items)
        self.holder = {i: BRAND for i in items}
        self.parent: dict[bytes, bytes | None] = {i: None for i in items}
        self.offer: dict[bytes, str | None] = {i: None for i in items}
        self.nonce = {i: 0 for i in items}
        self.sold: set[bytes] = set()

    def outer_holder(self, x: bytes) -> str:
        while self.parent[x] is not None:
            x = self.parent[x]
        return self.holder[x]

    def free(self, x: bytes, by: str | None = None) -> bool:
        """Known, not packed, no open offer, not sold (and held by ``by``)."""
        return (
            x in self.holder and self.parent[x] is None and self.offer[x] is None and x not in self.sold
            and (by is None or self.holder[x] == by)
        )  # fmt: skip

    def step(self, op: tuple[str, int, int, set[int]]) -> list[RegistryEvent]:
        kind, subject, other, contents = op
        x = self.ids[subject]
        if kind == "pack":
            box = BOXES[other]
            who = self.holder.get(box, self.holder.get(x, BRAND))
            inside = [self.ids[n] for n in sorted(contents)]
            if (box in self.holder and not self.free(box, who)) or any(
                c == box or not self.free(c, who) for c in inside
            ):
                return []
            out: list[RegistryEvent] = []
            if box not in self.holder:
                out.append(ContainerCreated(box, 0, who))
                self.holder[box], self.parent[box], self.offer[box], self.nonce[box] = who, None, None, 0
            for c in inside:
                self.parent[c], self.nonce[c] = box, self.nonce[c] + 1
            self.nonce[box] += 1
            return [*out, ContainerPacked(box, who, tuple(inside))]
        if kind == "unpack":
            box = BOXES[other]
            members = [c for c in self.ids if self.parent.get(c) == box]
            inside = [self.ids[n] for n in sorted(contents) if self.parent.get(self.ids[n]) == box] or members
            if not self.free(box) or not inside:
                return []
            who = self.holder[box]
            for c in inside:
                self.parent[c], self.holder[c], self.nonce[c] = None, who, self.nonce[c] + 1
            self.nonce[box] += 1
            return [ContainerUnpacked(box, who, tuple(inside))]
        if x not in self.holder or self.parent[x] is not None or x in self.sold:
            return []
        holder, to = self.holder[x], PEOPLE[other]
        if kind == "offer" and self.offer[x] is None and to != holder:
            self.offer[x] = to
            return [CustodyOffered(x, holder, to)]
        pending = self.offer[x]
        if kind in ("accept", "cancel", "reject") and pending is None:  # answer any open offer
            x = next((i for i in self.ids if self.offer.get(i) is not None), x)
            holder, pending = self.holder[x], self.offer[x]
        if kind in ("accept", "cancel", "reject") and pending is not None:
            self.offer[x], self.nonce[x] = None, self.nonce[x] + 1
            if kind == "accept":
                self.holder[x] = pending
                return [CustodyTransferred(x, holder, pending)]
            return [(OfferCancelled if kind == "cancel" else OfferRejected)(x, holder, pending)]
        if kind == "record":
            self.nonce[x] += 1
            return [ItemObserved(x, holder, ChainText(b"inspecting"), b"\0" * 32)]
        if kind == "sell" and x in self.items and self.offer[x] is None:
            self.sold.add(x)
            return [ItemSold(x, holder)]
        return []


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(_OPS, max_size=60))
def test_state_and_replay__any_run_of_packings_and_custody_steps__agree_with_the_contracts_model(ops):
    """Whatever valid steps are taken, the reducer reads each item as the contract would (held by
    its outermost container's custodian, its own container, nonce and offer), each container
    too, and each item's timeline replays to its record (verdict None)."""
    registered = [item(f"S{n}") for n in range(4)]
    model = _Model([key for key, _ in registered])
    history = [lot(1, "L-1"), *(log for _, log in registered)]
    for op in ops:
        history += [logged(event) for event in model.step(op)]
    state = fold(*history)

    for x in model.ids[:4]:
        record = state.record(x)
        assert (record.custodian, record.container, record.custody_nonce, record.pending_receiver) == (
            model.outer_holder(x),
            model.parent[x],
            model.nonce[x],
            model.offer[x],
        )
        mine = [log for log in history if subject_ids(log.event)[0] in (None, x, *BOXES)]
        assert story.verdict(record, story.timeline(x, mine)) is None
    for box in BOXES:
        if box in model.holder:
            found = state.container_record(box)
            assert (found.custodian, found.container, found.custody_nonce, found.pending_receiver) == (
                model.outer_holder(box),
                model.parent[box],
                model.nonce[box],
                model.offer[box],
            )
