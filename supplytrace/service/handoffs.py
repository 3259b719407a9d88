"""Signed acceptances: what a receiver signs (EIP-712, with the items' current custody nonces),
the ``st1:`` text it sends to the custodian, and the checks before the custodian sends the
handoff with it.

An acceptance of more items than one transaction takes is signed in parts (:class:`Acceptances`),
one signature and one ``st1:`` line each, all in one text or file; the custodian sends one
transaction per part. A single ``st1:`` text (an acceptance signed before parts existed) is an
acceptance of one part."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from supplytrace.chain.gas import BATCH_GAS, chunk_size
from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.chain.send import Sender
from supplytrace.core.acceptance import PREFIX, AcceptanceError, decode_acceptance, encode_acceptance
from supplytrace.core.deployments import Deployment
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.handoff import HandoffRequest, make_request
from supplytrace.core.records import ItemRecord
from supplytrace.service import bulk, selection
from supplytrace.service.bulk import RunOptions
from supplytrace.service.results import BulkResult
from supplytrace.service.selection import Applies

if TYPE_CHECKING:
    from supplytrace.service.registry import Items, Registry


@runtime_checkable
class MessageSigner(Protocol):
    """An account that signs EIP-712 messages (``supplytrace.chain.ape.ApeSigner``)."""

    @property
    def address(self) -> str: ...

    def sign_message(self, message: Any) -> bytes:
        """The 65-byte (r, s, v) signature of an EIP-712 ``SignableMessage``."""
        ...


@dataclass(frozen=True)
class Acceptance:
    """A receiver's signed acceptance of a handoff, and its ``st1:`` text."""

    request: HandoffRequest
    signature: bytes

    @property
    def text(self) -> str:
        return encode_acceptance(self.request, self.signature)


@dataclass(frozen=True)
class Acceptances:
    """A receiver's signed acceptance in one or more parts (one handoff transaction each), and
    its text: one ``st1:`` line per part."""

    parts: tuple[Acceptance, ...]

    @property
    def text(self) -> str:
        return "\n".join(part.text for part in self.parts)

    @property
    def items(self) -> tuple[bytes, ...]:
        return tuple(i for part in self.parts for i in part.request.items)

    @property
    def sender(self) -> str:
        return self.parts[0].request.sender

    @property
    def receiver(self) -> str:
        return self.parts[0].request.receiver


def now(rpc: Rpc) -> int:
    """The later of the wall clock and the chain's latest block time (a deadline counts from it:
    a test chain's clock may run ahead)."""
    head = rpc.request("eth_getBlockByNumber", ["latest", False])
    return max(int(time.time()), hex_int(head["timestamp"]) if isinstance(head, dict) else 0)


def sign(signer: object, request: HandoffRequest) -> Acceptance:
    """``request`` signed by ``signer`` (the receiver)."""
    if not isinstance(signer, MessageSigner):
        raise SupplytraceError(
            "this account cannot sign an acceptance (it signs transactions only); use an ape account."
        )
    if signer.address.lower() != request.receiver.lower():
        raise SupplytraceError(
            f"the acceptance is for {request.receiver}, not for the signing account {signer.address}; "
            "sign with the receiver's account."
        )
    return Acceptance(request, bytes(signer.sign_message(request.signable())))


def requests(
    registry: Registry, items: Items, *, sender: str, valid_for: int, size: int
) -> list[HandoffRequest]:
    """What ``registry``'s signer (the receiver) signs to accept ``items`` from ``sender`` within
    ``valid_for`` seconds, in parts of ``size`` items (0: one part): the items' current custody
    nonces, one deadline."""
    sender = selection.address(sender)
    ids = registry.select(items, Applies(holder=sender))
    nonces = [record.custody_nonce for record in registry.items(ids)]
    deadline = now(registry.rpc) + max(0, valid_for)
    size = size or len(ids)
    return [
        make_request(
            chain_id=registry.deployment.chain_id,
            registry=registry.address,
            items=ids[start : start + size],
            nonces=nonces[start : start + size],
            sender=sender,
            receiver=registry.account,
            deadline=deadline,
        )
        for start in range(0, len(ids), size)
    ]


def sign_all(signer: object, parts: Sequence[HandoffRequest]) -> Acceptances:
    """Every part signed by ``signer``; a keystore account is unlocked once (one passphrase)."""
    unlock = getattr(signer, "unlock", None)
    if len(parts) > 1 and unlock is not None:
        unlock()
    return Acceptances(tuple(sign(signer, request) for request in parts))


def hand_over(
    sender: Sender, acceptance: Acceptances, records: Sequence[ItemRecord], options: RunOptions | None
) -> BulkResult:
    """Send each part of ``acceptance`` not yet used (``records``: the live records of its items,
    in order): a used part's items are the receiver's and their custody nonces moved on."""
    live = dict(zip(acceptance.items, records, strict=True))
    todo: list[tuple[bytes, ...]] = []
    done: list[bytes] = []
    for part in acceptance.parts:
        request = part.request
        used = all(
            bulk.same(live[i].custodian, request.receiver) and live[i].custody_nonce > nonce
            for i, nonce in zip(request.items, request.nonces, strict=True)
        )
        if used:
            done.extend(request.items)
        else:
            todo.append(request.items)
    by_items = {part.request.items: part for part in acceptance.parts}

    def call(chunk: Sequence[bytes]) -> tuple[str, tuple[Any, ...]]:
        part = by_items[tuple(chunk)]
        common = (part.request.receiver, part.request.deadline, part.signature)
        return (
            ("handoffBatch", (list(chunk), *common))
            if part.request.is_batch
            else ("handoff", (chunk[0], *common))
        )

    step = bulk.Step(call, BATCH_GAS["handoffBatch"], "handed over")
    sizing = chunk_size(sender.rpc, step.gas)
    return bulk.send_chunks(sender, step, todo, sizing, done=done, options=options, resizable=False)


def read_acceptance(acceptance: str) -> Acceptances:
    """An acceptance from its text (one ``st1:`` part or several, whitespace anywhere: as pasted
    from a terminal), or from the file that holds it."""
    if acceptance.strip().startswith(PREFIX):
        text = acceptance
    elif Path(acceptance).is_file():
        text = Path(acceptance).read_text(encoding="utf-8", errors="replace")
    else:
        raise AcceptanceError(
            f"{acceptance!r} is neither an acceptance (st1:...) nor a file holding one; give the text "
            "or the file the receiver sent (`supplytrace sign-acceptance --output FILE`)."
        )
    compact = "".join(text.split())
    if not compact.startswith(PREFIX):  # decode_acceptance says what is wrong
        decode_acceptance(compact)
    return Acceptances(
        tuple(Acceptance(*decode_acceptance(PREFIX + part)) for part in compact.split(PREFIX)[1:])
    )


def check_handoff(acceptance: Acceptances, *, sender: str, deployment: Deployment) -> None:
    """Refuse an acceptance the registry would refuse or that is meant for another registry: each
    part must be for items sent by ``sender``, to this registry, on its chain."""
    for part in acceptance.parts:
        _check_part(part.request, sender=sender, deployment=deployment)


def _check_part(request: HandoffRequest, *, sender: str, deployment: Deployment) -> None:
    if request.sender.lower() != sender.lower():
        raise AcceptanceError(
            f"this acceptance is for items sent by {request.sender}, not by you ({sender}); sign with "
            "that account, or ask the receiver to sign an acceptance from you "
            f"(`supplytrace sign-acceptance --from {sender}`)."
        )
    if request.registry.lower() != deployment.address.lower():
        raise AcceptanceError(
            f"this acceptance is for the registry at {request.registry}, not {deployment.address}; "
            "check --network."
        )
    if request.chain_id != deployment.chain_id:
        raise AcceptanceError(
            f"this acceptance is for chain {request.chain_id}, but the registry is on chain "
            f"{deployment.chain_id}; check --network."
        )
