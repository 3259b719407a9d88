"""supplytrace.core.story: the steps of issue #11's events (a withdrawn brand name, a renewed lot)."""

from __future__ import annotations

from supplytrace.core.events import BrandUnnamed, LotRenewed
from supplytrace.core.story import addresses, describe

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_describe__brand_unnamed__no_longer_verified():
    step = describe(BrandUnnamed(BRAND))

    assert step.sentence({BRAND: "Acme Honey"}) == "Acme Honey no longer has a verified name"
    assert addresses([BrandUnnamed(BRAND)]) == {BRAND}


def test_describe__lot_renewed__brand_renewed_the_lot():
    step = describe(LotRenewed(7, BRAND))

    assert step.sentence() == f"{BRAND} renewed the lot (still a brand owning its GTIN)"
    assert step.item_id is None
