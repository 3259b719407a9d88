"""Signed acceptances: what a receiver signs (EIP-712, with the items' current custody nonces),
the ``st1:`` text it sends to the custodian, and the checks before the custodian sends the
one-transaction handoff with it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.core.acceptance import PREFIX, AcceptanceError, decode_acceptance, encode_acceptance
from supplytrace.core.deployments import Deployment
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.handoff import HandoffRequest


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


def read_acceptance(acceptance: str) -> Acceptance:
    """An acceptance from its ``st1:`` text, or from the file that holds it."""
    if acceptance.strip().startswith(PREFIX):
        text = acceptance
    elif Path(acceptance).is_file():
        text = Path(acceptance).read_text(encoding="utf-8", errors="replace").strip()
    else:
        raise AcceptanceError(
            f"{acceptance!r} is neither an acceptance (st1:...) nor a file holding one; give the text "
            "or the file the receiver sent (`supplytrace sign-acceptance --output FILE`)."
        )
    request, signature = decode_acceptance(text)
    return Acceptance(request, signature)


def check_handoff(acceptance: Acceptance, *, sender: str, deployment: Deployment) -> None:
    """Refuse an acceptance the registry would refuse or that is meant for another registry: it
    must be for items sent by ``sender``, to this registry, on its chain."""
    request = acceptance.request
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
