"""supplytrace.core.reducer: the events of issue #11 (a withdrawn brand name, a renewed lot)."""

from __future__ import annotations

from itertools import count

from supplytrace.core.events import BrandNamed, BrandUnnamed, Logged, LotRegistered, LotRenewed, RegistryEvent
from supplytrace.core.reducer import State
from supplytrace.core.story import replay
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
_positions = count(1)


def logged(event: RegistryEvent) -> Logged:
    block = next(_positions)
    return Logged(event, block, 0, "0x" + "ab" * 32, "0x" + "cd" * 32, 1_700_000_000 + block)


def test_apply__brand_unnamed__verified_name_withdrawn_until_named_again():
    state = State()
    state.apply(logged(BrandNamed(BRAND, ChainText(b"Acme Honey"))))

    state.apply(logged(BrandUnnamed(BRAND)))

    assert state.participants[BRAND].verified_name is None
    assert BRAND in state.changed_participants
    state.apply(logged(BrandNamed(BRAND, ChainText(b"Acme Honey 2"))))
    assert state.participants[BRAND].verified_name == b"Acme Honey 2"


def test_apply__lot_renewed__lot_touched_nothing_else_changes():
    state = State()
    state.apply(logged(LotRegistered(7, 9506000134352, BRAND, ChainText(b"LOT-1"), b"\x11" * 32)))
    state.changed_lots.clear()
    before = (state.lots[7].closed, state.lots[7].recalled_at, state.lots[7].item_count)

    renewal = logged(LotRenewed(7, BRAND))
    state.apply(renewal)

    lot = state.lots[7]
    assert (lot.closed, lot.recalled_at, lot.item_count) == before
    assert (lot.last_block, lot.last_log_index) == renewal.position
    assert state.changed_lots == {7}


def test_replay__lot_renewed_and_brand_unnamed__ignored():
    history = [
        logged(LotRegistered(7, 9506000134352, BRAND, ChainText(b"LOT-1"), b"\x11" * 32)),
        logged(LotRenewed(7, BRAND)),
        logged(BrandUnnamed(BRAND)),
    ]

    seen = replay(b"\x01" * 32, history)

    assert (seen.registered, seen.foreign, seen.recalled, seen.last_holder) == (False, False, False, BRAND)
