"""The devnet's address page: the registry contract (and whether its code is the recorded
deployment's), or a participant's verified name, self-description and role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel

from supplytrace.chain.history import Participant
from supplytrace.core.deployments import Deployment
from supplytrace.core.hashing import keccak
from supplytrace.web.views.common import Context, Contract, Party


class AddressView(BaseModel):
    address: str
    party: Party
    is_registry: bool
    is_contract: bool
    is_registrar: bool
    deployment: dict[str, Any] | None = None
    code_matches_record: bool | None = None
    registry: Contract
    head_block: int


def address_view(
    ctx: Context,
    *,
    address: str,
    code: bytes,
    is_registrar: bool,
    names: Mapping[str, Participant],
    deployment: Deployment | None,
    head: int,
) -> AddressView:
    """``address`` (checksummed) with the code the chain holds there and its role."""
    is_registry = address == ctx.registry.address
    record = deployment if is_registry else None
    matches = None
    if record is not None:
        matches = "0x" + keccak(code).hex() == record.runtime_bytecode_keccak
    return AddressView(
        address=address,
        party=ctx.party(address, names) or Party(address=address, label=address, verified=False),
        is_registry=is_registry,
        is_contract=bool(code),
        is_registrar=is_registrar,
        deployment=asdict(record) if record is not None else None,
        code_matches_record=matches,
        registry=ctx.registry,
        head_block=head,
    )
