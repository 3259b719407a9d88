"""A relay request: its JSON form, and the strict reading of it (every byte of it is hostile).

``POST /actions`` takes one JSON object::

    {
      "kind": "offer",                      # one of supplytrace.core.actions.KINDS
      "item": "0x<64 hex>",
      "nonce": 3,                           # the item's custodyNonce signed (integer or decimal string)
      "deadline": 1767225600,               # unix seconds (integer or decimal string)
      "fields": {"to": "0x<40 hex>"},       # offer: to; handoff: sender, to; record: biz_step, data_hash
      "signature": "0x<hex>",               # the actor's (custodian's for a handoff)
      "to_signature": "0x<hex>",            # handoff only: the receiver's
      "chain_id": 31337,                    # optional: refused unless the relayer's
      "registry": "0x<40 hex>"              # optional: refused unless the relayer's
    }

Nothing else is accepted: an unknown key, a field the kind does not take, a value of the wrong
type or size is refused with one sentence naming it. :func:`wire` writes the same form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from supplytrace.core.actions import KINDS, ActionKind, SignedAction
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.hashing import checksum

#: A signature: 65 bytes from a key; an ERC-1271 wallet's may differ, but not beyond this.
MAX_SIGNATURE_BYTES = 1024
#: Which ``fields`` each kind takes (all of them required).
FIELDS: dict[str, tuple[str, ...]] = {
    "offer": ("to",),
    "accept": (),
    "reject": (),
    "cancel": (),
    "record": ("biz_step", "data_hash"),
    "sell": (),
    "handoff": ("sender", "to"),
}
_KEYS = {"kind", "item", "nonce", "deadline", "fields", "signature", "to_signature", "chain_id", "registry"}
_REQUIRED = ("kind", "item", "nonce", "deadline", "signature")
_WORD = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")
_DECIMAL = re.compile(r"[0-9]{1,78}")


class RequestError(SupplytraceError):
    """A relay request is malformed; the message names what and how to fix it."""


@dataclass(frozen=True)
class RelayRequest:
    """A request read: the action (for this relayer's chain and registry) and its signatures."""

    action: SignedAction
    signature: bytes
    to_signature: bytes | None = None


def parse_request(body: Any, *, chain_id: int, registry: str) -> RelayRequest:
    """``body`` (decoded JSON) as a request for the registry at ``registry`` on ``chain_id``."""
    if not isinstance(body, dict):
        raise RequestError("the request must be a JSON object (kind, item, nonce, deadline, signature, ...).")
    unknown = sorted(str(k)[:40] for k in body if k not in _KEYS)
    if unknown:
        raise RequestError(f"the request has unknown keys {unknown}; send only {sorted(_KEYS)}.")
    missing = [k for k in _REQUIRED if k not in body]
    if missing:
        raise RequestError(f"the request lacks {', '.join(missing)}; send every one of {list(_REQUIRED)}.")
    kind = body["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise RequestError(f"kind must be one of {', '.join(KINDS)}.")
    _check_target(body, chain_id, registry)
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise RequestError(
            "fields must be a JSON object (to, sender, biz_step, data_hash as the kind needs)."
        )
    wanted = FIELDS[kind]
    extra = sorted(str(k)[:40] for k in fields if k not in wanted)
    if extra:
        raise RequestError(f"{_a(kind)} takes no fields {extra}; it takes {list(wanted) or 'none'}.")
    absent = [k for k in wanted if k not in fields]
    if absent:
        raise RequestError(f"{_a(kind)} needs the fields {absent}.")
    to_signature = body.get("to_signature")
    if kind == "handoff" and to_signature is None:
        raise RequestError("a handoff needs the receiver's signature too (to_signature).")
    if kind != "handoff" and to_signature is not None:
        raise RequestError(f"{_a(kind)} takes one signature; send no to_signature.")
    action = SignedAction(
        kind=cast(ActionKind, kind),  # checked against KINDS above
        chain_id=chain_id,
        registry=checksum(registry),
        item=_word(body["item"], "item"),
        nonce=_uint(body["nonce"], "nonce"),
        deadline=_uint(body["deadline"], "deadline"),
        to=_address(fields["to"], "fields.to") if "to" in fields else None,
        sender=_address(fields["sender"], "fields.sender") if "sender" in fields else None,
        biz_step=_word(fields["biz_step"], "fields.biz_step") if "biz_step" in fields else None,
        data_hash=_word(fields["data_hash"], "fields.data_hash") if "data_hash" in fields else None,
    )
    return RelayRequest(
        action,
        _signature(body["signature"], "signature"),
        _signature(to_signature, "to_signature") if to_signature is not None else None,
    )


def wire(action: SignedAction, signature: bytes, to_signature: bytes | None = None) -> dict[str, Any]:
    """The JSON form of a request (what :func:`parse_request` reads)."""
    fields: dict[str, str] = {}
    if action.to is not None:
        fields["to"] = checksum(action.to)
    if action.sender is not None:
        fields["sender"] = checksum(action.sender)
    if action.biz_step is not None:
        fields["biz_step"] = "0x" + bytes(action.biz_step).hex()
    if action.data_hash is not None:
        fields["data_hash"] = "0x" + bytes(action.data_hash).hex()
    body: dict[str, Any] = {
        "kind": action.kind,
        "item": "0x" + bytes(action.item).hex(),
        "nonce": action.nonce,
        "deadline": action.deadline,
        "fields": fields,
        "signature": "0x" + signature.hex(),
        "chain_id": action.chain_id,
        "registry": checksum(action.registry),
    }
    if to_signature is not None:
        body["to_signature"] = "0x" + to_signature.hex()
    return body


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _check_target(body: dict[str, Any], chain_id: int, registry: str) -> None:
    if "chain_id" in body and _uint(body["chain_id"], "chain_id") != chain_id:
        raise RequestError(f"this relayer serves chain {chain_id}, not the chain the action was signed for.")
    if "registry" in body and _address(body["registry"], "registry").lower() != registry.lower():
        raise RequestError(f"this relayer serves the registry at {checksum(registry)}; check --network.")


def _word(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise RequestError(f"{name} must be 0x and 64 hex digits (32 bytes).")
    return bytes.fromhex(value[2:])


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise RequestError(f"{name} must be an address: 0x and 40 hex digits.")
    if int(value, 16) == 0:
        raise RequestError(f"{name} cannot be the zero address.")
    return checksum(value)


def _uint(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise RequestError(f"{name} must be a whole number, not {str(value).lower()}.")
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < 2**256:
        raise RequestError(
            f"{name} must be a whole number from 0 to 2**256 - 1 (JSON number or decimal string)."
        )
    return value


def _signature(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or len(value) > 2 + 2 * MAX_SIGNATURE_BYTES or not _HEX.fullmatch(value):
        raise RequestError(
            f"{name} must be 0x and an even number of hex digits, at most {MAX_SIGNATURE_BYTES} bytes "
            "(65 for a key's signature)."
        )
    return bytes.fromhex(value[2:])
