"""The relayer (supplytrace.relay) behind its HTTP app, and custody signed here and sent through it
(service/relaying.py): a merchant with no ether takes part, the relayer pays, simulates before it
pays, keeps its caps across restarts, and refuses replays, stale and malformed requests with one
sentence and nothing sent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.send import Sender
from supplytrace.core.actions import SignedAction
from supplytrace.relay import CapExceededError, Caps, Relayer, UsageBook
from supplytrace.relay.app import relay_app
from supplytrace.relay.request import wire
from supplytrace.service.relaying import RelayError, poster, relay_handoff, relay_steps
from supplytrace.service.selection import ItemSelection
from tests.conftest import ZERO_ADDRESS
from tests.service.conftest import nonce

URL = "http://testserver"


class KeyOnly:
    """A fresh key that signs messages and has never held ether."""

    def __init__(self) -> None:
        self.key = Account.create()

    @property
    def address(self) -> str:
        return str(self.key.address)

    def sign_message(self, message: Any) -> bytes:
        return bytes(self.key.sign_message(message).signature)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return tmp_path / "relay" / "usage.sqlite3"


@pytest.fixture
def relayer_for(rpc, registry, chain, stranger, book):
    """relayer_for(caps=None) -> (Relayer paying from the stranger, test client of its app)."""

    def _make(caps: Caps | None = None) -> tuple[Relayer, TestClient]:
        sender = Sender(rpc, ApeSigner(stranger), chain_id=chain.chain_id, registry=str(registry.address))
        relayer = Relayer(sender, UsageBook(book), caps)
        return relayer, TestClient(relay_app(relayer))

    return _make


def balance(rpc, address: str) -> int:
    return int(rpc.request("eth_getBalance", [address, "latest"]), 16)


def signed(registry, chain, signer, kind: str, item: bytes, deadline: int, **fields: Any) -> dict[str, Any]:
    """The JSON request of ``kind`` on ``item`` signed by ``signer`` at the item's nonce."""
    action = SignedAction(
        kind=kind,  # type: ignore[arg-type]
        chain_id=chain.chain_id,
        registry=str(registry.address),
        item=item,
        nonce=registry.getItem(item).custodyNonce,
        deadline=deadline,
        **fields,
    )
    signature = signer.sign_message(action.signable())
    return wire(action, bytes(signature.encode_rsv() if hasattr(signature, "encode_rsv") else signature))


# ----------------------------------------------------------------------------------------------
# A merchant with no ether
# ----------------------------------------------------------------------------------------------


def test_relay__zero_balance_distributor_accepts_records_offers__relayer_pays_balance_stays_zero(
    as_, reader, rpc, registry, register, brand, retailer, stranger, relayer_for
):
    merchant = KeyOnly()
    (item,) = register("JAR-1")
    registry.offer(item, merchant.address, sender=brand)
    relayer, client = relayer_for()
    post = poster(URL, client=client)
    me = reader.acting_as(merchant)  # type: ignore[arg-type]  (signs messages only)
    paid_before = balance(rpc, stranger.address)

    accepted = relay_steps(me, post, "accept", [item])
    recorded = relay_steps(me, post, "record", [item], step="inspecting")
    offered = relay_steps(me, post, "offer", [item], to=retailer.address)

    runs = (accepted, recorded, offered)
    assert [r.status for run in runs for r in run.relayed] == ["success"] * 3
    assert {r.signer for run in runs for r in run.relayed} == {merchant.address}
    record = reader.item(item)
    assert (record.custodian, record.pending_receiver, record.custody_nonce) == (
        merchant.address,
        retailer.address,
        2,  # the acceptance and the record (an offer leaves it)
    )
    assert balance(rpc, merchant.address) == 0
    fees = sum(r.fee_wei for run in runs for r in run.relayed)
    assert fees > 0 and balance(rpc, stranger.address) == paid_before - fees
    assert relayer.usage.used(relayer.chain_id, merchant.address)[0] == 3


def test_relay__answer_and_lookup__the_transaction_its_block_and_the_relayed_record(
    registry, chain, register, brand, distributor, stranger, relayer_for, deadline
):
    (item,) = register("JAR-1")
    _, client = relayer_for()
    body = signed(registry, chain, brand, "offer", item, deadline, to=distributor.address)

    answer = client.post("/actions", json=body)

    assert answer.status_code == 200, answer.text
    relayed = answer.json()
    receipt = chain.provider.get_receipt(relayed["tx_hash"])
    assert (relayed["block"], relayed["status"], relayed["signer"]) == (
        receipt.block_number,
        "success",
        brand.address,
    )
    found = client.get(f"/actions/{relayed['tx_hash']}").json()
    assert (found["kind"], found["item"], found["status"]) == ("offer", "0x" + item.hex(), "success")
    assert client.get("/health").json()["relayer"] == stranger.address


def test_relay__handoff_with_the_receivers_acceptance__both_signatures_relayed(
    as_, reader, register, brand, retailer, relayer_for
):
    (item,) = register("JAR-1")
    acceptance = as_(retailer).sign_acceptance([item], sender=brand.address, max_items_per_tx=1)
    _, client = relayer_for()

    run = relay_handoff(as_(brand), poster(URL, client=client), acceptance)

    assert [r.kind for r in run.relayed] == ["handoff"]
    assert reader.item(item).custodian == retailer.address
    again = relay_handoff(as_(brand), poster(URL, client=client), acceptance)
    assert (again.relayed, again.done) == ([], [item])


# ----------------------------------------------------------------------------------------------
# Refused, nothing sent
# ----------------------------------------------------------------------------------------------


def test_relay__second_action_past_the_signers_daily_cap__refused_nothing_sent_also_after_restart(
    rpc, registry, chain, register, brand, distributor, stranger, relayer_for, deadline
):
    a, b = register("JAR-1", "JAR-2")
    _, client = relayer_for(Caps(actions_per_signer=1))
    assert (
        client.post("/actions", json=signed(registry, chain, brand, "sell", a, deadline)).status_code == 200
    )
    sent = nonce(rpc, stranger)

    refused = client.post("/actions", json=signed(registry, chain, brand, "sell", b, deadline))
    _, restarted = relayer_for(Caps(actions_per_signer=1))
    after_restart = restarted.post("/actions", json=signed(registry, chain, brand, "sell", b, deadline))

    assert refused.status_code == after_restart.status_code == 429
    assert "its 1 relayed actions of today (UTC); nothing was sent" in refused.json()["error"]
    assert nonce(rpc, stranger) == sent
    assert registry.getItem(b).status == 1  # still active


def test_relay__gas_past_the_relayers_daily_budget__refused_nothing_sent(
    rpc, registry, chain, register, brand, stranger, relayer_for, deadline
):
    (item,) = register("JAR-1")
    _, client = relayer_for(Caps(gas_per_day=20_000))
    sent = nonce(rpc, stranger)

    answer = client.post("/actions", json=signed(registry, chain, brand, "sell", item, deadline))

    assert answer.status_code == 429
    assert "the relayer has spent its 20,000 gas of today" in answer.json()["error"]
    assert nonce(rpc, stranger) == sent


def test_relay__same_signature_again__refused_by_simulation_without_a_transaction(
    rpc, registry, chain, register, brand, distributor, stranger, relayer_for, deadline
):
    (item,) = register("JAR-1")
    relayer, client = relayer_for()
    body = signed(registry, chain, brand, "offer", item, deadline, to=distributor.address)
    assert client.post("/actions", json=body).status_code == 200
    registry.cancelOffer(item, sender=brand)  # the offer ends: the same offer would be valid again
    sent = nonce(rpc, stranger)

    replay = client.post("/actions", json=body)

    assert replay.status_code == 409
    assert "signed at item nonce 0, but the item is at nonce 1" in replay.json()["error"]
    assert "nothing was sent" in replay.json()["error"]
    assert nonce(rpc, stranger) == sent
    assert registry.getItem(item).pendingReceiver == ZERO_ADDRESS
    assert relayer.usage.used(relayer.chain_id, brand.address)[0] == 1


def test_relay__wrong_signer__refused_with_the_registrys_sentence(
    rpc, registry, chain, register, brand, stranger, relayer_for, deadline
):
    (item,) = register("JAR-1")
    _, client = relayer_for()
    sent = nonce(rpc, stranger)

    answer = client.post("/actions", json=signed(registry, chain, stranger, "sell", item, deadline))

    assert answer.status_code == 409
    assert f"the signature is not {brand.address}'s for this step" in answer.json()["error"]
    assert nonce(rpc, stranger) == sent


@pytest.mark.parametrize(
    ("offset", "sentence"),
    [(-10, "the signed sell expired (deadline"), (8 * 24 * 3600, "more than 168 hours ahead")],
    ids=["expired", "too-far"],
)
def test_relay__deadline_past_or_too_far__refused_nothing_sent(
    rpc, registry, chain, register, brand, stranger, relayer_for, offset, sentence
):
    (item,) = register("JAR-1")
    _, client = relayer_for()
    now = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    sent = nonce(rpc, stranger)

    answer = client.post("/actions", json=signed(registry, chain, brand, "sell", item, now + offset))

    assert answer.status_code == 400
    assert sentence in answer.json()["error"]
    assert nonce(rpc, stranger) == sent


GOOD = {
    "kind": "sell",
    "item": "0x" + "ab" * 32,
    "nonce": 0,
    "deadline": 2**40,
    "signature": "0x" + "11" * 65,
}


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        (b"{not json", 400, "the request is not JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b"9" * 5000, 400, "not JSON"),
        (b"[" * 10000 + b"]" * 10000, 413, "larger than 16,384 bytes"),
        ({**GOOD, "extra": 1}, 400, "unknown keys ['extra']"),
        ({k: v for k, v in GOOD.items() if k != "signature"}, 400, "lacks signature"),
        ({**GOOD, "kind": "steal"}, 400, "kind must be one of offer, accept"),
        ({**GOOD, "item": "0x1234"}, 400, "item must be 0x and 64 hex digits"),
        ({**GOOD, "nonce": True}, 400, "nonce must be a whole number, not true"),
        ({**GOOD, "nonce": -1}, 400, "nonce must be a whole number from 0"),
        ({**GOOD, "deadline": 1.5}, 400, "deadline must be a whole number"),
        ({**GOOD, "signature": "0x" + "1" * 3000}, 400, "at most 1024 bytes"),
        ({**GOOD, "signature": "0xzz"}, 400, "signature must be 0x"),
        ({**GOOD, "fields": {"to": "0x" + "22" * 20}}, 400, "a sell takes no fields ['to']"),
        ({**GOOD, "kind": "offer"}, 400, "an offer needs the fields ['to']"),
        ({**GOOD, "kind": "handoff", "fields": {"sender": "0x" + "22" * 20, "to": "0x" + "33" * 20}}, 400,
         "needs the receiver's signature too"),
        ({**GOOD, "to_signature": "0x11"}, 400, "a sell takes one signature"),
        ({**GOOD, "chain_id": 1}, 400, "this relayer serves chain"),
        ({**GOOD, "registry": "0x" + "44" * 20}, 400, "this relayer serves the registry at"),
        ({**GOOD, "fields": []}, 400, "fields must be a JSON object"),
    ],
    ids=lambda v: None,
)  # fmt: skip
def test_relay__malformed_request__400_or_413_with_a_sentence_never_500(
    rpc, stranger, relayer_for, body, status, sentence
):
    _, client = relayer_for()
    sent = nonce(rpc, stranger)

    if isinstance(body, bytes):
        answer = client.post("/actions", content=body, headers={"Content-Type": "application/json"})
    else:
        answer = client.post("/actions", json=body)

    assert answer.status_code == status, answer.text
    assert sentence in answer.json()["error"]
    assert nonce(rpc, stranger) == sent


def test_relay__client_of_a_refusing_relayer__raises_its_sentence(
    reader, register, brand, distributor, relayer_for
):
    (item,) = register("JAR-1")
    _, client = relayer_for(Caps(actions_per_signer=1))
    post = poster(URL, client=client)
    me = reader.acting_as(ApeSigner(brand))
    relay_steps(me, post, "offer", ItemSelection(items=("0x" + item.hex(),)), to=distributor.address)

    with pytest.raises(RelayError, match=r"the relayer refused: .* relayed actions of today"):
        relay_steps(me, post, "cancel", [item])


# ----------------------------------------------------------------------------------------------
# The book of use
# ----------------------------------------------------------------------------------------------


def test_reserve__threads_racing_for_the_last_slots__exactly_the_cap_passes(book):
    usage = UsageBook(book)
    caps = Caps(actions_per_signer=5)
    passed: list[bool] = []
    start = threading.Barrier(20)

    def take() -> None:
        start.wait()
        try:
            usage.reserve(1, "0xabc", 1000, caps)
            passed.append(True)
        except CapExceededError:
            passed.append(False)

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert passed.count(True) == 5
    assert usage.used(1, "0xABC") == (5, 5000)
    assert usage.used(1, "*") == (0, 5000)


def test_reserve__next_utc_day__the_signer_starts_afresh(book):
    days = iter(["2026-01-01", "2026-01-01", "2026-01-02"])
    usage = UsageBook(book, today=lambda: next(days))
    caps = Caps(actions_per_signer=1)
    usage.reserve(1, "0xabc", 10, caps)
    with pytest.raises(CapExceededError):
        usage.reserve(1, "0xabc", 10, caps)
    usage.reserve(1, "0xabc", 10, caps)
