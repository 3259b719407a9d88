"""Quantities as people write them (``1200kg``, ``500 g``, ``0.75l``, ``300units``) and as the
registry counts them: a whole number of grams, millilitres or units (``QuantityUnit``).

One parser for every command that takes a quantity (``lot create --quantity``, ``lot blend``),
so kilograms become grams and litres millilitres in one place, and a lot whose quantity is in
grams cannot get items measured in millilitres by a slip of the pen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.records import QuantityUnit

#: The registry's bounds: a lot's quantity is a uint64, an item's a uint32.
MAX_QUANTITY = 2**64 - 1
MAX_ITEM_QUANTITY = 2**32 - 1


class QuantityError(SupplytraceError, ValueError):
    """A quantity cannot be read or does not fit; the message says how to write it."""


#: Unit words (lower case) -> (the registry's unit, how many of it one is).
_UNITS: dict[str, tuple[QuantityUnit, int]] = {
    **dict.fromkeys(("g", "gram", "grams"), (QuantityUnit.GRAM, 1)),
    **dict.fromkeys(("kg", "kilogram", "kilograms"), (QuantityUnit.GRAM, 1000)),
    **dict.fromkeys(("t", "tonne", "tonnes"), (QuantityUnit.GRAM, 1_000_000)),
    **dict.fromkeys(
        ("ml", "millilitre", "millilitres", "milliliter", "milliliters"), (QuantityUnit.MILLILITRE, 1)
    ),
    **dict.fromkeys(("l", "litre", "litres", "liter", "liters"), (QuantityUnit.MILLILITRE, 1000)),
    **dict.fromkeys(("unit", "units", "each", "ea", "pcs", "pieces"), (QuantityUnit.EACH, 1)),
}
_FORM = re.compile(r"\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*")
_HOW = "write it as a number and a unit, e.g. 1200kg, 500g, 0.75l, 750ml or 300units"


@dataclass(frozen=True)
class Quantity:
    """``amount`` of ``unit`` (a whole number of grams, millilitres or units)."""

    amount: int
    unit: QuantityUnit

    def __str__(self) -> str:
        return f"{self.amount:,} {self.unit.symbol}"


def parse_quantity(text: str, what: str = "quantity") -> Quantity:
    """``1200kg`` -> 1,200,000 g; ``0.75l`` -> 750 ml; ``300units`` -> 300 units. Refused (one
    sentence): no unit, an unknown unit, zero, or a fraction of a gram, millilitre or unit."""
    match = _FORM.fullmatch(str(text))
    if match is None:
        raise QuantityError(f"{what} {text!r} is not a quantity; {_HOW}.")
    number, word = match.groups()
    found = _UNITS.get(word.lower())
    if found is None:
        raise QuantityError(
            f"{what} {text!r} has the unit {word!r}, which is not one of g, kg, ml, l or units; {_HOW}."
        )
    unit, factor = found
    try:
        value = Decimal(number.replace(",", "").replace("_", "")) * factor
    except InvalidOperation:
        raise QuantityError(f"{what} {text!r} is not a quantity; {_HOW}.") from None
    if value != value.to_integral_value():
        raise QuantityError(
            f"{what} {text!r} is not a whole number of {unit.symbol}; "
            f"the registry counts whole {unit.symbol}."
        )
    if value <= 0:
        raise QuantityError(f"{what} {text!r} must be more than zero.")
    return Quantity(int(value), unit)


@dataclass(frozen=True)
class Measure:
    """A lot's declared ``quantity`` and each item's net ``item_quantity``, in one unit."""

    quantity: Quantity
    item_quantity: Quantity

    @property
    def unit(self) -> QuantityUnit:
        return self.quantity.unit


def same_unit(quantities: dict[str, Quantity]) -> QuantityUnit:
    """The one unit of ``quantities`` (named by what they are), or a sentence naming the two
    that differ: grams and millilitres do not mix."""
    names = list(quantities)
    first = quantities[names[0]]
    for name in names[1:]:
        if quantities[name].unit is not first.unit:
            raise QuantityError(
                f"the {names[0]} is in {first.unit.symbol} but the {name} in {quantities[name].unit.symbol}; "
                "give every quantity in one kind of unit (g or kg, ml or l, or units)."
            )
    return first.unit


def measure(quantity: str, item_quantity: str) -> Measure:
    """A measured lot's quantity and item quantity, parsed and checked: one unit, within the
    registry's bounds, the item no larger than the lot."""
    measured = Measure(parse_quantity(quantity), parse_quantity(item_quantity, "item quantity"))
    same_unit({"quantity": measured.quantity, "item quantity": measured.item_quantity})
    check_bounds(measured)
    return measured


def check_bounds(measured: Measure) -> None:
    """Refuse what the registry's integers cannot hold, and an item larger than its lot."""
    if measured.quantity.amount > MAX_QUANTITY:
        raise QuantityError(
            f"the quantity {measured.quantity} is more than the registry can count ({MAX_QUANTITY:,})."
        )
    if measured.item_quantity.amount > MAX_ITEM_QUANTITY:
        raise QuantityError(
            f"the item quantity {measured.item_quantity} is more than the registry can count "
            f"({MAX_ITEM_QUANTITY:,} {measured.unit.symbol}); measure items in a smaller unit."
        )
    if measured.item_quantity.amount > measured.quantity.amount:
        raise QuantityError(
            f"the item quantity {measured.item_quantity} is more than the lot's {measured.quantity}; "
            "check the two numbers."
        )
