"""The devnet's transaction page: who sent it, whether it succeeded, and what it recorded in the
registry, one timeline row per event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from supplytrace.chain.history import Participant
from supplytrace.chain.rpc import hex_int
from supplytrace.core.events import Logged
from supplytrace.core.hashing import checksum
from supplytrace.web.i18n import fmt_time
from supplytrace.web.views.common import Context, Contract, Party, TimelineRow


class TxView(BaseModel):
    tx_hash: str
    pending: bool
    success: bool | None = None
    block_number: int | None = None
    timestamp: int | None = None
    when: str | None = None
    sender: Party | None = None
    to: Party | None = None
    to_registry: bool
    gas_used: int | None = None
    events: list[TimelineRow]
    registry: Contract
    head_block: int


def parties(tx: Mapping[str, Any]) -> tuple[str, str | None]:
    """(sender, recipient or None for a deployment) of a transaction, checksummed."""
    return checksum(str(tx["from"])), checksum(str(tx["to"])) if tx.get("to") else None


def tx_view(
    ctx: Context,
    *,
    tx_hash: str,
    tx: Mapping[str, Any],
    receipt: Mapping[str, Any] | None,
    timestamp: int | None,
    events: Sequence[Logged],
    names: Mapping[str, Participant],
    head: int,
) -> TxView:
    sender, to = parties(tx)
    return TxView(
        tx_hash=tx_hash,
        pending=receipt is None,
        success=(hex_int(receipt["status"]) == 1) if receipt else None,
        block_number=hex_int(receipt["blockNumber"]) if receipt else None,
        timestamp=timestamp,
        when=fmt_time(timestamp) if timestamp else None,
        sender=ctx.party(sender, names),
        to=ctx.party(to, names),
        to_registry=to is not None and to.lower() == ctx.registry.address.lower(),
        gas_used=hex_int(receipt["gasUsed"]) if receipt else None,
        events=[ctx.timeline_row(e, names, brand=sender, with_item=True) for e in events],
        registry=ctx.registry,
        head_block=head,
    )
