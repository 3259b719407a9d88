"""A receiver's signed acceptance as one line of text to send to the custodian.

Format: ``st1:`` + base64url (no padding) of a JSON object with the EIP-712 fields and the
signature. The custodian's ``supplytrace handoff`` decodes it and submits it in one transaction;
the contract re-derives the digest, so a tampered acceptance simply fails ``InvalidSignature``.
"""

from __future__ import annotations

import base64
import binascii
import json

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.handoff import HandoffRequest, make_request

PREFIX = "st1:"


class AcceptanceError(SupplytraceError, ValueError):
    """The text is not a supplytrace acceptance."""


def encode_acceptance(request: HandoffRequest, signature: bytes) -> str:
    body = {
        "chainId": request.chain_id,
        "registry": request.registry,
        "items": ["0x" + i.hex() for i in request.items],
        "nonces": list(request.nonces),
        "from": request.sender,
        "to": request.receiver,
        "deadline": request.deadline,
        "signature": "0x" + signature.hex(),
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_acceptance(text: str) -> tuple[HandoffRequest, bytes]:
    text = text.strip()
    if not text.startswith(PREFIX):
        raise AcceptanceError(
            "this is not a supplytrace acceptance (it should start with 'st1:'); "
            "ask the receiver to run `supplytrace sign-acceptance`."
        )
    payload = text[len(PREFIX) :]
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        request = make_request(
            chain_id=int(body["chainId"]),
            registry=str(body["registry"]),
            items=[bytes.fromhex(i[2:]) for i in body["items"]],
            nonces=[int(n) for n in body["nonces"]],
            sender=str(body["from"]),
            receiver=str(body["to"]),
            deadline=int(body["deadline"]),
        )
        signature = bytes.fromhex(body["signature"][2:])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise AcceptanceError(
            f"the acceptance is damaged ({exc}); ask the receiver to send it again."
        ) from None
    return request, signature
