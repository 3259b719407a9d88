"""The custody state machine, driven at random against a pure Python model (hypothesis.stateful).

Every rule is also tried by the wrong actors: the model predicts the exact custom error (with its
arguments), the chain must revert with it, and the invariants, read back from ``getItem`` for every
item after every step, show that nothing changed. The brand's rights change too (the admin revokes
and grants its registrar role, releases its GTIN and assigns it to it or to another account, the
brand renews its lots): the model keeps its registration epoch, and the invariants check the lots'
``lotNeedsRenewal``, the role and the GTIN's owner.

For speed the machine talks to the registry with raw JSON-RPC requests over ape's own connection
to anvil instead of ape's transaction machinery (ape traces and prints every revert: ~200 ms each).
Transactions are still sent and mined, reverting ones included (with a fixed gas limit); the revert
reason is read with an ``eth_call`` of the same transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_utils import keccak
from hexbytes import HexBytes
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from supplytrace.core.ids import encode_code, item_id
from supplytrace.core.records import DEFAULT_ADMIN_ROLE, REGISTRAR_ROLE
from tests.conftest import HONEY_GTIN, ZERO_ADDRESS, ItemStatus, normalized, readable

SERIALS = ("S0", "S1", "S2", "S3")  # item i belongs to the lot LOTS[i % 2]
ACTOR_NAMES = ("admin", "brand", "distributor", "retailer")
DEADLINE = 2**40
GAS = 1_000_000

#: "right" (half of the time): the account the model says may act (custodian, pending receiver,
#: lot registrar); else any actor, often a wrong one.
actors = st.one_of(st.just("right"), st.sampled_from(ACTOR_NAMES))
receivers = st.sampled_from((*ACTOR_NAMES, "zero"))
#: "receiver" (half of the time): the handoff's receiver signs, as it should.
signers = st.one_of(st.just("receiver"), st.sampled_from(ACTOR_NAMES))
items = st.integers(min_value=0, max_value=len(SERIALS) - 1)
lots = st.integers(min_value=0, max_value=1)
#: Who the admin assigns the brand's GTIN to: the brand again, or another account.
assignees = st.sampled_from(("brand", "distributor"))

#: A predicted revert, ``(error name, arguments)``, or None for success.
Outcome = tuple[str, dict[str, Any]] | None


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------


@dataclass
class ItemModel:
    custodian: str
    pending: str | None = None
    nonce: int = 0
    sold: bool = False


@dataclass
class CustodyModel:
    """What the registry should hold. Each method returns the predicted outcome of one call and,
    when it should succeed, applies it."""

    brand: str
    admin: str
    lots: tuple[int, int]
    item_ids: list[bytes]
    items: dict[int, ItemModel] = field(default_factory=dict)
    recalled: set[int] = field(default_factory=set)
    # The brand's rights: its registrar role, the owner of its GTIN (no company prefixes here), its
    # registration epoch and the epoch each lot was registered or last renewed at.
    has_role: bool = True
    gtin_owner: str | None = None
    epoch: int = 0
    lot_epochs: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gtin_owner = self.brand
        self.lot_epochs = dict.fromkeys(self.lots, 0)

    def lot_of(self, i: int) -> int:
        return self.lots[i % 2]

    def needs_renewal(self, lot: int) -> bool:
        return lot not in self.recalled and self.lot_epochs[lot] != self.epoch

    def _rights(self) -> Outcome:
        """What the brand lacks to register: its role, its GTIN."""
        if not self.has_role:
            return "NotRegistrar", {"account": self.brand}
        if self.gtin_owner != self.brand:
            return "GtinNotOwned", {
                "gtin": int(HONEY_GTIN),
                "account": self.brand,
                "owner": self.gtin_owner or ZERO_ADDRESS,
            }
        return None

    def register(self, i: int, actor: str) -> Outcome:
        lot = self.lot_of(i)
        if actor != self.brand:
            return "NotLotRegistrar", {"lotId": lot, "account": actor, "registrar": self.brand}
        if lot in self.recalled:
            return "LotIsRecalled", {"lotId": lot}
        if self.lot_epochs[lot] != self.epoch:
            return self._rights() or ("LotNeedsRenewal", {"lotId": lot})
        if i in self.items:
            return "ItemAlreadyRegistered", {"itemId": self.item_ids[i]}
        self.items[i] = ItemModel(custodian=self.brand)
        return None

    def _custodian(self, i: int, actor: str) -> Outcome:
        if i not in self.items:
            return "UnknownItem", {"itemId": self.item_ids[i]}
        if actor != self.items[i].custodian:
            return "NotCustodian", {
                "itemId": self.item_ids[i],
                "account": actor,
                "custodian": self.items[i].custodian,
            }
        return None

    def _custodied(self, i: int, actor: str) -> Outcome:
        if error := self._custodian(i, actor):
            return error
        if self.items[i].sold:
            return "ItemAlreadySold", {"itemId": self.item_ids[i]}
        return None

    def _movable(self, i: int, actor: str, to: str) -> Outcome:
        if error := self._custodied(i, actor):
            return error
        if to in (ZERO_ADDRESS, actor):
            return "InvalidReceiver", {"receiver": to}
        if pending := self.items[i].pending:
            return "OfferPending", {"itemId": self.item_ids[i], "receiver": pending}
        return None

    def _pending_receiver(self, i: int, actor: str) -> Outcome:
        pending = self.items[i].pending if i in self.items else None
        if pending is None:
            return "NoPendingOffer", {"itemId": self.item_ids[i]}
        if actor != pending:
            return "NotPendingReceiver", {"itemId": self.item_ids[i], "account": actor, "receiver": pending}
        return None

    def _move(self, i: int, to: str) -> None:
        item = self.items[i]
        item.custodian, item.pending, item.nonce = to, None, item.nonce + 1

    def offer(self, i: int, actor: str, to: str) -> Outcome:
        if error := self._movable(i, actor, to):
            return error
        self.items[i].pending = to
        return None

    def accept(self, i: int, actor: str) -> Outcome:
        if error := self._pending_receiver(i, actor):
            return error
        self._move(i, actor)
        return None

    def cancel(self, i: int, actor: str) -> Outcome:
        if error := self._custodian(i, actor):
            return error
        if self.items[i].pending is None:
            return "NoPendingOffer", {"itemId": self.item_ids[i]}
        self._end_offer(i)
        return None

    def reject(self, i: int, actor: str) -> Outcome:
        if error := self._pending_receiver(i, actor):
            return error
        self._end_offer(i)
        return None

    def _end_offer(self, i: int) -> None:
        """A withdrawn or declined offer advances the nonce (a signed offer cannot be replayed)."""
        item = self.items[i]
        item.pending, item.nonce = None, item.nonce + 1

    def handoff(self, i: int, actor: str, to: str, signer: str) -> Outcome:
        if error := self._movable(i, actor, to):
            return error
        if signer != to:
            return "InvalidSignature", {"signer": to}
        self._move(i, to)
        return None

    def record(self, i: int, actor: str) -> Outcome:
        if error := self._custodied(i, actor):
            return error
        self.items[i].nonce += 1  # an observation advances the nonce (signatures work once)
        return None

    def sell(self, i: int, actor: str) -> Outcome:
        if error := self._custodied(i, actor):
            return error
        if pending := self.items[i].pending:
            return "OfferPending", {"itemId": self.item_ids[i], "receiver": pending}
        self.items[i].sold = True
        return None

    def recall(self, lot: int, actor: str) -> Outcome:
        if actor == self.brand and not self.has_role:
            return "NotRegistrar", {"account": actor}
        if actor not in (self.brand, self.admin):
            return "NotLotRegistrar", {"lotId": lot, "account": actor, "registrar": self.brand}
        if lot in self.recalled:
            return "LotIsRecalled", {"lotId": lot}
        self.recalled.add(lot)
        return None

    def renew(self, lot: int, actor: str) -> Outcome:
        if actor != self.brand:
            return "NotLotRegistrar", {"lotId": lot, "account": actor, "registrar": self.brand}
        if lot in self.recalled:
            return "LotIsRecalled", {"lotId": lot}
        if error := self._rights():
            return error
        self.lot_epochs[lot] = self.epoch
        return None

    def _admin(self, actor: str) -> Outcome:
        if actor != self.admin:
            return "AccessControlUnauthorizedAccount", {"account": actor, "neededRole": DEFAULT_ADMIN_ROLE}
        return None

    def revoke_role(self, actor: str) -> Outcome:
        if error := self._admin(actor):
            return error
        if self.has_role:  # revoking a role the account does not hold changes nothing
            self.has_role, self.epoch = False, self.epoch + 1
        return None

    def grant_role(self, actor: str) -> Outcome:
        if error := self._admin(actor):
            return error
        self.has_role = True  # the epoch stays: the brand's lots wait for their renewal
        return None

    def release_gtin(self, actor: str) -> Outcome:
        if error := self._admin(actor):
            return error
        if self.gtin_owner is None:
            return "GtinNotAssigned", {"gtin": int(HONEY_GTIN)}
        if self.gtin_owner == self.brand:
            self.epoch += 1
        self.gtin_owner = None
        return None

    def assign_gtin(self, actor: str, to: str) -> Outcome:
        if error := self._admin(actor):
            return error
        if self.gtin_owner is not None:
            return "GtinAlreadyAssigned", {"gtin": int(HONEY_GTIN), "owner": self.gtin_owner}
        self.gtin_owner = to
        return None


# ----------------------------------------------------------------------------------------------
# The chain, through ape's web3 connection
# ----------------------------------------------------------------------------------------------


class LeanRegistry:
    """Sends transactions to the registry and reads items with raw JSON-RPC requests over ape's
    connection to anvil (web3's middleware would add a chain-id request to each of them)."""

    def __init__(self, registry: Any, provider: Any) -> None:
        self.rpc = provider.web3.provider
        self.address = registry.address
        self.ecosystem = provider.network.ecosystem
        abis = {abi.name: abi for abi in registry.contract_type.mutable_methods}
        for view in ("getItem", "lotNeedsRenewal", "hasRole", "gtinOwner"):
            abis[view] = registry.contract_type.view_methods[view]
        self.methods = {
            name: (keccak(text=abi.selector)[:4], [arg.canonical_type for arg in abi.inputs])
            for name, abi in abis.items()
        }
        self.outputs = {name: [arg.canonical_type for arg in abi.outputs] for name, abi in abis.items()}
        (record,) = abis["getItem"].outputs
        self.record_type = record.canonical_type
        self.record_fields = [component.name for component in record.components]

    def _request(self, method: str, *params: Any) -> Any:
        response = self.rpc.make_request(method, list(params))
        assert "error" not in response, f"{method}: {response['error']}"
        return response["result"]

    def _calldata(self, function: str, *args: Any) -> str:
        selector, types = self.methods[function]
        return "0x" + (selector + encode(types, list(args))).hex()

    def transact(self, sender: str, function: str, *args: Any) -> Outcome:
        """Sends (and mines) the transaction; returns None, or its custom error if it reverted."""
        tx = {"from": sender, "to": self.address, "data": self._calldata(function, *args)}
        tx_hash = self._request("eth_sendTransaction", {**tx, "gas": hex(GAS), "gasPrice": "0x0"})
        while (receipt := self._request("eth_getTransactionReceipt", tx_hash)) is None:
            time.sleep(0.001)
        if int(receipt["status"], 16) == 1:
            return None
        # The state did not change: the same call reverts the same way and tells why.
        error = self.rpc.make_request("eth_call", [tx, "latest"]).get("error", {})
        assert "data" in error, f"{function}{readable(args)} reverted on chain but not in eth_call: {error}"
        custom_error = self.ecosystem.decode_custom_error(HexBytes(error["data"]), self.address)
        assert custom_error is not None, f"undecodable revert {error['data']}"
        return type(custom_error).__name__, normalized(dict(custom_error.inputs))

    def get_items(self, item_ids: list[bytes]) -> list[dict[str, Any]]:
        """``getItem`` of every item, in one JSON-RPC batch."""
        calls = [
            ("eth_call", [{"to": self.address, "data": self._calldata("getItem", item)}, "latest"])
            for item in item_ids
        ]
        records = []
        for response in self.rpc.make_batch_request(calls):
            (values,) = decode([self.record_type], HexBytes(response["result"]))
            records.append(normalized(dict(zip(self.record_fields, values, strict=True))))
        return records

    def views(self, calls: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """The single result of each view call, in one JSON-RPC batch."""
        batch = [
            ("eth_call", [{"to": self.address, "data": self._calldata(name, *args)}, "latest"])
            for name, args in calls
        ]
        results = []
        for (name, _), response in zip(calls, self.rpc.make_batch_request(batch), strict=True):
            (value,) = decode(self.outputs[name], HexBytes(response["result"]))
            results.append(normalized(value))
        return results


@dataclass
class Environment:
    chain: Any
    registry: LeanRegistry
    model_args: dict[str, Any]
    accounts: dict[str, Any]
    sign_handoff: Any


# ----------------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------------


class CustodyMachine(RuleBasedStateMachine):
    def __init__(self, env: Environment) -> None:
        super().__init__()
        self.env = env
        self.snapshot = env.chain.snapshot()  # every example starts from the same clean world
        self.model = CustodyModel(**env.model_args)
        self.address = {name: account.address for name, account in env.accounts.items()}
        self.address["zero"] = ZERO_ADDRESS
        self.observed = [_unknown_record() for _ in SERIALS]  # getItem after the previous step
        self.consents: set[tuple[int, str]] = set()  # (item, receiver) consents given in this step
        self.recorded: set[int] = set()  # items observed in this step

    def teardown(self) -> None:
        self.env.chain.restore(self.snapshot)

    # -- helpers ---------------------------------------------------------------------------------

    def _actor(self, who: str, right: str | None) -> str:
        return (right or self.model.brand) if who == "right" else self.address[who]

    def _custodian(self, i: int) -> str | None:
        return self.model.items[i].custodian if i in self.model.items else None

    def _pending(self, i: int) -> str | None:
        return self.model.items[i].pending if i in self.model.items else None

    def _send(self, expected: Outcome, sender: str, function: str, *args: Any) -> None:
        self.consents.clear()
        self.recorded.clear()
        actual = self.env.registry.transact(sender, function, *args)
        expected = None if expected is None else (expected[0], normalized(expected[1]))
        call = f"{function}{readable(args)} from {sender}"
        assert actual == expected, f"{call}: chain {readable(actual)}, model {readable(expected)}"

    # -- rules -------------------------------------------------------------------------------------

    @initialize(registered=st.sets(items, min_size=1))
    def register_some(self, registered: set[int]) -> None:
        """Most steps need registered items: start with some (the brand registers them)."""
        for i in sorted(registered):
            self.register(i, "right")

    @rule(i=items, who=actors)
    def register(self, i: int, who: str) -> None:
        actor = self._actor(who, self.model.brand)
        expected = self.model.register(i, actor)
        self._send(expected, actor, "registerItem", self.model.lot_of(i), encode_code(SERIALS[i]))

    @rule(i=items, who=actors, to=receivers)
    def offer(self, i: int, who: str, to: str) -> None:
        actor = self._actor(who, self._custodian(i))
        expected = self.model.offer(i, actor, self.address[to])
        self._send(expected, actor, "offer", self.model.item_ids[i], self.address[to])

    @rule(i=items, to=st.sampled_from(ACTOR_NAMES))
    def offer_by_custodian(self, i: int, to: str) -> None:
        """Offers come first: accept and reject need them (this doubles their share of steps)."""
        self.offer(i, "right", to)

    @rule(i=items, who=actors)
    def accept(self, i: int, who: str) -> None:
        actor = self._actor(who, self._pending(i))
        expected = self.model.accept(i, actor)
        self._send(expected, actor, "accept", self.model.item_ids[i])
        if expected is None:
            self.consents.add((i, actor))  # the receiver itself accepted

    @rule(i=items, who=actors)
    def cancel(self, i: int, who: str) -> None:
        actor = self._actor(who, self._custodian(i))
        expected = self.model.cancel(i, actor)
        self._send(expected, actor, "cancelOffer", self.model.item_ids[i])

    @rule(i=items, who=actors)
    def reject(self, i: int, who: str) -> None:
        actor = self._actor(who, self._pending(i))
        expected = self.model.reject(i, actor)
        self._send(expected, actor, "rejectOffer", self.model.item_ids[i])

    @rule(i=items, who=actors, to=receivers, signer_name=signers)
    def handoff(self, i: int, who: str, to: str, signer_name: str) -> None:
        actor, receiver = self._actor(who, self._custodian(i)), self.address[to]
        if signer_name == "receiver":
            signer_name = to if to != "zero" else "brand"
        signer = self.env.accounts[signer_name]
        nonce = self.model.items[i].nonce if i in self.model.items else 0
        item = self.model.item_ids[i]
        signature = self.env.sign_handoff(signer, [item], actor, receiver, DEADLINE, nonces=[nonce])
        expected = self.model.handoff(i, actor, receiver, signer.address)
        self._send(expected, actor, "handoff", item, receiver, DEADLINE, signature)
        if expected is None:
            self.consents.add((i, signer.address))  # the receiver's own signature

    @rule(i=items, who=actors)
    def record(self, i: int, who: str) -> None:
        actor = self._actor(who, self._custodian(i))
        expected = self.model.record(i, actor)
        self._send(expected, actor, "record", self.model.item_ids[i], encode_code("inspecting"), b"\1" * 32)
        if expected is None:
            self.recorded.add(i)

    @rule(i=items, who=actors)
    def sell(self, i: int, who: str) -> None:
        actor = self._actor(who, self._custodian(i))
        expected = self.model.sell(i, actor)
        self._send(expected, actor, "sell", self.model.item_ids[i])

    @rule(lot=lots, who=actors)
    def recall(self, lot: int, who: str) -> None:
        actor = self._actor(who, self.model.brand)
        expected = self.model.recall(self.model.lots[lot], actor)
        self._send(expected, actor, "recallLot", self.model.lots[lot], "recall")

    # -- the brand's rights (the admin's rules; the brand renews) ------------------------------------

    @rule(who=actors)
    def revoke_role(self, who: str) -> None:
        actor = self._actor(who, self.model.admin)
        expected = self.model.revoke_role(actor)
        self._send(expected, actor, "revokeRole", REGISTRAR_ROLE, self.model.brand)

    @rule(who=actors)
    def grant_role(self, who: str) -> None:
        actor = self._actor(who, self.model.admin)
        expected = self.model.grant_role(actor)
        self._send(expected, actor, "grantRole", REGISTRAR_ROLE, self.model.brand)

    @rule(who=actors)
    def release_gtin(self, who: str) -> None:
        actor = self._actor(who, self.model.admin)
        expected = self.model.release_gtin(actor)
        self._send(expected, actor, "releaseGtin", int(HONEY_GTIN))

    @rule(who=actors, to=assignees)
    def assign_gtin(self, who: str, to: str) -> None:
        actor = self._actor(who, self.model.admin)
        expected = self.model.assign_gtin(actor, self.address[to])
        self._send(expected, actor, "assignGtin", int(HONEY_GTIN), self.address[to])

    @rule(lot=lots, who=actors)
    def renew(self, lot: int, who: str) -> None:
        actor = self._actor(who, self.model.brand)
        expected = self.model.renew(self.model.lots[lot], actor)
        self._send(expected, actor, "renewLot", self.model.lots[lot])

    # -- invariants, from getItem of every item ----------------------------------------------------

    @invariant()
    def chain_matches_model(self) -> None:
        records = self.env.registry.get_items(self.model.item_ids)
        previous, self.observed = self.observed, records
        for i, (before, now) in enumerate(zip(previous, records, strict=True)):
            self._check_item(i, now)
            self._check_custody_change(i, before, now)
        self._check_recalls(records)

    @invariant()
    def rights_match_model(self) -> None:
        model = self.model
        calls: list[tuple[str, tuple[Any, ...]]] = [("lotNeedsRenewal", (lot,)) for lot in model.lots]
        calls += [("hasRole", (REGISTRAR_ROLE, model.brand)), ("gtinOwner", (int(HONEY_GTIN),))]
        *renewals, has_role, owner = self.env.registry.views(calls)
        assert renewals == [model.needs_renewal(lot) for lot in model.lots], "lots needing renewal"
        assert (has_role, owner) == (model.has_role, normalized(model.gtin_owner or ZERO_ADDRESS))

    def _check_item(self, i: int, record: dict[str, Any]) -> None:
        item = self.model.items.get(i)
        if item is None:
            assert record == _unknown_record(), f"item {i} is not registered in the model"
            return
        assert record["custodian"] == item.custodian != ZERO_ADDRESS, f"item {i}: one custodian, the model's"
        assert record["pendingReceiver"] == (item.pending or ZERO_ADDRESS), f"item {i}: pending receiver"
        assert record["custodyNonce"] == item.nonce, f"item {i}: custody nonce"
        assert record["status"] == (ItemStatus.SOLD if item.sold else ItemStatus.ACTIVE), f"item {i}: status"
        assert (record["lotId"], record["brand"]) == (self.model.lot_of(i), self.model.brand)

    def _check_custody_change(self, i: int, before: dict[str, Any], now: dict[str, Any]) -> None:
        if before["status"] == ItemStatus.SOLD:
            assert (now["status"], now["custodian"], now["custodyNonce"]) == (
                ItemStatus.SOLD,
                before["custodian"],
                before["custodyNonce"],
            ), f"sold item {i} moved"
        if before["status"] != ItemStatus.UNKNOWN and now["custodian"] != before["custodian"]:
            assert (i, now["custodian"]) in self.consents, (
                f"item {i} moved to {now['custodian']} without consent"
            )
            assert now["custodyNonce"] == before["custodyNonce"] + 1
        elif before["pendingReceiver"] != ZERO_ADDRESS and now["pendingReceiver"] == ZERO_ADDRESS:
            assert now["custodyNonce"] == before["custodyNonce"] + 1, f"item {i}: an ended offer, one step"
        elif i in self.recorded:
            assert now["custodyNonce"] == before["custodyNonce"] + 1, f"item {i}: an observation, one step"
        else:
            assert now["custodyNonce"] == before["custodyNonce"], f"item {i}: nonce moved without a step"

    def _check_recalls(self, records: list[dict[str, Any]]) -> None:
        for lot in self.model.lots:
            of_lot = [
                r for i, r in enumerate(records) if i in self.model.items and self.model.lot_of(i) == lot
            ]
            assert {(r["recalled"], r["recalledAt"] != 0) for r in of_lot} <= {
                (lot in self.model.recalled,) * 2
            }
            assert len({r["recalledAt"] for r in of_lot}) <= 1, f"items of lot {lot} disagree on the recall"


def _unknown_record() -> dict[str, Any]:
    return normalized(
        {
            "status": ItemStatus.UNKNOWN,
            "custodian": ZERO_ADDRESS,
            "pendingReceiver": ZERO_ADDRESS,
            "brand": ZERO_ADDRESS,
            "lotId": 0,
            "gtin": 0,
            "lotCode": b"\0" * 32,
            "lotMetadataHash": b"\0" * 32,
            "custodyNonce": 0,
            "updatedAt": 0,
            "recalled": False,
            "recalledAt": 0,
            "lotClosed": False,
            "container": b"\0" * 32,
        }
    )


@pytest.mark.slow
def test_custody_state_machine__random_steps_by_right_and_wrong_actors__chain_matches_model(
    registry, networks, chain, lot_id, other_lot_id, admin, brand, distributor, retailer, sign_handoff
):
    accounts = {"admin": admin, "brand": brand, "distributor": distributor, "retailer": retailer}
    env = Environment(
        chain=chain,
        registry=LeanRegistry(registry, networks.provider),
        model_args={
            "brand": brand.address,
            "admin": admin.address,
            "lots": (lot_id, other_lot_id),
            "item_ids": [item_id(HONEY_GTIN, serial) for serial in SERIALS],
        },
        accounts=accounts,
        sign_handoff=sign_handoff,
    )

    run_state_machine_as_test(lambda: CustodyMachine(env), settings=settings.get_profile("custody-machine"))
