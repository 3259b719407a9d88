"""supplytrace.core.handoff: EIP-712 typed data, checked against the deployed registry's own digests."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.handoff import DOMAIN_NAME, DOMAIN_VERSION, HandoffRequest, make_request

REGISTRY = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
SENDER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
RECEIVER = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
ITEM_A = keccak(b"item a")
ITEM_B = keccak(b"item b")


def request_for(items, nonces, **overrides) -> HandoffRequest:
    fields = {
        "chain_id": 1337,
        "registry": REGISTRY,
        "items": items,
        "nonces": nonces,
        "sender": SENDER,
        "receiver": RECEIVER,
        "deadline": 1_900_000_000,
    }
    return make_request(**(fields | overrides))


def digest_of(request: HandoffRequest) -> bytes:
    return _hash_eip191_message(encode_typed_data(full_message=request.typed_data()))


# ---------------------------------------------------------------------------------------------
# make_request
# ---------------------------------------------------------------------------------------------


def test_make_request__no_items__raises_value_error():
    with pytest.raises(ValueError, match="at least one item"):
        request_for([], [])


@pytest.mark.parametrize(("items", "nonces"), [([ITEM_A], []), ([ITEM_A], [0, 1]), ([ITEM_A, ITEM_B], [0])])
def test_make_request__nonce_count_differs__raises_value_error(items, nonces):
    with pytest.raises(ValueError, match="one custody nonce per item"):
        request_for(items, nonces)


def test_make_request__lists__stored_as_tuples():
    request = request_for([ITEM_A, ITEM_B], [3, 4])
    assert request.items == (ITEM_A, ITEM_B)
    assert request.nonces == (3, 4)
    assert request.is_batch


# ---------------------------------------------------------------------------------------------
# typed_data
# ---------------------------------------------------------------------------------------------


def test_typed_data__one_item__handoff_type_with_checksummed_addresses():
    data = request_for([ITEM_A], [7]).typed_data()
    assert data["primaryType"] == "Handoff"
    assert set(data["types"]) == {"EIP712Domain", "Handoff"}
    assert [(f["name"], f["type"]) for f in data["types"]["Handoff"]] == [
        ("item", "bytes32"),
        ("nonce", "uint256"),
        ("from", "address"),
        ("to", "address"),
        ("deadline", "uint256"),
    ]
    assert data["domain"] == {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": 1337,
        "verifyingContract": to_checksum_address(REGISTRY),
    }
    assert DOMAIN_NAME == "supplytrace"
    assert DOMAIN_VERSION == "1"
    assert data["message"] == {
        "item": ITEM_A,
        "nonce": 7,
        "from": to_checksum_address(SENDER),
        "to": to_checksum_address(RECEIVER),
        "deadline": 1_900_000_000,
    }


def test_typed_data__two_items__handoff_batch_type_with_lists():
    request = request_for([ITEM_A, ITEM_B], [0, 5])
    data = request.typed_data()
    assert data["primaryType"] == "HandoffBatch"
    assert set(data["types"]) == {"EIP712Domain", "HandoffBatch"}
    assert [(f["name"], f["type"]) for f in data["types"]["HandoffBatch"]] == [
        ("items", "bytes32[]"),
        ("nonces", "uint256[]"),
        ("from", "address"),
        ("to", "address"),
        ("deadline", "uint256"),
    ]
    assert data["message"]["items"] == [ITEM_A, ITEM_B]
    assert data["message"]["nonces"] == [0, 5]


def test_typed_data__type_strings__match_the_contract_typehashes():
    # The contract hashes these exact strings (_HANDOFF_TYPEHASH / _HANDOFF_BATCH_TYPEHASH).
    for request, expected in [
        (
            request_for([ITEM_A], [0]),
            "Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)",
        ),
        (
            request_for([ITEM_A, ITEM_B], [0, 0]),
            "HandoffBatch(bytes32[] items,uint256[] nonces,address from,address to,uint256 deadline)",
        ),
    ]:
        data = request.typed_data()
        fields = data["types"][data["primaryType"]]
        assert f"{data['primaryType']}({','.join(f['type'] + ' ' + f['name'] for f in fields)})" == expected


def test_signable__any_request__same_as_encoding_typed_data():
    request = request_for([ITEM_A, ITEM_B], [1, 2])
    assert request.signable() == encode_typed_data(full_message=request.typed_data())


@given(
    nonce=st.integers(min_value=0, max_value=2**16 - 1),
    deadline=st.integers(min_value=0, max_value=2**256 - 1),
    other_nonce=st.integers(min_value=0, max_value=2**16 - 1),
)
def test_digest__any_field_changed__digest_changes(nonce, deadline, other_nonce):
    base = digest_of(request_for([ITEM_A], [nonce], deadline=deadline))
    assert base == digest_of(request_for([ITEM_A], [nonce], deadline=deadline))
    if other_nonce != nonce:
        assert digest_of(request_for([ITEM_A], [other_nonce], deadline=deadline)) != base
    assert digest_of(request_for([ITEM_B], [nonce], deadline=deadline)) != base
    assert digest_of(request_for([ITEM_A], [nonce], deadline=deadline, chain_id=1)) != base
    assert (
        digest_of(request_for([ITEM_A], [nonce], deadline=deadline, receiver=SENDER, sender=RECEIVER)) != base
    )


def test_sign__with_a_local_key__recovers_the_receiver():
    receiver = Account.create()
    request = request_for([ITEM_A], [0], receiver=receiver.address)
    signed = receiver.sign_message(request.signable())
    assert Account.recover_message(request.signable(), signature=signed.signature) == receiver.address


# ---------------------------------------------------------------------------------------------
# Against the deployed registry
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def moved_items(registry, register, brand, distributor):
    """Three honey jars; the first two moved brand -> distributor (custody nonce 1), the third unmoved."""
    ids = register("HO-0001", "HO-0002", "HO-0003")
    registry.offerBatch(ids[:2], distributor, sender=brand)
    registry.acceptBatch(ids[:2], sender=distributor)
    assert [registry.getItem(i).custodyNonce for i in ids] == [1, 1, 0]
    return ids


def onchain_request(registry, chain, items, sender, receiver, deadline) -> HandoffRequest:
    return make_request(
        chain_id=int(chain.provider.make_request("eth_chainId", []), 16),
        registry=str(registry.address),
        items=items,
        nonces=[int(registry.getItem(i).custodyNonce) for i in items],
        sender=str(sender.address),
        receiver=str(receiver.address),
        deadline=deadline,
    )


def test_digest__single_item__equals_contract_handoff_digest(
    registry, chain, moved_items, distributor, retailer
):
    deadline = chain.pending_timestamp + 3600
    for item in (moved_items[0], moved_items[2]):  # nonce 1 and nonce 0
        request = onchain_request(registry, chain, [item], distributor, retailer, deadline)
        assert not request.is_batch
        expected = bytes(registry.handoffDigest(item, distributor, retailer, deadline))
        assert digest_of(request) == expected
        assert _hash_eip191_message(request.signable()) == expected


def test_digest__batch__equals_contract_handoff_batch_digest(
    registry, chain, moved_items, distributor, retailer
):
    deadline = chain.pending_timestamp + 3600
    request = onchain_request(registry, chain, moved_items, distributor, retailer, deadline)
    assert request.is_batch
    assert request.nonces == (1, 1, 0)
    expected = bytes(registry.handoffBatchDigest(moved_items, distributor, retailer, deadline))
    assert digest_of(request) == expected


def test_digest__stale_nonce__differs_from_contract_digest(
    registry, chain, moved_items, distributor, retailer
):
    deadline = chain.pending_timestamp + 3600
    stale = make_request(
        chain_id=int(chain.provider.make_request("eth_chainId", []), 16),
        registry=str(registry.address),
        items=[moved_items[0]],
        nonces=[0],  # the nonce before the move
        sender=str(distributor.address),
        receiver=str(retailer.address),
        deadline=deadline,
    )
    assert digest_of(stale) != bytes(registry.handoffDigest(moved_items[0], distributor, retailer, deadline))


def test_handoff__signed_single_and_batch_requests__accepted_by_contract(
    registry, chain, moved_items, brand, distributor, retailer
):
    deadline = chain.pending_timestamp + 3600
    single = onchain_request(registry, chain, [moved_items[2]], brand, distributor, deadline)
    signature = distributor.sign_message(single.signable()).encode_rsv()
    registry.handoff(moved_items[2], distributor, deadline, signature, sender=brand)
    batch = onchain_request(registry, chain, moved_items, distributor, retailer, deadline)
    signature = retailer.sign_message(batch.signable()).encode_rsv()
    registry.handoffBatch(moved_items, retailer, deadline, signature, sender=distributor)
    assert [registry.getItem(i).custodian for i in moved_items] == [retailer] * 3
    assert [registry.getItem(i).custodyNonce for i in moved_items] == [2, 2, 2]
