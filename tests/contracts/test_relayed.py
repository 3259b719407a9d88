"""Relayed actions: each custody step signed by its actor (EIP-712) and sent, and paid, by anyone."""

from __future__ import annotations

import pytest

from supplytrace.core.ids import encode_code
from tests.conftest import ZERO_ADDRESS, assert_emitted, custody, item_record, reverts_with

STEP = encode_code("inspecting", "bizStep")
DATA = b"\x22" * 32


def paid_by(tx, payer) -> bool:
    """The relayer sent, and paid for, the transaction (the actor, named in the event, did not)."""
    return tx.sender == payer.address and tx.gas_used * tx.gas_price > 0


def test_offer_by_sig__custodian_signed__offer_open_relayer_pays(
    registry, register, sign_action, brand, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    signature = sign_action(brand, "offer", item, deadline, to=distributor)

    tx = registry.offerBySig(item, distributor, deadline, signature, sender=stranger)

    assert_emitted(tx, registry.CustodyOffered(item, brand, distributor))
    assert paid_by(tx, stranger)
    assert custody(registry, item) == (brand.address, distributor.address, 0)


def test_accept_by_sig__receiver_signed__custody_moves(
    registry, register, sign_action, brand, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    registry.offer(item, distributor, sender=brand)
    signature = sign_action(distributor, "accept", item, deadline)

    tx = registry.acceptBySig(item, deadline, signature, sender=stranger)

    assert_emitted(tx, registry.CustodyTransferred(item, brand, distributor))
    assert paid_by(tx, stranger)
    assert custody(registry, item) == (distributor.address, ZERO_ADDRESS, 1)


def test_reject_and_cancel_by_sig__signed__offer_ends_nonce_advances(
    registry, register, sign_action, brand, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    registry.offer(item, distributor, sender=brand)
    tx = registry.rejectBySig(
        item, deadline, sign_action(distributor, "reject", item, deadline), sender=stranger
    )
    assert_emitted(tx, registry.OfferRejected(item, brand, distributor))
    assert paid_by(tx, stranger)
    assert custody(registry, item) == (brand.address, ZERO_ADDRESS, 1)

    registry.offer(item, distributor, sender=brand)
    tx = registry.cancelBySig(item, deadline, sign_action(brand, "cancel", item, deadline), sender=stranger)
    assert_emitted(tx, registry.OfferCancelled(item, brand, distributor))
    assert paid_by(tx, stranger)
    assert custody(registry, item) == (brand.address, ZERO_ADDRESS, 2)


def test_record_and_sell_by_sig__custodian_signed__observed_then_sold(
    registry, register, sign_action, brand, stranger, deadline
):
    (item,) = register("JAR-1")
    signature = sign_action(brand, "record", item, deadline, biz_step=STEP, data_hash=DATA)
    tx = registry.recordBySig(item, STEP, DATA, deadline, signature, sender=stranger)
    assert_emitted(tx, registry.ItemObserved(item, brand, STEP, DATA))
    assert paid_by(tx, stranger)
    assert custody(registry, item)[2] == 1

    tx = registry.sellBySig(item, deadline, sign_action(brand, "sell", item, deadline), sender=stranger)
    assert_emitted(tx, registry.ItemSold(item, brand))
    assert paid_by(tx, stranger)
    assert item_record(registry, item)["status"] == 2


def test_handoff_by_sig__both_signed__custody_moves(
    registry, register, sign_action, brand, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    fields = {"sender": brand, "to": distributor}
    from_signature = sign_action(brand, "handoff", item, deadline, **fields)
    to_signature = sign_action(distributor, "handoff", item, deadline, **fields)

    tx = registry.handoffBySig(item, distributor, deadline, from_signature, to_signature, sender=stranger)

    assert_emitted(tx, registry.CustodyTransferred(item, brand, distributor))
    assert paid_by(tx, stranger)
    assert custody(registry, item) == (distributor.address, ZERO_ADDRESS, 1)


def test_handoff_by_sig__receiver_signature_only__reverts(
    registry, register, sign_action, brand, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    to_signature = sign_action(distributor, "handoff", item, deadline, sender=brand, to=distributor)
    with reverts_with(registry.InvalidSignature, signer=brand):
        registry.handoffBySig(item, distributor, deadline, to_signature, to_signature, sender=stranger)


def test_record_by_sig__record_changed_after_signing__reverts(
    registry, register, sign_action, brand, stranger, deadline
):
    (item,) = register("JAR-1")
    signature = sign_action(brand, "record", item, deadline, biz_step=STEP, data_hash=DATA)
    with reverts_with(registry.InvalidSignature, signer=brand):
        registry.recordBySig(item, STEP, b"\x33" * 32, deadline, signature, sender=stranger)


def test_offer_by_sig__signed_by_someone_else__reverts(
    registry, register, sign_action, distributor, stranger, brand, deadline
):
    (item,) = register("JAR-1")
    signature = sign_action(stranger, "offer", item, deadline, to=distributor)
    with reverts_with(registry.InvalidSignature, signer=brand):
        registry.offerBySig(item, distributor, deadline, signature, sender=stranger)


def test_accept_by_sig__no_open_offer__reverts(
    registry, register, sign_action, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    signature = sign_action(distributor, "accept", item, deadline)
    with reverts_with(registry.NoPendingOffer, itemId=item):
        registry.acceptBySig(item, deadline, signature, sender=stranger)


def test_offer_by_sig__unknown_item__reverts(registry, sign_action, brand, distributor, stranger, deadline):
    unknown = b"\x42" * 32
    signature = sign_action(brand, "offer", unknown, deadline, to=distributor, nonce=0)
    with reverts_with(registry.InvalidSignature, signer=ZERO_ADDRESS):
        registry.offerBySig(unknown, distributor, deadline, signature, sender=stranger)


def test_accept_by_sig__erc1271_wallet__accepted(
    registry, register, sign_action, brand, retailer, stranger, wallet, deadline
):
    (item,) = register("JAR-1")
    registry.offer(item, wallet, sender=brand)
    signature = sign_action(retailer, "accept", item, deadline)  # the wallet's owner signs for it

    registry.acceptBySig(item, deadline, signature, sender=stranger)

    assert custody(registry, item) == (wallet.address, ZERO_ADDRESS, 1)


def test_accept_by_sig__eip7702_delegated_account__accepted(
    registry, register, sign_action, brand, retailer, stranger, deadline, chain
):
    """An EOA delegated under EIP-7702 has code (the designator 0xef0100 || target) but still
    signs with its key: the key's signature is checked first, so its code never stands in the way."""
    (item,) = register("JAR-1")
    registry.offer(item, retailer, sender=brand)
    signature = sign_action(retailer, "accept", item, deadline)
    delegate = "0xef0100" + "11" * 20  # delegated to a contract with no isValidSignature
    chain.provider.make_request("anvil_setCode", [retailer.address, delegate])
    try:
        assert chain.provider.web3.eth.get_code(retailer.address).hex().removeprefix("0x") == delegate[2:]
        registry.acceptBySig(item, deadline, signature, sender=stranger)
    finally:
        chain.provider.make_request("anvil_setCode", [retailer.address, "0x"])

    assert custody(registry, item) == (retailer.address, ZERO_ADDRESS, 1)


# ----------------------------------------------------------------------------------------------
# Replay and expiry, for every action
# ----------------------------------------------------------------------------------------------


def _setups(registry, register, brand, distributor):
    """Each action: how to bring an item to where it can be taken, who signs, the extra fields,
    and the call."""

    def offered(item):
        registry.offer(item, distributor, sender=brand)

    def nothing(item):
        pass

    return {
        "offer": (
            nothing, brand, {"to": distributor},
            lambda i, d, s: registry.offerBySig(i, distributor, d, s[0], sender=s[1]),
        ),
        "accept": (offered, distributor, {}, lambda i, d, s: registry.acceptBySig(i, d, s[0], sender=s[1])),
        "reject": (offered, distributor, {}, lambda i, d, s: registry.rejectBySig(i, d, s[0], sender=s[1])),
        "cancel": (offered, brand, {}, lambda i, d, s: registry.cancelBySig(i, d, s[0], sender=s[1])),
        "record": (
            nothing, brand, {"biz_step": STEP, "data_hash": DATA},
            lambda i, d, s: registry.recordBySig(i, STEP, DATA, d, s[0], sender=s[1]),
        ),
        "sell": (nothing, brand, {}, lambda i, d, s: registry.sellBySig(i, d, s[0], sender=s[1])),
    }  # fmt: skip


ACTIONS = ["offer", "accept", "reject", "cancel", "record", "sell", "handoff"]


@pytest.mark.parametrize("kind", ACTIONS)
def test_relayed_action__replayed__reverts(
    kind, registry, register, sign_action, brand, distributor, stranger, deadline
):
    """Each signed action works once: replayed, even after the item came back to the same state
    (an offer re-made, custody handed back), it reverts."""
    (item,) = register("JAR-1")
    if kind == "handoff":
        fields = {"sender": brand, "to": distributor}
        sigs = (
            sign_action(brand, kind, item, deadline, **fields),
            sign_action(distributor, kind, item, deadline, **fields),
        )
        registry.handoffBySig(item, distributor, deadline, *sigs, sender=stranger)
        # custody back to the brand, so only the nonce differs
        registry.offer(item, brand, sender=distributor)
        registry.accept(item, sender=brand)
        with reverts_with(registry.InvalidSignature, signer=brand):
            registry.handoffBySig(item, distributor, deadline, *sigs, sender=stranger)
        return
    prepare, signer, fields, send = _setups(registry, register, brand, distributor)[kind]
    prepare(item)
    signature = sign_action(signer, kind, item, deadline, **fields)
    send(item, deadline, (signature, stranger))
    if kind == "sell":  # final: a sold item cannot be sold again
        with reverts_with(registry.ItemAlreadySold, itemId=item):
            send(item, deadline, (signature, stranger))
        return
    # Bring the item back to the state the signature was made in, but for its nonce.
    if kind == "offer":
        registry.cancelOffer(item, sender=brand)
    if kind == "accept":
        registry.offer(item, brand, sender=distributor)
        registry.accept(item, sender=brand)
    prepare(item)
    with reverts_with(registry.InvalidSignature, signer=signer):
        send(item, deadline, (signature, stranger))


@pytest.mark.parametrize("kind", ACTIONS)
def test_relayed_action__after_deadline__reverts_expired(
    kind, registry, register, sign_action, chain, brand, distributor, stranger, deadline
):
    (item,) = register("JAR-1")
    if kind == "handoff":
        fields = {"sender": brand, "to": distributor}
        sigs = (
            sign_action(brand, kind, item, deadline, **fields),
            sign_action(distributor, kind, item, deadline, **fields),
        )
        chain.pending_timestamp = deadline + 1
        with reverts_with(registry.SignatureExpired, deadline=deadline, timestamp=deadline + 1):
            registry.handoffBySig(item, distributor, deadline, *sigs, sender=stranger)
        return
    prepare, signer, fields, send = _setups(registry, register, brand, distributor)[kind]
    prepare(item)
    signature = sign_action(signer, kind, item, deadline, **fields)
    chain.pending_timestamp = deadline + 1
    with reverts_with(registry.SignatureExpired, deadline=deadline, timestamp=deadline + 1):
        send(item, deadline, (signature, stranger))
