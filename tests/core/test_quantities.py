"""Quantities as people write them, as the registry counts them: one parser, kilograms kept as
grams and litres as millilitres, mixed units refused in one sentence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.quantities import (
    Quantity,
    QuantityError,
    QuantityUnit,
    measure,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("1200kg", 1_200_000, QuantityUnit.GRAM),
        ("500g", 500, QuantityUnit.GRAM),
        ("1,200 kg", 1_200_000, QuantityUnit.GRAM),
        ("0.75l", 750, QuantityUnit.MILLILITRE),
        ("750 ml", 750, QuantityUnit.MILLILITRE),
        ("300units", 300, QuantityUnit.EACH),
        ("12 each", 12, QuantityUnit.EACH),
        ("2KG", 2000, QuantityUnit.GRAM),
    ],
)
def test_parse_quantity__written_forms__whole_grams_millilitres_or_units(text, amount, unit):
    assert parse_quantity(text) == Quantity(amount, unit)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("12", "is not a quantity; write it as a number and a unit"),
        ("5 lb", "has the unit 'lb', which is not one of g, kg, ml, l or units"),
        ("1.5g", "is not a whole number of g"),
        ("0kg", "must be more than zero"),
        ("kg", "is not a quantity"),
    ],
)
def test_parse_quantity__malformed__one_sentence_with_the_fix(text, sentence):
    with pytest.raises(QuantityError, match=sentence):
        parse_quantity(text)


def test_measure__mixed_units__refused_naming_both():
    with pytest.raises(QuantityError, match="the quantity is in g but the item quantity in ml; give every"):
        measure("1200kg", "500ml")


def test_measure__item_larger_than_the_lot_or_too_large__refused():
    with pytest.raises(QuantityError, match="more than the lot's 1,000 g"):
        measure("1kg", "2kg")
    with pytest.raises(QuantityError, match="more than the registry can count"):
        measure("5000t", "5000t")


@given(st.integers(1, 10**9), st.sampled_from([("g", "kg", 1000), ("ml", "l", 1000)]))
def test_parse_quantity__kilo_forms__a_thousand_times_the_base_unit(n, units):
    small, large, thousand = units
    assert (
        parse_quantity(f"{n}{large}").amount
        == parse_quantity(f"{n * thousand}{small}").amount
        == n * thousand
    )
    assert parse_quantity(f"{n}{large}").unit is parse_quantity(f"{n}{small}").unit
