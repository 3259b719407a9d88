"""Domain operations on a deployed ProvenanceRegistry, shared by the CLI, scripts, demo and bench.

Every function takes ape objects (accounts, the contract instance) and plain values; the CLI only
parses arguments and prints what these return.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import keccak

from supplytrace.core.deployments import Deployment
from supplytrace.core.handoff import HandoffRequest, make_request
from supplytrace.core.metadata import metadata_hash
from supplytrace.ids import ItemKey, decode_code, encode_code, normalize_gtin

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class ItemStatus(IntEnum):
    UNKNOWN = 0
    ACTIVE = 1
    SOLD = 2


@dataclass(frozen=True)
class ItemState:
    """An item's current on-chain record (``getItem``), in Python types."""

    item_id: str
    status: ItemStatus
    custodian: str | None
    pending_receiver: str | None
    brand: str | None
    lot_id: int
    gtin: str | None
    lot_code: str | None
    lot_metadata_hash: str | None
    custody_nonce: int
    updated_at: int
    recalled: bool
    recalled_at: int
    lot_closed: bool

    @property
    def registered(self) -> bool:
        return self.status is not ItemStatus.UNKNOWN


def _address(value: Any) -> str | None:
    text = str(value)
    return None if int(text, 16) == 0 else text


def rpc_chain_id(provider: Any) -> int:
    """The node's own chain id (ape's config may differ from what a devnet reports)."""
    return int(provider.make_request("eth_chainId", []), 16)


def deploy(
    project: Any, provider: Any, sender: Any, *, admin: str | None = None, admin_delay: int = 0
) -> tuple[Any, Deployment]:
    """Deploy a registry with ``admin`` (default: the sender) and describe the deployment."""
    from ape import config

    contract = project.ProvenanceRegistry.deploy(admin or sender.address, admin_delay, sender=sender)
    receipt = provider.get_receipt(contract.txn_hash)
    code = provider.get_code(contract.address)
    network = provider.network
    solidity = config.get_config("solidity")
    compiler = (
        f"solc {solidity.version} (evm {solidity.evm_version}, optimizer runs {solidity.optimization_runs})"
    )
    record = Deployment(
        ecosystem=network.ecosystem.name,
        network=network.name,
        chain_id=rpc_chain_id(provider),
        address=str(contract.address),
        tx_hash=str(receipt.txn_hash),
        block=int(receipt.block_number),
        deployer=str(sender.address),
        admin=str(admin or sender.address),
        compiler=compiler,
        runtime_bytecode_keccak="0x" + keccak(bytes(code)).hex(),
        deployed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    return contract, record


def item_state(registry: Any, item_id: bytes) -> ItemState:
    rec = registry.getItem(item_id)
    status = ItemStatus(int(rec.status))
    known = status is not ItemStatus.UNKNOWN
    return ItemState(
        item_id="0x" + bytes(item_id).hex(),
        status=status,
        custodian=_address(rec.custodian),
        pending_receiver=_address(rec.pendingReceiver),
        brand=_address(rec.brand),
        lot_id=int(rec.lotId),
        gtin=str(int(rec.gtin)).zfill(14) if known else None,
        lot_code=decode_code(rec.lotCode) if known else None,
        lot_metadata_hash="0x" + bytes(rec.lotMetadataHash).hex() if known else None,
        custody_nonce=int(rec.custodyNonce),
        updated_at=int(rec.updatedAt),
        recalled=bool(rec.recalled),
        recalled_at=int(rec.recalledAt),
        lot_closed=bool(rec.lotClosed),
    )


@dataclass(frozen=True)
class LotState:
    """A lot's on-chain record (``getLot``)."""

    lot_id: int
    registrar: str
    gtin: str
    lot_code: str
    metadata_hash: str
    recalled_at: int
    closed: bool


def lot_state(registry: Any, lot_id: int) -> LotState:
    rec = registry.getLot(lot_id)
    return LotState(
        lot_id=lot_id,
        registrar=str(rec.registrar),
        gtin=str(int(rec.gtin)).zfill(14),
        lot_code=decode_code(rec.lotCode),
        metadata_hash="0x" + bytes(rec.metadataHash).hex(),
        recalled_at=int(rec.recalledAt),
        closed=bool(rec.closed),
    )


def select_items(
    registry: Any,
    candidates: Sequence[bytes],
    *,
    holder: str | None = None,
    offered_to: str | None = None,
    offered: bool = False,
) -> list[bytes]:
    """The candidates that apply: held by ``holder`` (and, with ``offered``, with an open offer),
    or offered to ``offered_to``; sold items never apply to a custody change."""
    chosen = []
    for item in candidates:
        state = item_state(registry, item)
        if state.status is not ItemStatus.ACTIVE:
            continue
        if offered_to is not None:
            if state.pending_receiver and state.pending_receiver.lower() == offered_to.lower():
                chosen.append(item)
        elif (
            holder is not None
            and state.custodian
            and state.custodian.lower() == holder.lower()
            and offered == (state.pending_receiver is not None)
        ):
            chosen.append(item)
    return chosen


def revoke_brand(registry: Any, provider: Any, admin: Any, brand: str, from_block: int) -> list[int]:
    """Revoke the registrar role and close the brand's open lots; returns the lots closed."""
    from supplytrace.history import lots_of_registrar

    role = registry.REGISTRAR_ROLE()
    if registry.hasRole(role, brand):
        registry.revokeRole(role, brand, sender=admin)
    closed = []
    for lot_id in lots_of_registrar(provider, str(registry.address), brand, from_block):
        if not registry.getLot(lot_id).closed:
            registry.closeLot(lot_id, sender=admin)
            closed.append(lot_id)
    return closed


_ITEM_STATUSES = keccak(text="itemStatuses(bytes32[])")[:4]


def item_statuses(
    registry: Any, item_ids: Sequence[bytes], *, chunk: int = 1000
) -> list[tuple[ItemStatus, int]]:
    """(status, lot id) of each item from the batch view ``itemStatuses``, ``chunk`` ids per eth_call.

    Encoded and decoded here and sent as raw JSON-RPC: for thousands of ids this is far faster
    than a call through ape's contract layer.
    """
    from eth_abi import decode, encode

    provider = registry.provider
    address = str(registry.address)
    out: list[tuple[ItemStatus, int]] = []
    for start in range(0, len(item_ids), chunk):
        part = [bytes(i) for i in item_ids[start : start + chunk]]
        data = "0x" + (_ITEM_STATUSES + encode(["bytes32[]"], [part])).hex()
        result = provider.make_request("eth_call", [{"to": address, "data": data}, "latest"])
        raw = bytes(result) if isinstance(result, bytes | bytearray) else bytes.fromhex(str(result)[2:])
        statuses, lots = decode(["uint8[]", "uint32[]"], raw)
        out.extend((ItemStatus(s), int(lot)) for s, lot in zip(statuses, lots, strict=True))
    return out


def add_brand(
    registry: Any, admin: Any, brand: str, *, name: str | None = None, gtins: Sequence[str] = ()
) -> None:
    """Grant the registrar role, publish the verified name and assign GTINs (each step skipped if done)."""
    role = registry.REGISTRAR_ROLE()
    if not registry.hasRole(role, brand):
        registry.grantRole(role, brand, sender=admin)
    if name:
        registry.nameBrand(brand, name, sender=admin)
    for gtin in gtins:
        gtin14 = normalize_gtin(gtin)
        if _address(registry.gtinOwner(int(gtin14))) != brand:
            registry.assignGtin(int(gtin14), brand, sender=admin)


def register_lot(registry: Any, brand: Any, gtin: str, lot_code: str, metadata: dict[str, Any]) -> int:
    """Register a lot (its metadata hashed canonically) and return its lot id."""
    gtin14 = normalize_gtin(gtin)
    receipt = registry.registerLot(
        int(gtin14), encode_code(lot_code, "lot code"), metadata_hash(metadata), sender=brand
    )
    (event,) = registry.LotRegistered.from_receipt(receipt)
    return int(event.lotId)


def register_items(
    registry: Any, brand: Any, lot_id: int, serials: Sequence[str], *, chunk: int = 500
) -> list[Any]:
    """Register serials into a lot, ``chunk`` per transaction; returns the receipts."""
    receipts = []
    for start in range(0, len(serials), chunk):
        part = [encode_code(s) for s in serials[start : start + chunk]]
        receipts.append(registry.registerItems(lot_id, part, sender=brand))
    return receipts


def handoff_request(
    registry: Any, provider: Any, items: Sequence[bytes], sender: str, receiver: str, deadline: int
) -> HandoffRequest:
    """What ``receiver`` signs to accept ``items`` from ``sender`` before ``deadline``."""
    nonces = [int(registry.getItem(i).custodyNonce) for i in items]
    return make_request(
        chain_id=rpc_chain_id(provider),
        registry=str(registry.address),
        items=list(items),
        nonces=nonces,
        sender=sender,
        receiver=receiver,
        deadline=deadline,
    )


def sign_acceptance(receiver: Any, request: HandoffRequest) -> bytes:
    """The receiver's 65-byte EIP-712 signature (r, s, v) of ``request``."""
    signature = receiver.sign_message(request.signable())
    if signature is None:
        raise RuntimeError("the account declined to sign the acceptance.")
    return bytes(signature.encode_rsv())


def handoff(registry: Any, sender: Any, request: HandoffRequest, signature: bytes) -> Any:
    """Send the one-transaction handoff carrying the receiver's signature."""
    if request.is_batch:
        return registry.handoffBatch(
            list(request.items), request.receiver, request.deadline, signature, sender=sender
        )
    return registry.handoff(request.items[0], request.receiver, request.deadline, signature, sender=sender)


def keys_for(gtin: str, lot_code: str, serials: Sequence[str]) -> list[ItemKey]:
    return [ItemKey.create(gtin, s, lot_code) for s in serials]
