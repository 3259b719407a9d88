"""supplytrace.core.story: the steps of issue #11's events (a withdrawn brand name, a renewed lot)."""

from __future__ import annotations

import pytest

from supplytrace.core.events import (
    BrandUnnamed,
    CustodyOffered,
    CustodyTransferred,
    ItemClaimed,
    ItemObserved,
    ItemSold,
    LotRenewed,
    OfferRejected,
)
from supplytrace.core.story import addresses, describe, relayed_by
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_describe__brand_unnamed__no_longer_verified():
    step = describe(BrandUnnamed(BRAND))

    assert step.sentence({BRAND: "Acme Honey"}) == "Acme Honey no longer has a verified name"
    assert addresses([BrandUnnamed(BRAND)]) == {BRAND}


def test_describe__lot_renewed__brand_renewed_the_lot():
    step = describe(LotRenewed(7, BRAND))

    assert step.sentence() == f"{BRAND} renewed the lot (still a brand owning its GTIN)"
    assert step.item_id is None


SHOP = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
RELAYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
ITEM = b"\x01" * 32


@pytest.mark.parametrize(
    ("event", "sender", "payer"),
    [
        (CustodyOffered(ITEM, BRAND, SHOP), BRAND, None),  # direct offer
        (CustodyOffered(ITEM, BRAND, SHOP), RELAYER, RELAYER),
        (CustodyTransferred(ITEM, BRAND, SHOP), SHOP.lower(), None),  # direct accept (any case)
        (CustodyTransferred(ITEM, BRAND, SHOP), BRAND, None),  # direct handoff
        (CustodyTransferred(ITEM, BRAND, SHOP), RELAYER, RELAYER),  # relayed accept or handoff
        (OfferRejected(ITEM, BRAND, SHOP), RELAYER, RELAYER),
        (ItemObserved(ITEM, SHOP, ChainText(b"inspecting"), b"\0" * 32), SHOP, None),
        (ItemObserved(ITEM, SHOP, ChainText(b"inspecting"), b"\0" * 32), RELAYER, RELAYER),
        (ItemSold(ITEM, SHOP), RELAYER, RELAYER),
        (ItemClaimed(ITEM, SHOP), RELAYER, None),  # a claim is anyone's to send: no signer
        (CustodyOffered(ITEM, BRAND, SHOP), "", None),  # the sender is not known
    ],
)
def test_relayed_by__event_and_transaction_sender__the_payer_when_no_party_sent_it(event, sender, payer):
    assert relayed_by(event, sender) == payer
