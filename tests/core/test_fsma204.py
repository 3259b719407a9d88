"""The FSMA 204 mapping: which registry event is which Critical Tracking Event, with its quantity
and unit, its locations and its transaction; rows aggregated per (CTE, transaction, lot) and cut
to the date range; dates that cannot be read refused in one sentence."""

from __future__ import annotations

import pytest

from supplytrace.core import events as ev
from supplytrace.core.events import Logged, RegistryEvent
from supplytrace.core.fsma204 import (
    COLUMNS,
    REFERENCE_TYPE,
    Fsma204Error,
    LotInfo,
    Party,
    cte_rows,
    day_range,
)
from supplytrace.core.ids import encode_code
from supplytrace.core.records import QuantityUnit
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HUB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SHOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
GTIN = "09506000134352"
T0 = 1_784_000_000  # 2026-07-14T03:33:20Z
LOTS = {
    1: LotInfo(GTIN, "LOT-1", BRAND, "Frozen shrimp, 1 kg bag"),
    2: LotInfo(GTIN, "HARVEST", BRAND, None, QuantityUnit.GRAM, 500),
    3: LotInfo(GTIN, "BLEND", BRAND, "Shrimp mix", QuantityUnit.GRAM, 250),
}
PARTIES = {BRAND: Party("Gulf Seafood"), HUB: Party(None, "Cold store, Houston")}
WHOLE = (0, 2**40)


def _log(event: RegistryEvent, block: int, log_index: int = 0, tx: int | None = None) -> Logged:
    tx_hash = f"0x{block if tx is None else tx:064x}"
    return Logged(event, block, log_index, tx_hash, f"0x{block + 1:064x}", T0 + 60 * block)


def _item(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _registered(lot: int, count: int, block: int, first: int = 0) -> list[Logged]:
    serial = ChainText.from_word(encode_code("S", "serial"))
    return [_log(ev.ItemRegistered(_item(first + n), lot, serial), block, n) for n in range(count)]


def _lot(lot: int, block: int) -> Logged:
    return _log(ev.LotRegistered(lot, int(GTIN), BRAND, ChainText.of(LOTS[lot].lot_code), b"\0" * 32), block)


def _summary(rows: list) -> list[tuple[str, str, int, str]]:
    return [(r.cte, r.tlc, r.quantity, r.unit) for r in rows]


def test_cte_rows__registration_offer_accept__packing_shipping_receiving_with_kdes() -> None:
    items = [_item(n) for n in range(3)]
    events = [
        _lot(1, 1),
        *_registered(1, 3, 2),
        *[_log(ev.CustodyOffered(i, BRAND, HUB), 3, n) for n, i in enumerate(items)],  # one batch offer
        *[_log(ev.CustodyTransferred(i, BRAND, HUB), 4, n) for n, i in enumerate(items)],
        _log(ev.ItemSold(items[0], HUB), 5),  # outside the rule
        _log(ev.ItemObserved(items[1], HUB, ChainText.of("inspecting"), b"\1" * 32), 6),  # not a CTE
    ]

    rows = cte_rows(events, LOTS, since=WHOLE[0], until=WHOLE[1], parties=PARTIES)

    tlc = f"(01){GTIN}(10)LOT-1"
    assert _summary(rows) == [
        ("Initial packing", tlc, 3, "each"),
        ("Shipping", tlc, 3, "each"),
        ("Receiving", tlc, 3, "each"),
    ]
    packing, shipping, receiving = rows
    assert packing.location == f"Gulf Seafood ({BRAND})" and packing.product == "Frozen shrimp, 1 kg bag"
    assert packing.tlc_source == f"Gulf Seafood ({BRAND})"
    assert shipping.location == shipping.shipped_from == f"Gulf Seafood ({BRAND})"
    assert shipping.recipient == f"{HUB} (self-described, unverified: Cold store, Houston)"
    assert receiving.location == receiving.recipient and receiving.shipped_from == shipping.shipped_from
    assert shipping.date == "2026-07-14T03:36:20Z" and shipping.tx_hash == f"0x{3:064x}"
    cells = dict(zip(COLUMNS, receiving.cells(), strict=True))
    assert cells["Reference document type"] == REFERENCE_TYPE == "blockchain transaction"
    assert cells["Reference document number"] == f"0x{4:064x}"
    assert cells["Quantity"] == 3 and cells["Unit of measure"] == "each"


def test_cte_rows__signed_handoff_without_offer__shipping_and_receiving_in_one_tx() -> None:
    item = _item(0)
    events = [_lot(1, 1), *_registered(1, 1, 2), _log(ev.CustodyTransferred(item, BRAND, SHOP), 3)]
    rows = cte_rows(events, LOTS, since=WHOLE[0], until=WHOLE[1])
    assert [r.cte for r in rows] == ["Initial packing", "Shipping", "Receiving"]
    assert rows[1].tx_hash == rows[2].tx_hash and rows[2].location == SHOP  # no name known: the address


def test_cte_rows__offer_rejected_then_handoff__the_handoff_ships_again() -> None:
    item = _item(0)
    events = [
        _lot(1, 1),
        *_registered(1, 1, 2),
        _log(ev.CustodyOffered(item, BRAND, HUB), 3),
        _log(ev.OfferRejected(item, BRAND, HUB), 4),
        _log(ev.CustodyTransferred(item, BRAND, SHOP), 5),
    ]
    rows = cte_rows(events, LOTS, since=WHOLE[0], until=WHOLE[1])
    assert [(r.cte, r.block_number) for r in rows] == [
        ("Initial packing", 2),
        ("Shipping", 3),  # the offer keeps its row: no receiving follows it
        ("Shipping", 5),
        ("Receiving", 5),
    ]


def test_cte_rows__measured_lot_and_blend__quantities_in_their_units_and_inputs_named() -> None:
    events = [
        _lot(2, 1),
        _log(ev.LotQuantityDeclared(2, 10_000, 500, int(QuantityUnit.GRAM)), 1, 1),
        *_registered(2, 4, 2),  # 4 bags of 500 g
        _lot(3, 3),
        _log(ev.LotTransformed(3, (2,), (1_000,), 1_000, 250, int(QuantityUnit.GRAM)), 3, 1),
    ]
    rows = cte_rows(events, LOTS, since=WHOLE[0], until=WHOLE[1])
    assert _summary(rows) == [
        ("Initial packing", f"(01){GTIN}(10)HARVEST", 10_000, "g"),
        ("Initial packing", f"(01){GTIN}(10)HARVEST", 2_000, "g"),
        ("Transformation", f"(01){GTIN}(10)BLEND", 1_000, "g"),
    ]
    assert rows[0].product == f"GTIN {GTIN}"  # no verified product name: the GTIN
    assert rows[2].inputs == f"(01){GTIN}(10)HARVEST 1000 g"


def test_cte_rows__pallet_of_two_lots_moves__one_row_per_lot_with_its_count() -> None:
    box = b"\xb0" * 32
    inner = b"\xb1" * 32
    lot1 = [_item(n) for n in range(1_000)]
    lot2 = [_item(5_000 + n) for n in range(2)]
    events = [
        _lot(1, 1),
        _lot(2, 1),
        _log(ev.LotQuantityDeclared(2, 10_000, 500, int(QuantityUnit.GRAM)), 1, 1),
        *_registered(1, 1_000, 2),
        *_registered(2, 2, 3, first=5_000),
        _log(ev.ContainerCreated(inner, 1, BRAND), 4, 0),
        _log(ev.ContainerPacked(inner, BRAND, tuple(lot2)), 4, 1),
        _log(ev.ContainerCreated(box, 2, BRAND), 4, 2),
        _log(ev.ContainerPacked(box, BRAND, (*lot1, inner)), 4, 3),  # a case inside the pallet
        _log(ev.CustodyOffered(box, BRAND, HUB), 5),
        _log(ev.CustodyTransferred(box, BRAND, HUB), 6),
        _log(ev.ContainerUnpacked(box, HUB, tuple(lot1[:10])), 7),
        _log(ev.CustodyTransferred(box, HUB, SHOP), 8),  # signed handoff of what is left
    ]
    rows = cte_rows(events, LOTS, since=T0 + 60 * 5, until=WHOLE[1])  # from the offer on
    assert [(r.cte, r.lot_id, r.quantity, r.unit, r.block_number) for r in rows] == [
        ("Shipping", 1, 1_000, "each", 5),
        ("Shipping", 2, 1_000, "g", 5),  # two bags of 500 g
        ("Receiving", 1, 1_000, "each", 6),
        ("Receiving", 2, 1_000, "g", 6),
        ("Shipping", 1, 990, "each", 8),
        ("Shipping", 2, 1_000, "g", 8),
        ("Receiving", 1, 990, "each", 8),
        ("Receiving", 2, 1_000, "g", 8),
    ]
    only = cte_rows(events, LOTS, since=T0 + 60 * 5, until=WHOLE[1], wanted={2})
    assert {r.lot_id for r in only} == {2} and len(only) == 4


def test_cte_rows__date_range__only_events_inside_it_but_state_from_before() -> None:
    item = _item(0)
    events = [
        _lot(1, 1),
        *_registered(1, 1, 2),
        _log(ev.CustodyOffered(item, BRAND, HUB), 3),
        _log(ev.CustodyTransferred(item, BRAND, HUB), 100),
    ]
    rows = cte_rows(events, LOTS, since=T0 + 60 * 50, until=T0 + 60 * 100)
    assert [r.cte for r in rows] == ["Receiving"]  # the accept of an offer made before the range
    assert cte_rows(events, LOTS, since=T0 + 60 * 4, until=T0 + 60 * 99) == []


def test_cte_rows__rows__sorted_by_date_then_chain_order() -> None:
    a, b = _item(0), _item(1)
    events = [
        _lot(1, 1),
        *_registered(1, 2, 2),
        _log(ev.CustodyTransferred(b, BRAND, HUB), 3),
        _log(ev.CustodyTransferred(a, BRAND, SHOP), 4),
    ]
    rows = cte_rows(events, LOTS, since=WHOLE[0], until=WHOLE[1])
    dates = [r.date for r in rows]
    assert dates == sorted(dates)
    assert [(r.cte, r.recipient) for r in rows[1:]] == [
        ("Shipping", HUB), ("Receiving", HUB), ("Shipping", SHOP), ("Receiving", SHOP),
    ]  # fmt: skip


def test_day_range__days__start_of_first_to_end_of_last_utc() -> None:
    assert day_range("2026-07-14", "2026-07-14") == (1_783_987_200, 1_783_987_200 + 86_399)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-13-01", "2026-12-31", r"--from '2026-13-01' is not a date; write it as YYYY-MM-DD"),
        ("2026-01-01", "tomorrow", r"--to 'tomorrow' is not a date; write it as YYYY-MM-DD"),
        ("2026-07-02", "2026-07-01", r"--from 2026-07-02 is after --to 2026-07-01; give the earlier day"),
    ],
)
def test_day_range__bad_dates__one_sentence_naming_the_fix(since: str, until: str, message: str) -> None:
    with pytest.raises(Fsma204Error, match=message):
        day_range(since, until)
