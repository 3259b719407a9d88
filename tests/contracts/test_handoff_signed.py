"""One-transaction handoffs carrying the receiver's EIP-712 acceptance (EOA or ERC-1271 wallet)."""

from __future__ import annotations

import pytest
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak

from supplytrace.core.handoff import make_request
from tests.conftest import ZERO_ADDRESS, assert_emitted, custody, item_record, reverts_with


def _digest(message: SignableMessage) -> bytes:
    """EIP-712: keccak256(0x19 0x01 domainSeparator structHash)."""
    return keccak(b"\x19" + message.version + message.header + message.body)


def _request(registry, chain, items, sender, receiver, deadline, nonces=None):
    return make_request(
        chain_id=chain.chain_id,
        registry=registry.address,
        items=items,
        nonces=nonces if nonces is not None else [0] * len(items),
        sender=sender.address,
        receiver=receiver.address,
        deadline=deadline,
    )


# ----------------------------------------------------------------------------------------------
# Success
# ----------------------------------------------------------------------------------------------


def test_handoff__signed_by_receiver__custody_moves(
    registry, register, brand, distributor, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid], brand, distributor, deadline)

    tx = registry.handoff(iid, distributor, deadline, signature, sender=brand)

    assert_emitted(tx, registry.CustodyTransferred(iid, brand, distributor))
    assert custody(registry, iid) == (distributor, ZERO_ADDRESS, 1)
    assert item_record(registry, iid)["updatedAt"] == tx.timestamp


def test_handoff__deadline_is_block_time__custody_moves(
    registry, register, chain, brand, distributor, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid], brand, distributor, deadline)
    chain.pending_timestamp = deadline

    tx = registry.handoff(iid, distributor, deadline, signature, sender=brand)

    assert tx.timestamp == deadline
    assert custody(registry, iid) == (distributor, ZERO_ADDRESS, 1)


def test_handoff_batch__one_signature__every_item_moves(
    registry, register, brand, distributor, retailer, sign_handoff, deadline
):
    items = register("JAR-1", "JAR-2", "JAR-3")
    registry.offer(items[1], retailer, sender=brand)  # give the items different nonces
    registry.accept(items[1], sender=retailer)
    registry.offer(items[1], brand, sender=retailer)
    registry.accept(items[1], sender=brand)
    signature = sign_handoff(distributor, items, brand, distributor, deadline)

    tx = registry.handoffBatch(items, distributor, deadline, signature, sender=brand)

    assert_emitted(tx, *(registry.CustodyTransferred(i, brand, distributor) for i in items))
    assert [custody(registry, i) for i in items] == [
        (distributor, ZERO_ADDRESS, 1),
        (distributor, ZERO_ADDRESS, 3),
        (distributor, ZERO_ADDRESS, 1),
    ]


def test_handoff_batch__single_item__signed_as_handoff_batch(
    registry, register, chain, brand, distributor, deadline
):
    """A one-item handoffBatch takes a HandoffBatch signature. (supplytrace.core.handoff.make_request
    types a one-item request as Handoff, so it cannot produce this signature.)"""
    items = register("JAR-1", "JAR-2")
    typed_data = _request(registry, chain, items, brand, distributor, deadline).typed_data()
    typed_data["message"].update(items=items[:1], nonces=[0])
    signature = distributor.sign_message(encode_typed_data(full_message=typed_data)).encode_rsv()

    tx = registry.handoffBatch(items[:1], distributor, deadline, signature, sender=brand)

    assert_emitted(tx, registry.CustodyTransferred(items[0], brand, distributor))


# ----------------------------------------------------------------------------------------------
# Invalid signatures
# ----------------------------------------------------------------------------------------------


def test_handoff__signature_replayed__reverts_invalid_signature(
    registry, register, brand, distributor, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid], brand, distributor, deadline)
    registry.handoff(iid, distributor, deadline, signature, sender=brand)
    registry.offer(iid, brand, sender=distributor)  # the item comes back to the brand
    registry.accept(iid, sender=brand)

    with reverts_with(registry.InvalidSignature, signer=distributor):  # its nonce moved on: 0 -> 2
        registry.handoff(iid, distributor, deadline, signature, sender=brand)
    assert custody(registry, iid) == (brand, ZERO_ADDRESS, 2)


def test_handoff_batch__signature_replayed__reverts_invalid_signature(
    registry, register, brand, distributor, sign_handoff, deadline
):
    items = register("JAR-1", "JAR-2")
    signature = sign_handoff(distributor, items, brand, distributor, deadline)
    registry.handoffBatch(items, distributor, deadline, signature, sender=brand)
    registry.offerBatch(items, brand, sender=distributor)
    registry.acceptBatch(items, sender=brand)

    with reverts_with(registry.InvalidSignature, signer=distributor):
        registry.handoffBatch(items, distributor, deadline, signature, sender=brand)


def test_handoff__deadline_passed__reverts_signature_expired(
    registry, register, chain, brand, distributor, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid], brand, distributor, deadline)
    chain.pending_timestamp = deadline + 1

    with reverts_with(registry.SignatureExpired, deadline=deadline, timestamp=deadline + 1):
        registry.handoff(iid, distributor, deadline, signature, sender=brand)


def test_handoff_batch__deadline_passed__reverts_signature_expired(
    registry, register, chain, brand, distributor, sign_handoff, deadline
):
    items = register("JAR-1", "JAR-2")
    signature = sign_handoff(distributor, items, brand, distributor, deadline)
    chain.pending_timestamp = deadline + 100

    with reverts_with(registry.SignatureExpired, deadline=deadline, timestamp=deadline + 100):
        registry.handoffBatch(items, distributor, deadline, signature, sender=brand)


@pytest.mark.parametrize(
    "mismatch",
    ["signer", "item", "receiver", "sender", "nonce", "deadline", "chain", "registry"],
)
def test_handoff__signature_does_not_match__reverts_invalid_signature(
    registry, register, chain, brand, distributor, retailer, rogue, deadline, mismatch
):
    """The distributor's signature only works for exactly what it signed."""
    item, other_item = register("JAR-1", "JAR-2")
    signed = {
        "chain_id": chain.chain_id,
        "registry": registry.address,
        "items": [item],
        "nonces": [0],
        "sender": brand.address,
        "receiver": distributor.address,
        "deadline": deadline,
    }
    signer = distributor
    match mismatch:
        case "signer":
            signer = rogue
        case "item":
            signed["items"] = [other_item]
        case "receiver":
            signed["receiver"] = retailer.address
        case "sender":
            signed["sender"] = rogue.address
        case "nonce":
            signed["nonces"] = [1]
        case "deadline":
            signed["deadline"] = deadline + 1
        case "chain":
            signed["chain_id"] = chain.chain_id + 1
        case "registry":
            signed["registry"] = rogue.address
    signature = signer.sign_message(make_request(**signed).signable()).encode_rsv()

    with reverts_with(registry.InvalidSignature, signer=distributor):
        registry.handoff(item, distributor, deadline, signature, sender=brand)
    assert custody(registry, item) == (brand, ZERO_ADDRESS, 0)


def test_handoff_batch__signature_of_other_items__reverts_invalid_signature(
    registry, register, brand, distributor, sign_handoff, deadline
):
    items = register("JAR-1", "JAR-2", "JAR-3")
    signature = sign_handoff(distributor, items[:2], brand, distributor, deadline)

    with reverts_with(registry.InvalidSignature, signer=distributor):
        registry.handoffBatch(items, distributor, deadline, signature, sender=brand)


def test_handoff__garbage_signature__reverts_invalid_signature(
    registry, register, brand, distributor, deadline
):
    (iid,) = register("JAR-1")

    with reverts_with(registry.InvalidSignature, signer=distributor):
        registry.handoff(iid, distributor, deadline, b"\x01" * 65, sender=brand)


# ----------------------------------------------------------------------------------------------
# Custody rules still apply
# ----------------------------------------------------------------------------------------------


def test_handoff__by_non_custodian__reverts_not_custodian(
    registry, register, brand, distributor, rogue, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid], rogue, distributor, deadline)

    with reverts_with(registry.NotCustodian, itemId=iid, account=rogue, custodian=brand):
        registry.handoff(iid, distributor, deadline, signature, sender=rogue)


def test_handoff__unknown_item__reverts_unknown_item(registry, brand, distributor, sign_handoff, deadline):
    unknown = b"\x42" * 32
    signature = sign_handoff(distributor, [unknown], brand, distributor, deadline)

    with reverts_with(registry.UnknownItem, itemId=unknown):
        registry.handoff(unknown, distributor, deadline, signature, sender=brand)


@pytest.mark.parametrize("receiver", ["zero", "self"])
def test_handoff__invalid_receiver__reverts_invalid_receiver(
    registry, register, brand, sign_handoff, deadline, receiver
):
    (iid,) = register("JAR-1")
    to = ZERO_ADDRESS if receiver == "zero" else brand.address
    signature = sign_handoff(brand, [iid], brand, brand, deadline)

    with reverts_with(registry.InvalidReceiver, receiver=to):
        registry.handoff(iid, to, deadline, signature, sender=brand)


def test_handoff__offer_open__reverts_offer_pending(
    registry, register, brand, distributor, retailer, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    registry.offer(iid, retailer, sender=brand)
    signature = sign_handoff(distributor, [iid], brand, distributor, deadline)

    with reverts_with(registry.OfferPending, itemId=iid, receiver=retailer):
        registry.handoff(iid, distributor, deadline, signature, sender=brand)


def test_handoff_batch__same_item_twice__reverts_and_moves_nothing(
    registry, register, brand, distributor, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid, iid], brand, distributor, deadline)

    with reverts_with(registry.NotCustodian, itemId=iid, account=brand, custodian=distributor):
        registry.handoffBatch([iid, iid], distributor, deadline, signature, sender=brand)
    assert custody(registry, iid) == (brand, ZERO_ADDRESS, 0)


def test_handoff_batch__one_item_not_held__reverts_and_moves_nothing(
    registry, register, brand, distributor, retailer, sign_handoff, deadline
):
    items = register("JAR-1", "JAR-2")
    registry.offer(items[1], retailer, sender=brand)
    registry.accept(items[1], sender=retailer)
    signature = sign_handoff(distributor, items, brand, distributor, deadline)

    with reverts_with(registry.NotCustodian, itemId=items[1], account=brand, custodian=retailer):
        registry.handoffBatch(items, distributor, deadline, signature, sender=brand)
    assert custody(registry, items[0]) == (brand, ZERO_ADDRESS, 0)


def test_handoff_batch__no_items__reverts_empty_batch(registry, brand, distributor, sign_handoff, deadline):
    with reverts_with(registry.EmptyBatch):
        registry.handoffBatch([], distributor, deadline, b"", sender=brand)


# ----------------------------------------------------------------------------------------------
# ERC-1271 contract wallets (MockERC1271Wallet, owned by the retailer's EOA)
# ----------------------------------------------------------------------------------------------


def test_handoff__to_wallet_signed_by_its_owner__custody_moves(
    registry, register, wallet, brand, retailer, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(retailer, [iid], brand, wallet, deadline)

    tx = registry.handoff(iid, wallet, deadline, signature, sender=brand)

    assert_emitted(tx, registry.CustodyTransferred(iid, brand, wallet))
    assert custody(registry, iid) == (wallet.address, ZERO_ADDRESS, 1)


def test_handoff_batch__to_wallet_signed_by_its_owner__every_item_moves(
    registry, register, wallet, brand, retailer, sign_handoff, deadline
):
    items = register("JAR-1", "JAR-2")
    signature = sign_handoff(retailer, items, brand, wallet, deadline)

    registry.handoffBatch(items, wallet, deadline, signature, sender=brand)

    assert [custody(registry, i) for i in items] == [(wallet.address, ZERO_ADDRESS, 1)] * 2


def test_handoff__to_wallet_signed_by_non_owner__reverts_invalid_signature(
    registry, register, wallet, brand, distributor, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    signature = sign_handoff(distributor, [iid], brand, wallet, deadline)

    with reverts_with(registry.InvalidSignature, signer=wallet):
        registry.handoff(iid, wallet, deadline, signature, sender=brand)


def test_handoff__wallet_owner_signs_for_itself__does_not_authorize_wallet(
    registry, register, wallet, brand, retailer, sign_handoff, deadline
):
    """The owner's acceptance addressed to its EOA is not the wallet's acceptance."""
    (iid,) = register("JAR-1")
    signature = sign_handoff(retailer, [iid], brand, retailer, deadline)

    with reverts_with(registry.InvalidSignature, signer=wallet):
        registry.handoff(iid, wallet, deadline, signature, sender=brand)


def test_wallet__accepts_offer_and_hands_off__custody_follows(
    registry, register, wallet, brand, distributor, retailer, sign_handoff, deadline
):
    (iid,) = register("JAR-1")
    registry.offer(iid, wallet, sender=brand)
    wallet.execute(registry, registry.accept.encode_input(iid), sender=retailer)
    assert custody(registry, iid) == (wallet.address, ZERO_ADDRESS, 1)
    signature = sign_handoff(distributor, [iid], wallet, distributor, deadline)

    tx = wallet.execute(
        registry, registry.handoff.encode_input(iid, distributor, deadline, signature), sender=retailer
    )

    assert_emitted(tx, registry.CustodyTransferred(iid, wallet, distributor))
    assert custody(registry, iid) == (distributor, ZERO_ADDRESS, 2)


# ----------------------------------------------------------------------------------------------
# Digests: the Python typed data (supplytrace.core.handoff) hashes to what the contract verifies
# ----------------------------------------------------------------------------------------------


def test_handoff_digest__python_typed_data__equals_contract_digest(
    registry, register, chain, brand, distributor, deadline
):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)
    registry.accept(iid, sender=distributor)  # nonce 1
    request = _request(registry, chain, [iid], distributor, brand, deadline, nonces=[1])

    assert registry.handoffDigest(iid, distributor, brand, deadline) == _digest(request.signable())


def test_handoff_batch_digest__python_typed_data__equals_contract_digest(
    registry, register, chain, brand, distributor, deadline
):
    items = register("JAR-1", "JAR-2")
    registry.offer(items[1], distributor, sender=brand)
    registry.accept(items[1], sender=distributor)
    request = _request(registry, chain, items, distributor, brand, deadline, nonces=[0, 1])

    assert registry.handoffBatchDigest(items, distributor, brand, deadline) == _digest(request.signable())
