"""Containers driven at random against a pure Python model (hypothesis.stateful, issue #14).

Items and containers (cases, pallets) are packed, unpacked, offered, accepted, rejected, withdrawn
and handed over with the receiver's signature, by right and wrong actors. After every step the
chain must agree with the model on every item's and container's custodian (read through its
containers: the outermost one's), immediate container, open offer and nonce; and whenever an
item's custodian changes, the new custodian consented in that step (accepted, or signed the
handoff) to the item or to a container holding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi import decode
from hexbytes import HexBytes
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from supplytrace.core.ids import container_id, item_id, sscc_with_check_digit
from tests.conftest import HONEY_GTIN, ZERO_ADDRESS, normalized
from tests.contracts.test_custody_stateful import LeanRegistry

SERIALS = ("K0", "K1", "K2", "K3")
PREFIXES = {"brand": "9506000", "distributor": "9506001"}
#: (prefix owner, serial reference) of each container: two of the brand's, one of the distributor's.
CONTAINERS = (("brand", 1), ("brand", 2), ("distributor", 3))
ACTORS = ("brand", "distributor", "retailer")
DEADLINE = 2**40
ZERO32 = b"\0" * 32

N_ITEMS, N_ALL = len(SERIALS), len(SERIALS) + len(CONTAINERS)
entities = st.integers(min_value=0, max_value=N_ALL - 1)
containers = st.integers(min_value=N_ITEMS, max_value=N_ALL - 1)
actors = st.one_of(st.just("right"), st.sampled_from(ACTORS))


@dataclass
class Entity:
    exists: bool
    holder: str | None = None  # while not packed
    parent: int | None = None
    pending: str | None = None
    offerer: str | None = None  # the offer is open while its offerer holds the entity, unpacked
    nonce: int = 0
    level: int = 0


@dataclass
class Model:
    brand: str
    prefix_owner: dict[int, str]
    entities: list[Entity] = field(default_factory=list)

    def is_container(self, e: int) -> bool:
        return e >= N_ITEMS

    def outermost(self, e: int) -> int:
        while (parent := self.entities[e].parent) is not None:
            e = parent
        return e

    def custodian(self, e: int) -> str | None:
        return self.entities[self.outermost(e)].holder if self.entities[e].exists else None

    def open_offer(self, e: int) -> str | None:
        entity = self.entities[e]
        held = entity.exists and entity.parent is None and entity.holder == entity.offerer
        return entity.pending if held else None

    def _held(self, e: int, actor: str) -> bool:
        entity = self.entities[e]
        return entity.exists and entity.parent is None and entity.holder == actor

    def pack(self, actor: str, c: int, contents: list[int]) -> bool:
        box = self.entities[c]
        if not contents:
            return False
        if box.exists:
            if not self._held(c, actor) or self.open_offer(c) is not None:
                return False
        elif self.prefix_owner[c] != actor:
            return False
        if len(set(contents)) != len(contents) or c in contents:
            return False
        if not all(self._held(x, actor) for x in contents):
            return False
        level = max([1] + [self.entities[x].level + 1 for x in contents if self.is_container(x)])
        if level > 7:
            return False
        if not box.exists:
            box.exists, box.holder = True, actor
        for x in contents:
            entity = self.entities[x]
            entity.parent, entity.holder, entity.nonce = c, None, entity.nonce + 1
        box.level, box.nonce = max(box.level, level), box.nonce + 1
        return True

    def unpack(self, actor: str, c: int, contents: list[int]) -> bool:
        box = self.entities[c]
        if not contents or not self._held(c, actor) or self.open_offer(c) is not None:
            return False
        if len(set(contents)) != len(contents) or any(self.entities[x].parent != c for x in contents):
            return False
        for x in contents:
            entity = self.entities[x]
            entity.parent, entity.holder, entity.nonce = None, actor, entity.nonce + 1
        box.nonce += 1
        return True

    def offer(self, actor: str, e: int, to: str) -> bool:
        entity = self.entities[e]
        if not self._held(e, actor) or self.open_offer(e) is not None or to == actor:
            return False
        entity.pending, entity.offerer = to, actor
        return True

    def accept(self, actor: str, e: int) -> bool:
        entity = self.entities[e]
        if self.open_offer(e) is None or entity.pending != actor:
            return False
        entity.holder, entity.pending, entity.nonce = actor, None, entity.nonce + 1
        return True

    def end_offer(self, actor: str, e: int, by_receiver: bool) -> bool:
        entity = self.entities[e]
        if self.open_offer(e) is None:
            return False
        if (entity.pending if by_receiver else entity.holder) != actor:
            return False
        entity.pending, entity.nonce = None, entity.nonce + 1
        return True

    def handoff(self, actor: str, e: int, to: str, signer: str) -> bool:
        entity = self.entities[e]
        if not self._held(e, actor) or self.open_offer(e) is not None or to == actor or signer != to:
            return False
        entity.holder, entity.nonce = to, entity.nonce + 1
        return True


class ContainerMachine(RuleBasedStateMachine):
    def __init__(self, env: dict[str, Any]) -> None:
        super().__init__()
        self.env = env
        self.snapshot = env["chain"].snapshot()
        self.address = {name: account.address for name, account in env["accounts"].items()}
        brand = self.address["brand"]
        self.ids = [item_id(HONEY_GTIN, s) for s in SERIALS] + [container_id(s) for s in env["ssccs"]]
        self.model = Model(
            brand=brand,
            prefix_owner={N_ITEMS + n: self.address[owner] for n, (owner, _) in enumerate(CONTAINERS)},
            entities=[Entity(exists=True, holder=brand) for _ in SERIALS]
            + [Entity(exists=False) for _ in CONTAINERS],
        )
        self.before = self._custodians()
        self.consents: set[tuple[int, str]] = set()

    def teardown(self) -> None:
        self.env["chain"].restore(self.snapshot)

    def _actor(self, who: str, e: int) -> str:
        if who == "right":
            return self.model.custodian(e) or self.address["brand"]
        return self.address[who]

    def _receiver(self, e: int) -> str:
        return self.model.entities[e].pending or self.address["retailer"]

    def _send(self, expected: bool, sender: str, function: str, *args: Any) -> None:
        outcome = self.env["lean"].transact(sender, function, *args)
        assert (outcome is None) == expected, f"{function} from {sender}: chain {outcome}, model {expected}"

    @initialize()
    def start(self) -> None:
        self.consents.clear()

    @rule(c=containers, who=actors, contents=st.lists(entities, min_size=1, max_size=4))
    def pack(self, c: int, who: str, contents: list[int]) -> None:
        actor = self._actor(who, contents[0])
        self.consents.clear()
        expected = self.model.pack(actor, c, list(contents))
        sscc = self.env["ssccs"][c - N_ITEMS]
        self._send(expected, actor, "pack", sscc, [self.ids[x] for x in contents])

    @rule(c=containers, who=actors, contents=st.lists(entities, min_size=1, max_size=4))
    def unpack(self, c: int, who: str, contents: list[int]) -> None:
        actor = self._actor(who, c)
        self.consents.clear()
        expected = self.model.unpack(actor, c, list(contents))
        self._send(expected, actor, "unpack", self.ids[c], [self.ids[x] for x in contents])

    @rule(e=entities, who=actors, to=st.sampled_from(ACTORS))
    def offer(self, e: int, who: str, to: str) -> None:
        actor = self._actor(who, e)
        self.consents.clear()
        expected = self.model.offer(actor, e, self.address[to])
        self._send(expected, actor, "offer", self.ids[e], self.address[to])

    @rule(e=entities, who=st.one_of(st.just("receiver"), st.sampled_from(ACTORS)))
    def accept(self, e: int, who: str) -> None:
        actor = self._receiver(e) if who == "receiver" else self.address[who]
        self.consents.clear()
        expected = self.model.accept(actor, e)
        self._send(expected, actor, "accept", self.ids[e])
        if expected:
            self.consents.add((e, actor))

    @rule(e=entities, who=st.one_of(st.just("receiver"), st.sampled_from(ACTORS)))
    def reject(self, e: int, who: str) -> None:
        actor = self._receiver(e) if who == "receiver" else self.address[who]
        self.consents.clear()
        expected = self.model.end_offer(actor, e, by_receiver=True)
        self._send(expected, actor, "rejectOffer", self.ids[e])

    @rule(e=entities, who=actors)
    def cancel(self, e: int, who: str) -> None:
        actor = self._actor(who, e)
        self.consents.clear()
        expected = self.model.end_offer(actor, e, by_receiver=False)
        self._send(expected, actor, "cancelOffer", self.ids[e])

    @rule(e=entities, who=actors, to=st.sampled_from(ACTORS), signer=st.sampled_from(("receiver", *ACTORS)))
    def handoff(self, e: int, who: str, to: str, signer: str) -> None:
        actor, receiver = self._actor(who, e), self.address[to]
        signer_name = to if signer == "receiver" else signer
        nonce = self.model.entities[e].nonce
        signature = self.env["sign_handoff"](
            self.env["accounts"][signer_name], [self.ids[e]], actor, receiver, DEADLINE, nonces=[nonce]
        )
        self.consents.clear()
        expected = self.model.handoff(actor, e, receiver, self.address[signer_name])
        self._send(expected, actor, "handoff", self.ids[e], receiver, DEADLINE, signature)
        if expected:
            self.consents.add((e, receiver))

    def _custodians(self) -> list[str | None]:
        return [self.model.custodian(e) for e in range(N_ALL)]

    @invariant()
    def chain_matches_model(self) -> None:
        lean = self.env["lean"]
        items = lean.get_items(self.ids[:N_ITEMS])
        boxes = lean.get_containers(self.ids[N_ITEMS:])
        for e, record in enumerate(items + boxes):
            entity = self.model.entities[e]
            if not entity.exists:
                assert record["custodian"] == ZERO_ADDRESS, f"container {e} does not exist yet"
                continue
            parent = self.ids[entity.parent] if entity.parent is not None else ZERO32
            pending = self.model.open_offer(e) or ZERO_ADDRESS
            assert record["custodian"] == normalized(self.model.custodian(e)), f"{e}: custodian"
            assert record["container"] == parent, f"{e}: container"
            assert record["pendingReceiver"] == normalized(pending), f"{e}: open offer"
            assert record["custodyNonce"] == entity.nonce, f"{e}: nonce"

    @invariant()
    def custody_changes_only_with_consent(self) -> None:
        now = self._custodians()
        for e in range(N_ITEMS):
            if now[e] != self.before[e] and self.before[e] is not None:
                chain = [e]
                while (parent := self.model.entities[chain[-1]].parent) is not None:
                    chain.append(parent)
                assert any((x, now[e]) in self.consents for x in chain), f"item {e} moved without consent"
        self.before = now


class LeanContainers(LeanRegistry):
    """LeanRegistry, plus getContainer in one batch."""

    def __init__(self, registry: Any, provider: Any) -> None:
        super().__init__(registry, provider)
        view = registry.contract_type.view_methods["getContainer"]
        from eth_utils import keccak

        self.methods["getContainer"] = (
            keccak(text=view.selector)[:4],
            [a.canonical_type for a in view.inputs],
        )
        (record,) = view.outputs
        self.container_type, self.container_fields = (
            record.canonical_type,
            [c.name for c in record.components],
        )

    def get_containers(self, ids: list[bytes]) -> list[dict[str, Any]]:
        calls = [
            ("eth_call", [{"to": self.address, "data": self._calldata("getContainer", i)}, "latest"])
            for i in ids
        ]
        records = []
        for response in self.rpc.make_batch_request(calls):
            (values,) = decode([self.container_type], HexBytes(response["result"]))
            records.append(normalized(dict(zip(self.container_fields, values, strict=True))))
        return records


@pytest.mark.slow
def test_container_state_machine__random_packing_and_custody__custodian_is_the_outermost_and_consented(
    registry, networks, chain, register, admin, brand, distributor, retailer, sign_handoff
):
    register(*SERIALS)
    for owner, prefix in PREFIXES.items():
        registry.assignCompanyPrefix(
            int(prefix), 7, {"brand": brand, "distributor": distributor}[owner], sender=admin
        )
    ssccs = [int(sscc_with_check_digit(f"0{PREFIXES[owner]}{ref:09d}")) for owner, ref in CONTAINERS]
    env = {
        "chain": chain,
        "lean": LeanContainers(registry, networks.provider),
        "accounts": {"brand": brand, "distributor": distributor, "retailer": retailer},
        "ssccs": ssccs,
        "sign_handoff": sign_handoff,
    }
    run_state_machine_as_test(lambda: ContainerMachine(env), settings=settings.get_profile("custody-machine"))
