"""Custody offers: offer / accept / cancel / reject, their batch versions, and the custody-nonce limit."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from ethpm_types import ContractType
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from supplytrace.core.handoff import make_request
from supplytrace.core.ids import encode_code, item_id
from tests.conftest import (
    HONEY_GTIN,
    LOT_CODE,
    METADATA_HASH,
    ZERO_ADDRESS,
    assert_emitted,
    compile_test_double,
    custody,
    item_record,
    reverts_with,
)

PING_PONG_SOURCE = Path(__file__).parent / "doubles" / "CustodyPingPong.sol"
MAX_NONCE = 2**16 - 1
FAR_FUTURE = 2**40
DEPLOY_GAS = 10_000_000  # the registry's deployment (~5.1M: 23 kB of runtime code at 200 gas a byte)


# ----------------------------------------------------------------------------------------------
# Single-item offers
# ----------------------------------------------------------------------------------------------


def test_offer__by_custodian__receiver_pending_custody_unchanged(registry, register, brand, distributor):
    (iid,) = register("JAR-1")
    registered_at = item_record(registry, iid)["updatedAt"]

    tx = registry.offer(iid, distributor, sender=brand)

    assert_emitted(tx, registry.CustodyOffered(iid, brand, distributor))
    assert custody(registry, iid) == (brand, distributor, 0)
    assert item_record(registry, iid)["updatedAt"] == registered_at


def test_accept__by_pending_receiver__custody_moves(registry, register, brand, distributor):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    tx = registry.accept(iid, sender=distributor)

    assert_emitted(tx, registry.CustodyTransferred(iid, brand, distributor))
    assert custody(registry, iid) == (distributor, ZERO_ADDRESS, 1)
    assert item_record(registry, iid)["updatedAt"] == tx.timestamp


def test_accept__along_the_chain__each_hop_counts(registry, register, brand, distributor, retailer):
    (iid,) = register("JAR-1")
    for sender, receiver in ((brand, distributor), (distributor, retailer)):
        registry.offer(iid, receiver, sender=sender)
        registry.accept(iid, sender=receiver)

    assert custody(registry, iid) == (retailer, ZERO_ADDRESS, 2)


def test_cancel_offer__by_custodian__offer_withdrawn(registry, register, brand, distributor):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    tx = registry.cancelOffer(iid, sender=brand)

    assert_emitted(tx, registry.OfferCancelled(iid, brand, distributor))
    assert custody(registry, iid) == (brand, ZERO_ADDRESS, 1)  # the nonce advances: no replay
    with reverts_with(registry.NoPendingOffer, itemId=iid):
        registry.accept(iid, sender=distributor)


def test_reject_offer__by_receiver__offer_withdrawn(registry, register, brand, distributor, retailer):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    tx = registry.rejectOffer(iid, sender=distributor)

    assert_emitted(tx, registry.OfferRejected(iid, brand, distributor))
    assert custody(registry, iid) == (brand, ZERO_ADDRESS, 1)  # the nonce advances: no replay
    registry.offer(iid, retailer, sender=brand)  # the custodian may offer again


@pytest.mark.parametrize("receiver", ["zero", "self"])
def test_offer__invalid_receiver__reverts_invalid_receiver(registry, register, brand, receiver):
    (iid,) = register("JAR-1")
    to = ZERO_ADDRESS if receiver == "zero" else brand.address

    with reverts_with(registry.InvalidReceiver, receiver=to):
        registry.offer(iid, to, sender=brand)


def test_offer__unknown_item__reverts_unknown_item(registry, brand, distributor):
    with reverts_with(registry.UnknownItem, itemId=b"\x42" * 32):
        registry.offer(b"\x42" * 32, distributor, sender=brand)


def test_offer__by_non_custodian__reverts_not_custodian(registry, register, brand, distributor, rogue):
    (iid,) = register("JAR-1")

    with reverts_with(registry.NotCustodian, itemId=iid, account=rogue, custodian=brand):
        registry.offer(iid, rogue, sender=rogue)


def test_offer__offer_already_open__reverts_offer_pending(registry, register, brand, distributor, retailer):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    with reverts_with(registry.OfferPending, itemId=iid, receiver=distributor):
        registry.offer(iid, retailer, sender=brand)


def test_accept__no_open_offer__reverts_no_pending_offer(registry, register, distributor):
    (iid,) = register("JAR-1")

    with reverts_with(registry.NoPendingOffer, itemId=iid):
        registry.accept(iid, sender=distributor)


def test_accept__by_other_than_receiver__reverts_not_pending_receiver(
    registry, register, brand, distributor, retailer
):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    with reverts_with(registry.NotPendingReceiver, itemId=iid, account=retailer, receiver=distributor):
        registry.accept(iid, sender=retailer)
    assert custody(registry, iid) == (brand, distributor, 0)


def test_cancel_offer__by_receiver__reverts_not_custodian(registry, register, brand, distributor):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    with reverts_with(registry.NotCustodian, itemId=iid, account=distributor, custodian=brand):
        registry.cancelOffer(iid, sender=distributor)


def test_cancel_offer__unknown_item__reverts_unknown_item(registry, brand):
    with reverts_with(registry.UnknownItem, itemId=b"\x42" * 32):
        registry.cancelOffer(b"\x42" * 32, sender=brand)


def test_cancel_offer__no_open_offer__reverts_no_pending_offer(registry, register, brand):
    (iid,) = register("JAR-1")

    with reverts_with(registry.NoPendingOffer, itemId=iid):
        registry.cancelOffer(iid, sender=brand)


def test_reject_offer__by_other_than_receiver__reverts_not_pending_receiver(
    registry, register, brand, distributor
):
    (iid,) = register("JAR-1")
    registry.offer(iid, distributor, sender=brand)

    with reverts_with(registry.NotPendingReceiver, itemId=iid, account=brand, receiver=distributor):
        registry.rejectOffer(iid, sender=brand)


def test_reject_offer__no_open_offer__reverts_no_pending_offer(registry, register, distributor):
    (iid,) = register("JAR-1")

    with reverts_with(registry.NoPendingOffer, itemId=iid):
        registry.rejectOffer(iid, sender=distributor)


# ----------------------------------------------------------------------------------------------
# Batches (a pallet): one event per item, all or nothing
# ----------------------------------------------------------------------------------------------


def test_offer_batch__pallet__every_item_offered(registry, register, brand, distributor):
    items = register("JAR-1", "JAR-2", "JAR-3")

    tx = registry.offerBatch(items, distributor, sender=brand)

    assert_emitted(tx, *(registry.CustodyOffered(i, brand, distributor) for i in items))
    assert [custody(registry, i) for i in items] == [(brand, distributor, 0)] * 3


def test_accept_batch__pallet__every_item_moves(registry, register, brand, distributor):
    items = register("JAR-1", "JAR-2", "JAR-3")
    registry.offerBatch(items, distributor, sender=brand)

    tx = registry.acceptBatch(items, sender=distributor)

    assert_emitted(tx, *(registry.CustodyTransferred(i, brand, distributor) for i in items))
    assert [custody(registry, i) for i in items] == [(distributor, ZERO_ADDRESS, 1)] * 3


def test_cancel_offer_batch__pallet__every_offer_withdrawn(registry, register, brand, distributor):
    items = register("JAR-1", "JAR-2")
    registry.offerBatch(items, distributor, sender=brand)

    tx = registry.cancelOfferBatch(items, sender=brand)

    assert_emitted(tx, *(registry.OfferCancelled(i, brand, distributor) for i in items))
    assert [custody(registry, i) for i in items] == [(brand, ZERO_ADDRESS, 1)] * 2


def test_reject_offer_batch__pallet__every_offer_declined(registry, register, brand, distributor):
    items = register("JAR-1", "JAR-2")
    registry.offerBatch(items, distributor, sender=brand)

    tx = registry.rejectOfferBatch(items, sender=distributor)

    assert_emitted(tx, *(registry.OfferRejected(i, brand, distributor) for i in items))
    assert [custody(registry, i) for i in items] == [(brand, ZERO_ADDRESS, 1)] * 2


@pytest.mark.parametrize(
    "call",
    [
        lambda r, who: r.offerBatch([], who, sender=who),
        lambda r, who: r.acceptBatch([], sender=who),
        lambda r, who: r.cancelOfferBatch([], sender=who),
        lambda r, who: r.rejectOfferBatch([], sender=who),
    ],
    ids=["offerBatch", "acceptBatch", "cancelOfferBatch", "rejectOfferBatch"],
)
def test_batch__no_items__reverts_empty_batch(registry, brand, call):
    with reverts_with(registry.EmptyBatch):
        call(registry, brand)


def test_offer_batch__one_item_not_held__reverts_and_offers_nothing(
    registry, register, brand, distributor, retailer
):
    items = register("JAR-1", "JAR-2", "JAR-3")
    registry.offer(items[2], retailer, sender=brand)
    registry.accept(items[2], sender=retailer)

    with reverts_with(registry.NotCustodian, itemId=items[2], account=brand, custodian=retailer):
        registry.offerBatch(items, distributor, sender=brand)

    assert [custody(registry, i) for i in items[:2]] == [(brand, ZERO_ADDRESS, 0)] * 2


def test_accept_batch__one_item_not_offered__reverts_and_moves_nothing(
    registry, register, brand, distributor
):
    items = register("JAR-1", "JAR-2", "JAR-3")
    registry.offerBatch(items[:2], distributor, sender=brand)

    with reverts_with(registry.NoPendingOffer, itemId=items[2]):
        registry.acceptBatch(items, sender=distributor)

    assert [custody(registry, i) for i in items[:2]] == [(brand, distributor, 0)] * 2


def test_cancel_offer_batch__one_item_without_offer__reverts_and_cancels_nothing(
    registry, register, brand, distributor
):
    items = register("JAR-1", "JAR-2")
    registry.offer(items[0], distributor, sender=brand)

    with reverts_with(registry.NoPendingOffer, itemId=items[1]):
        registry.cancelOfferBatch(items, sender=brand)

    assert custody(registry, items[0]) == (brand, distributor, 0)


def test_reject_offer_batch__one_offer_to_someone_else__reverts_and_rejects_nothing(
    registry, register, brand, distributor, retailer
):
    items = register("JAR-1", "JAR-2")
    registry.offer(items[0], distributor, sender=brand)
    registry.offer(items[1], retailer, sender=brand)

    with reverts_with(registry.NotPendingReceiver, itemId=items[1], account=distributor, receiver=retailer):
        registry.rejectOfferBatch(items, sender=distributor)

    assert custody(registry, items[0]) == (brand, distributor, 0)


# ----------------------------------------------------------------------------------------------
# The custody-nonce limit: 65,535 real moves, on a private anvil
# ----------------------------------------------------------------------------------------------
# ape-foundry always starts anvil with --steps-tracing, which keeps every EVM step in memory: on it,
# 65,535 moves took more than 6 minutes and then anvil died. So this test runs the project's compiled
# registry on its own anvil, without step tracing, and drives it with web3 directly.


@pytest.fixture
def private_anvil() -> Iterator[Web3]:
    """A fresh anvil of our own (default accounts = ape's test accounts), stopped afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = shutil.which("anvil")
    assert executable, "anvil is not on PATH (node_modules/.bin)"
    command = [
        executable,
        "--port",
        str(port),
        "--silent",
        "--hardfork",
        "prague",
        "--disable-block-gas-limit",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 900}))
        for _ in range(100):
            if w3.is_connected():
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"anvil did not start: {command}")
        yield w3
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the process group we created (node wrapper + anvil)
        process.wait(timeout=30)


class _Web3Chain:
    """Deploys ape contract types on a web3 chain and sends transactions from unlocked accounts."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def deploy(self, contract_type: ContractType, *args: Any, sender: Any) -> Contract:
        abi = [entry.model_dump(by_alias=True, mode="json") for entry in contract_type.abi]
        bytecode = contract_type.deployment_bytecode.bytecode
        constructor = self.w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args)
        receipt = self.send(constructor, sender, gas=DEPLOY_GAS)
        return self.w3.eth.contract(address=receipt.contractAddress, abi=abi)

    def send(self, call: Any, sender: Any, gas: int = 5_000_000) -> Any:
        tx_hash = call.transact({"from": sender.address, "gas": gas})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=900, poll_latency=0.05)
        assert receipt.status == 1, f"transaction {tx_hash.hex()} reverted"
        return receipt

    def revert_data(self, call: Any, sender: Any) -> bytes:
        try:
            call.call({"from": sender.address})
        except ContractCustomError as exc:
            return bytes.fromhex(str(exc.data).removeprefix("0x"))
        raise AssertionError("did not revert")

    def custody(self, registry: Contract, item: bytes) -> tuple[str, str, int]:
        """(custodian, pendingReceiver, custodyNonce) of ``item``."""
        (outputs,) = registry.get_function_by_name("getItem").abi["outputs"]
        names = [component["name"] for component in outputs["components"]]
        record = dict(zip(names, registry.functions.getItem(item).call(), strict=True))
        return record["custodian"], record["pendingReceiver"], record["custodyNonce"]

    def sign_handoff(self, signer: Any, registry: Contract, item: bytes, sender: Any, *, nonce: int) -> bytes:
        request = make_request(
            chain_id=self.w3.eth.chain_id,
            registry=registry.address,
            items=[item],
            nonces=[nonce],
            sender=sender.address,
            receiver=signer.address,
            deadline=FAR_FUTURE,
        )
        return signer.sign_message(request.signable()).encode_rsv()


@pytest.mark.slow
def test_move__after_65535_moves__reverts_custody_nonce_exhausted(
    project, private_anvil, admin, brand, distributor, retailer
):
    chain = _Web3Chain(private_anvil)
    registry = chain.deploy(project.ProvenanceRegistry.contract_type, admin.address, 0, sender=admin)
    functions = registry.functions
    chain.send(functions.grantRole(functions.REGISTRAR_ROLE().call(), brand.address), admin)
    chain.send(functions.assignGtin(int(HONEY_GTIN), brand.address), admin)
    chain.send(
        functions.registerLot(int(HONEY_GTIN), encode_code(LOT_CODE, "lot code"), METADATA_HASH), brand
    )
    chain.send(functions.registerItem(1, encode_code("JAR-1")), brand)
    iid = item_id(HONEY_GTIN, "JAR-1")
    ping_pong_type = compile_test_double(PING_PONG_SOURCE, "CustodyPingPong").contract_type
    ping, pong = (chain.deploy(ping_pong_type, registry.address, sender=brand) for _ in range(2))
    chain.send(ping.functions.pair(pong.address), brand)
    chain.send(pong.functions.pair(ping.address), brand)

    # Moves: brand -> ping (1), ping <-> pong (2 per round), ping -> distributor (1),
    # distributor -> retailer (1): the 65,535th and last possible move.
    chain.send(functions.handoff(iid, ping.address, FAR_FUTURE, b""), brand)  # ping consents (ERC-1271)
    chain.send(ping.functions.spin(iid, (MAX_NONCE - 3) // 2), brand, gas=10**9)
    chain.send(ping.functions.offer(iid, distributor.address), brand)
    chain.send(functions.accept(iid), distributor)
    signature = chain.sign_handoff(retailer, registry, iid, distributor, nonce=MAX_NONCE - 1)
    chain.send(functions.handoff(iid, retailer.address, FAR_FUTURE, signature), distributor)
    assert chain.custody(registry, iid) == (retailer.address, ZERO_ADDRESS, MAX_NONCE)

    exhausted = _error_data(project.ProvenanceRegistry.contract_type, "CustodyNonceExhausted", iid)
    signature = chain.sign_handoff(distributor, registry, iid, retailer, nonce=MAX_NONCE)
    handoff = functions.handoff(iid, distributor.address, FAR_FUTURE, signature)
    assert chain.revert_data(handoff, retailer) == exhausted
    chain.send(functions.offer(iid, distributor.address), retailer)  # an offer is still possible, ...
    assert chain.revert_data(functions.accept(iid), distributor) == exhausted  # ... not its acceptance
    chain.send(functions.cancelOffer(iid), retailer)  # always withdrawable: the nonce stays at its last
    assert chain.custody(registry, iid) == (retailer.address, ZERO_ADDRESS, MAX_NONCE)


def _error_data(contract_type: ContractType, name: str, *args: Any) -> bytes:
    """The revert data of custom error ``name`` with ``args``."""
    (error,) = (abi for abi in contract_type.errors if abi.name == name)
    selector = keccak(text=error.selector)[:4]
    return selector + encode([arg.canonical_type for arg in error.inputs], list(args))
