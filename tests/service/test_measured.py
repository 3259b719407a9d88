"""Registry use cases of quantities: a measured lot filled exactly and refused one item over, a
blend of two harvests drawing on each (what it drew shown), a blend over an input's remainder
refused, and reruns that send nothing."""

from __future__ import annotations

import pytest

from supplytrace.core.errors import ContractRevertError, SupplytraceError
from supplytrace.core.quantities import QuantityError, QuantityUnit, measure, parse_quantity
from supplytrace.service.measured import Input
from tests.conftest import HONEY_GTIN

HARVEST = {"product": "Acacia honey", "origin": {"country": "RO"}, "harvestDate": "2026-07-14"}
OTHER_HARVEST = {"product": "Linden honey", "origin": {"country": "BG"}, "harvestDate": "2026-06-30"}
BLEND = {"product": "Honey blend 500 g", "origin": "EU and non-EU honey"}


@pytest.fixture
def harvests(as_, brand) -> tuple[int, int]:
    """Two measured harvests of 2 kg (items of 500 g): RO and BG."""
    registry = as_(brand)
    ro = registry.create_measured_lot(HONEY_GTIN, "RO-2026", HARVEST, measure("2kg", "500g"))
    bg = registry.create_measured_lot(HONEY_GTIN, "BG-2026", OTHER_HARVEST, measure("2000 g", "500g"))
    return ro.lot_id, bg.lot_id


def test_create_measured_lot__exact_fill_then_one_over__refused_naming_the_stock(as_, brand):
    registry = as_(brand)
    made = registry.create_measured_lot(HONEY_GTIN, "JARS-1", HARVEST, measure("1kg", "500g"))
    assert (made.stock.unit, made.stock.stock, made.stock.item_quantity) == (QuantityUnit.GRAM, 1000, 500)
    registry.register_item(HONEY_GTIN, "J-1", "JARS-1")
    registry.register_item(HONEY_GTIN, "J-2", "JARS-1")
    assert registry.lot(made.lot_id).lot_id == made.lot_id
    with pytest.raises(
        ContractRevertError,
        match=f"lot {made.lot_id} has 0 left, less than the 500 asked for; register fewer",
    ):
        registry.register_item(HONEY_GTIN, "J-3", "JARS-1")


def test_create_measured_lot__rerun__the_same_lot_nothing_sent(as_, brand):
    registry = as_(brand)
    first = registry.create_measured_lot(HONEY_GTIN, "JARS-2", HARVEST, measure("1kg", "500g"))
    again = registry.create_measured_lot(HONEY_GTIN, "JARS-2", HARVEST, measure("1kg", "500g"))
    assert (again.lot_id, again.sent) == (first.lot_id, None)
    with pytest.raises(ContractRevertError, match="already exists"):
        registry.create_measured_lot(HONEY_GTIN, "JARS-2", OTHER_HARVEST, measure("1kg", "500g"))


def test_blend__two_harvests__the_new_lot_and_what_each_gave(as_, brand, harvests):
    ro, bg = harvests
    inputs = [Input.parse(f"{HONEY_GTIN}:RO-2026=1.5kg"), Input.parse(f"{HONEY_GTIN}:BG-2026=1000g")]
    made = as_(brand).blend(
        HONEY_GTIN, "BLEND-1", BLEND, inputs, parse_quantity("2.5kg"), parse_quantity("500g")
    )
    assert made.stock.stock == 2500 and made.sent is not None
    assert [(d.lot_id, d.quantity.amount, d.left.amount) for d in made.drawn] == [
        (ro, 1500, 500),
        (bg, 1000, 1000),
    ]

    again = as_(brand).blend(
        HONEY_GTIN, "BLEND-1", BLEND, inputs, parse_quantity("2.5kg"), parse_quantity("500g")
    )
    assert (again.lot_id, again.sent, again.drawn[0].left.amount) == (made.lot_id, None, 500)


def test_blend__over_an_inputs_remainder__refused_nothing_drawn(as_, brand, harvests):
    ro, _bg = harvests
    registry = as_(brand)
    first = [Input.parse(f"{HONEY_GTIN}:RO-2026=1500g")]
    registry.blend(HONEY_GTIN, "BLEND-2", BLEND, first, parse_quantity("1500g"), parse_quantity("500g"))
    over = [Input.parse(f"{HONEY_GTIN}:RO-2026=600g")]
    with pytest.raises(ContractRevertError, match=f"lot {ro} has 500 left, less than the 600 asked for"):
        registry.blend(HONEY_GTIN, "BLEND-3", BLEND, over, parse_quantity("600g"), parse_quantity("500g"))


def test_blend__more_out_than_in__refused(as_, brand, harvests):
    inputs = [Input.parse(f"{HONEY_GTIN}:RO-2026=1kg")]
    with pytest.raises(ContractRevertError, match="more than the 1000 taken from its inputs"):
        as_(brand).blend(HONEY_GTIN, "BLEND-4", BLEND, inputs, parse_quantity("1001g"), parse_quantity("1g"))


def test_blend__mixed_units_or_an_unmeasured_input__one_sentence_nothing_sent(as_, brand, harvests, lot_id):
    registry = as_(brand)
    with pytest.raises(QuantityError, match=r"the quantity is in g but the quantity of input .* in ml"):
        registry.blend(
            HONEY_GTIN, "B-5", BLEND, [Input.parse(f"{HONEY_GTIN}:RO-2026=1l")],
            parse_quantity("1kg"), parse_quantity("500g"),
        )  # fmt: skip
    with pytest.raises(SupplytraceError, match=f"lot {HONEY_GTIN}:HONEY-2026-A declared no quantity"):
        registry.blend(
            HONEY_GTIN, "B-6", BLEND, [Input.parse(f"{HONEY_GTIN}:HONEY-2026-A=1kg")],
            parse_quantity("1kg"), parse_quantity("500g"),
        )  # fmt: skip
    with pytest.raises(QuantityError, match="must be GTIN:LOT=QUANTITY"):
        Input.parse("RO-2026=1kg")


def test_origin_label_of__blend_of_two_harvests__the_directives_line_for_its_labels(as_, brand, harvests):
    from supplytrace.service.measured import origin_label_of

    registry = as_(brand)
    inputs = [Input.parse(f"{HONEY_GTIN}:RO-2026=1.5kg"), Input.parse(f"{HONEY_GTIN}:BG-2026=1kg")]
    made = registry.blend(
        HONEY_GTIN, "BLEND-L", BLEND, inputs, parse_quantity("2.5kg"), parse_quantity("500g")
    )
    assert origin_label_of(registry, made.lot_id) == "Blend of honey from Romania (60 %), Bulgaria (40 %)"
    assert (
        origin_label_of(registry, harvests[0]) is None
    )  # a harvest is no blend: its labels say nothing more
