"""Measured lots and transformations: the mass balance the registry keeps on chain (issue #14)."""

from __future__ import annotations

from typing import Any

import pytest

from supplytrace.core.ids import encode_code
from tests.conftest import HONEY_GTIN, assert_emitted, lot_record, reverts_with

GRAM, EACH = 2, 1  # IProvenanceRegistry.QuantityUnit


@pytest.fixture
def measured(registry, setup_brand, brand):
    """measured(code, quantity, item_quantity=500, unit=GRAM) -> lot id of a new measured lot."""

    def _measured(code: str, quantity: int, item_quantity: int = 500, unit: int = GRAM) -> int:
        registry.registerMeasuredLot(
            int(HONEY_GTIN),
            encode_code(code, "lot"),
            b"\x33" * 32,
            quantity,
            item_quantity,
            unit,
            sender=brand,
        )
        return registry.lotCount()

    return _measured


def _serials(prefix: str, count: int) -> list[bytes]:
    return [encode_code(f"{prefix}{n:04d}") for n in range(count)]


def test_register_measured_lot__quantity_declared__stock_and_event(registry, setup_brand, brand):
    code = encode_code("Q-DECL", "lot")
    tx = registry.registerMeasuredLot(int(HONEY_GTIN), code, b"\x33" * 32, 10_000, 500, GRAM, sender=brand)
    lot = registry.lotCount()
    assert_emitted(
        tx,
        registry.LotRegistered(lot, int(HONEY_GTIN), brand, code, b"\x33" * 32),
        registry.LotQuantityDeclared(lot, 10_000, 500, GRAM),
    )
    record = lot_record(registry, lot)
    assert (record["unit"], record["stock"], record["itemQuantity"]) == (GRAM, 10_000, 500)


@pytest.mark.parametrize(
    ("quantity", "item_quantity", "unit"), [(0, 500, GRAM), (1000, 0, GRAM), (1000, 1, 0)]
)
def test_register_measured_lot__zero_quantity_or_no_unit__refused(
    registry, setup_brand, brand, quantity, item_quantity, unit
):
    with reverts_with(registry.InvalidQuantity):
        registry.registerMeasuredLot(
            int(HONEY_GTIN),
            encode_code("Q-ZERO", "lot"),
            b"\x33" * 32,
            quantity,
            item_quantity,
            unit,
            sender=brand,
        )


def test_register_items__exact_fill__stock_zero(registry, measured, brand):
    lot = measured("Q-EXACT", 2_000)  # four 500 g jars
    registry.registerItems(lot, _serials("EX", 3), sender=brand)
    registry.registerItem(lot, encode_code("EX9999"), sender=brand)
    assert lot_record(registry, lot)["stock"] == 0


def test_register_items__one_over__quantity_exceeded_and_nothing_registered(registry, measured, brand):
    lot = measured("Q-OVER", 2_000)
    registry.registerItems(lot, _serials("OV", 3), sender=brand)
    with reverts_with(registry.QuantityExceeded, lotId=lot, requested=1_000, stock=500):
        registry.registerItems(lot, _serials("OW", 2), sender=brand)
    with reverts_with(registry.QuantityExceeded, lotId=lot, requested=1_000, stock=500):
        registry.registerItemsWithCodes(lot, _serials("OX", 2), b"\x01" * 32, sender=brand)
    assert lot_record(registry, lot)["stock"] == 500
    assert registry.getItem(registry.itemIdOf(int(HONEY_GTIN), _serials("OW", 1)[0])).status == 0


def test_register_items__unmeasured_lot__no_limit(registry, lot_id, brand):
    registry.registerItems(lot_id, _serials("UN", 50), sender=brand)
    assert lot_record(registry, lot_id)["unit"] == 0


def _blend(
    registry, brand, code: str, inputs: list[int], quantities: list[int], quantity: int, item: int = 500
) -> Any:
    return registry.registerTransformedLot(
        int(HONEY_GTIN),
        encode_code(code, "lot"),
        b"\x44" * 32,
        inputs,
        quantities,
        quantity,
        item,
        sender=brand,
    )


def test_register_transformed_lot__two_harvests__inputs_drawn_output_stocked(registry, measured, brand):
    ro, bg = measured("Q-RO", 620_000), measured("Q-BG", 500_000)
    tx = _blend(registry, brand, "Q-BLEND", [ro, bg], [620_000, 380_000], 1_000_000)
    blend = registry.lotCount()
    assert_emitted(
        tx,
        registry.LotRegistered(blend, int(HONEY_GTIN), brand, encode_code("Q-BLEND", "lot"), b"\x44" * 32),
        registry.LotTransformed(blend, [ro, bg], [620_000, 380_000], 1_000_000, 500, GRAM),
    )
    assert [lot_record(registry, lot)["stock"] for lot in (ro, bg, blend)] == [0, 120_000, 1_000_000]
    assert lot_record(registry, blend)["unit"] == GRAM


def test_register_transformed_lot__over_an_inputs_remainder__quantity_exceeded(registry, measured, brand):
    ro, bg = measured("Q-RO2", 100_000), measured("Q-BG2", 100_000)
    _blend(registry, brand, "Q-B2", [ro], [60_000], 60_000)
    with reverts_with(registry.QuantityExceeded, lotId=ro, requested=50_000, stock=40_000):
        _blend(registry, brand, "Q-B3", [bg, ro], [10_000, 50_000], 60_000)
    assert [lot_record(registry, lot)["stock"] for lot in (ro, bg)] == [40_000, 100_000]


def test_register_transformed_lot__more_out_than_in__output_exceeds_inputs(registry, measured, brand):
    ro = measured("Q-RO3", 100_000)
    with reverts_with(registry.OutputExceedsInputs, quantity=100_001, consumed=100_000):
        _blend(registry, brand, "Q-B4", [ro], [100_000], 100_001)


def test_register_transformed_lot__blend_of_blends__drawn_at_each_level(registry, measured, brand):
    a, b, c = measured("Q-A", 1_000), measured("Q-B", 1_000), measured("Q-C", 1_000)
    _blend(registry, brand, "Q-AB", [a, b], [600, 400], 1_000)
    ab = registry.lotCount()
    _blend(registry, brand, "Q-ABC", [ab, c], [500, 500], 1_000)
    abc = registry.lotCount()
    assert [lot_record(registry, lot)["stock"] for lot in (a, b, ab, c, abc)] == [400, 600, 500, 500, 1_000]


def test_register_transformed_lot__unit_mismatch_or_unmeasured_input__refused(
    registry, measured, lot_id, brand
):
    grams, jars = measured("Q-G", 1_000), measured("Q-U", 10, item_quantity=1, unit=EACH)
    with reverts_with(registry.UnitMismatch, lotId=jars, unit=EACH, expected=GRAM):
        _blend(registry, brand, "Q-B5", [grams, jars], [500, 5], 505)
    with reverts_with(registry.UnitMismatch, lotId=lot_id, unit=0, expected=0):
        _blend(registry, brand, "Q-B6", [lot_id], [5], 5)


def test_register_transformed_lot__another_brands_or_recalled_input__refused(
    registry, measured, brand, rogue
):
    ro = measured("Q-RO7", 1_000)
    with reverts_with(registry.NotLotRegistrar, lotId=ro, account=rogue, registrar=brand):
        registry.registerTransformedLot(
            int(HONEY_GTIN), encode_code("Q-B7", "lot"), b"\x44" * 32, [ro], [10], 10, 1, sender=rogue
        )
    registry.recallLot(ro, "residues", sender=brand)
    with reverts_with(registry.LotIsRecalled, lotId=ro):
        _blend(registry, brand, "Q-B8", [ro], [10], 10)


@pytest.mark.parametrize(("inputs", "quantities"), [(0, []), (1, []), (1, [0])])
def test_register_transformed_lot__empty_or_mismatched_inputs__invalid_quantity(
    registry, measured, brand, inputs, quantities
):
    lot = measured(f"Q-E{inputs}{len(quantities)}", 1_000)  # one code per case: no reset needed
    with reverts_with(registry.InvalidQuantity):
        _blend(registry, brand, "Q-B9", [lot] * inputs, quantities, 1)
