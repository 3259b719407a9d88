"""EIP-712 signed custody actions, sent by anyone (a relayer) on the actor's behalf.

The actor signs, off line, one action on one item; whoever sends it pays the fee. The actor is
not part of the message: the registry checks the signature against the item's custodian
(offer, cancel, record, sell, handoff) or the receiver of its open offer (accept, reject). The
signed ``nonce`` is the item's ``custodyNonce``, which each of these actions advances, so a
signature works once; ``deadline`` bounds it in time. Types (domain ``supplytrace`` version
``1``, as :mod:`supplytrace.core.handoff`)::

    Offer(bytes32 item,uint256 nonce,address to,uint256 deadline)
    Accept(bytes32 item,uint256 nonce,uint256 deadline)
    Reject(bytes32 item,uint256 nonce,uint256 deadline)
    Cancel(bytes32 item,uint256 nonce,uint256 deadline)
    Record(bytes32 item,uint256 nonce,bytes32 bizStep,bytes32 dataHash,uint256 deadline)
    Sell(bytes32 item,uint256 nonce,uint256 deadline)
    Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)  (both sign)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from supplytrace.core.handoff import DOMAIN_NAME, DOMAIN_VERSION
from supplytrace.core.hashing import checksum

ActionKind = Literal["offer", "accept", "reject", "cancel", "record", "sell", "handoff"]

#: Each kind: its EIP-712 primary type, the fields between ``nonce`` and ``deadline``, and the
#: registry function that carries it.
KINDS: dict[str, tuple[str, list[dict[str, str]], str]] = {
    "offer": ("Offer", [{"name": "to", "type": "address"}], "offerBySig"),
    "accept": ("Accept", [], "acceptBySig"),
    "reject": ("Reject", [], "rejectBySig"),
    "cancel": ("Cancel", [], "cancelBySig"),
    "record": (
        "Record",
        [{"name": "bizStep", "type": "bytes32"}, {"name": "dataHash", "type": "bytes32"}],
        "recordBySig",
    ),
    "sell": ("Sell", [], "sellBySig"),
    "handoff": (
        "Handoff",
        [{"name": "from", "type": "address"}, {"name": "to", "type": "address"}],
        "handoffBySig",
    ),
}

#: Who signs each kind: the item's custodian, or the receiver of its open offer.
SIGNER: dict[str, Literal["custodian", "receiver"]] = {
    "offer": "custodian",
    "accept": "receiver",
    "reject": "receiver",
    "cancel": "custodian",
    "record": "custodian",
    "sell": "custodian",
    "handoff": "custodian",  # and the receiver, ``to``
}

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


@dataclass(frozen=True)
class SignedAction:
    """One action to sign (and, with ``signature``, to relay). ``to`` for offer and handoff;
    ``sender`` (the custodian) for handoff; ``biz_step`` and ``data_hash`` (32 bytes each) for
    record."""

    kind: ActionKind
    chain_id: int
    registry: str
    item: bytes
    nonce: int
    deadline: int
    to: str | None = None
    sender: str | None = None
    biz_step: bytes | None = None
    data_hash: bytes | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown action {self.kind!r}")
        if self.kind in ("offer", "handoff") and not self.to:
            raise ValueError(f"a signed {self.kind} needs its receiver.")
        if self.kind == "handoff" and not self.sender:
            raise ValueError("a signed handoff needs its sender (the custodian).")
        if self.kind == "record" and (self.biz_step is None or self.data_hash is None):
            raise ValueError("a signed record needs its business step and data hash.")

    @property
    def function(self) -> str:
        return KINDS[self.kind][2]

    def message(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"item": bytes(self.item), "nonce": self.nonce}
        if self.kind == "handoff":
            fields["from"] = checksum(self.sender or "")
        if self.kind in ("offer", "handoff"):
            fields["to"] = checksum(self.to or "")
        if self.kind == "record":
            fields["bizStep"] = bytes(self.biz_step or b"")
            fields["dataHash"] = bytes(self.data_hash or b"")
        fields["deadline"] = self.deadline
        return fields

    def typed_data(self) -> dict[str, Any]:
        """The EIP-712 typed-data document (as for ``eth_signTypedData_v4``)."""
        primary, middle, _ = KINDS[self.kind]
        head = [{"name": "item", "type": "bytes32"}, {"name": "nonce", "type": "uint256"}]
        return {
            "types": {
                "EIP712Domain": _DOMAIN_FIELDS,
                primary: head + middle + [{"name": "deadline", "type": "uint256"}],
            },
            "primaryType": primary,
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.chain_id,
                "verifyingContract": checksum(self.registry),
            },
            "message": self.message(),
        }

    def signable(self) -> Any:
        """The ``SignableMessage`` an ape account (keystore or test account) signs."""
        from eth_account.messages import encode_typed_data

        return encode_typed_data(full_message=self.typed_data())

    def arguments(self, signature: bytes, to_signature: bytes | None = None) -> list[Any]:
        """The registry function's arguments, in order, carrying ``signature`` (for a handoff,
        the custodian's, then the receiver's ``to_signature``)."""
        item = bytes(self.item)
        match self.kind:
            case "offer":
                return [item, checksum(self.to or ""), self.deadline, signature]
            case "record":
                return [
                    item,
                    bytes(self.biz_step or b""),
                    bytes(self.data_hash or b""),
                    self.deadline,
                    signature,
                ]
            case "handoff":
                if to_signature is None:
                    raise ValueError("a relayed handoff needs the receiver's signature too.")
                return [item, checksum(self.to or ""), self.deadline, signature, to_signature]
            case _:
                return [item, self.deadline, signature]
