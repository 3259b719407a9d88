"""A relayed step on the item page: its actor signed it, someone else sent it and paid its fee,
and the page names that payer under the step (the transaction's sender, read once and kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from supplytrace.core.actions import SignedAction
from tests.web.conftest import Coded, TestClient, World, text_of

PAYER = 7  # an ape test account none of the story uses


def test_open_item__offer_relayed_by_a_third_account__the_payer_named_under_that_step_only(
    make_client: Callable[..., TestClient],
    register_coded: Callable[[int], Coded],
    world: World,
    accounts: Any,
) -> None:
    (key,) = register_coded(1).keys
    brand, distributor, payer = accounts[1], accounts[2], accounts[PAYER]
    deadline = 2**40
    action = SignedAction(
        kind="offer",
        chain_id=world.chain_id,
        registry=str(world.registry.address),
        item=key.id,
        nonce=world.registry.getItem(key.id).custodyNonce,
        deadline=deadline,
        to=distributor.address,
    )
    signature = brand.sign_message(action.signable()).encode_rsv()
    world.registry.offerBySig(key.id, distributor, deadline, signature, sender=payer)
    client = make_client()

    timeline = client.get(f"/api/items/{key.id_hex}").json()["timeline"]
    assert [row["event"] for row in timeline if row["paid_by"]] == ["CustodyOffered"]  # nothing else
    (offer,) = (row for row in timeline if row["event"] == "CustodyOffered")
    assert offer["who"]["address"] == brand.address  # the signer is the actor ...
    assert offer["paid_by"]["address"] == payer.address  # ... and the sender the payer
    page = text_of(client.get(f"/item/{key.id_hex}").text)
    assert page.count("Signed, then sent by") == 1
    again = client.get(f"/api/items/{key.id_hex}").json()["timeline"]  # the sender is kept
    assert again == timeline
