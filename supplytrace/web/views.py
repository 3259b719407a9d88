"""What the page shows, as data: one model per page, built from the live chain record and the
history source, rendered as HTML by the templates and served as JSON by the API.

Everything a consumer reads is decided here, in plain words; the templates only lay it out.
The status always comes from the live record (``getItem`` / ``getLot``); the history source
only adds the timeline, names and reasons, and is checked against the live record.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils import keccak
from pydantic import BaseModel, Field

from supplytrace.core.explorers import ExplorerLinks
from supplytrace.ids import IdentityError, ItemKey, decode_code, encode_code
from supplytrace.web.lotdata import LotMetadata, facts
from supplytrace.web.rpc import LiveItem, LiveLot
from supplytrace.web.sources import HistoryEvent, LotHistory, Participant

Status = Literal["genuine", "sold", "recalled", "unknown"]
HISTORY_UNAVAILABLE = (
    "The history cannot be read right now (the index is unavailable), so it is not shown. The status "
    "at the top is read live from the chain and is up to date."
)


# ----------------------------------------------------------------------------------------------
# Models (the JSON API's schema; the templates read the same objects)
# ----------------------------------------------------------------------------------------------


class Party(BaseModel):
    """A participant: its address, and the name to show for it."""

    address: str
    label: str = Field(
        description="What to call it: the verified name, its self-description, or the address."
    )
    verified: bool = Field(description="True when the label is a name the registry's admin published.")
    verified_name: str | None = None
    description: str | None = Field(
        default=None, description="What the address says about itself (unverified)."
    )
    url: str | None = Field(default=None, description="The address on the network's block explorer.")


class Banner(BaseModel):
    status: Status
    title: str
    message: str
    advice: str | None = None


class Fact(BaseModel):
    label: str
    lines: list[str]


class LotDetails(BaseModel):
    """The lot's metadata as the brand published it, checked against the hash on chain."""

    metadata_hash: str = Field(
        description="keccak256 of the canonical (RFC 8785) metadata JSON, as on chain."
    )
    state: Literal["verified", "mismatch", "missing", "invalid"]
    note: str
    facts: list[Fact]
    document: dict[str, Any] | None = None


class TimelineRow(BaseModel):
    event: str = Field(description="The registry event (IProvenanceRegistry.sol).")
    block_number: int
    timestamp: int
    when: str
    who: Party | None = None
    verb: str
    counterpart: Party | None = None
    detail: str | None = None
    summary: str = Field(description="The whole line in plain words.")
    tx_hash: str
    tx_url: str | None = None
    item_id: str | None = None
    item_url: str | None = None


class Derivation(BaseModel):
    """How the item id follows from the code on the label, to check by hand."""

    gtin: str
    serial: str
    gtin_word: str
    serial_word: str
    item_id: str
    matches: bool = Field(description="Whether the derived id is the id this page shows.")
    cast_command: str
    call_command: str


class Contract(BaseModel):
    address: str
    url: str | None
    chain_id: int
    network: str


class IndexState(BaseModel):
    source: Literal["chain", "index"] = Field(
        description="'chain': history read from the chain's logs; 'index': from the event index."
    )
    head_block: int = Field(description="The chain's latest block when the record was read.")
    indexed_block: int | None = None
    lag_blocks: int = 0
    notes: list[str] = Field(default_factory=list)


class ItemView(BaseModel):
    item_id: str
    status: Status
    banner: Banner
    registered: bool
    gtin: str | None = None
    serial: str | None = None
    lot_code: str | None = None
    lot_id: int | None = None
    lot_url: str | None = None
    digital_link: str | None = None
    brand: Party | None = None
    custodian: Party | None = None
    pending_receiver: Party | None = None
    gtin_owner: Party | None = Field(
        default=None, description="For an unknown item: who owns its GTIN, if anyone."
    )
    custody_changes: int = 0
    updated_at: int | None = None
    sold: bool = False
    sold_at: int | None = None
    recalled: bool = False
    recalled_at: int | None = None
    recall_reason: str | None = None
    lot: LotDetails | None = None
    timeline: list[TimelineRow] = Field(default_factory=list)
    derivation: Derivation | None = None
    registry: Contract
    index: IndexState
    warnings: list[str] = Field(default_factory=list)


class LotItemRow(BaseModel):
    item_id: str
    serial: str
    status: Status
    url: str


class LotView(BaseModel):
    lot_id: int
    gtin: str
    lot_code: str
    brand: Party | None
    recalled: bool
    recalled_at: int | None = None
    recall_reason: str | None = None
    closed: bool
    details: LotDetails
    events: list[TimelineRow]
    item_count: int | None = Field(
        default=None, description="Items registered into the lot (None: not indexed yet)."
    )
    items: list[LotItemRow]
    registry: Contract
    index: IndexState
    warnings: list[str] = Field(default_factory=list)


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


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------


def fmt_time(timestamp: int) -> str:
    """``14 July 2026, 09:12 UTC`` (block times are UTC; the page has no way to know the reader's zone)."""
    t = time.gmtime(timestamp)
    return f"{t.tm_mday} {time.strftime('%B %Y, %H:%M', t)} UTC"


def fmt_date(timestamp: int) -> str:
    t = time.gmtime(timestamp)
    return f"{t.tm_mday} {time.strftime('%B %Y', t)}"


def short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def hex32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


@dataclass(frozen=True)
class Context:
    """What every page needs to know about where it runs."""

    links: ExplorerLinks
    registry: Contract
    item_url: Callable[[str], str]
    lot_url: Callable[[int], str]

    def party(self, address: str | None, names: Mapping[str, Participant]) -> Party | None:
        if address is None:
            return None
        known = names.get(address)
        verified_name = known.verified_name if known else None
        description = known.description if known else None
        label = verified_name or description or short_address(address)
        return Party(
            address=address,
            label=label,
            verified=verified_name is not None,
            verified_name=verified_name,
            description=description,
            url=self.links.address(address),
        )


def party_text(party: Party | None) -> str:
    if party is None:
        return "someone"
    if party.verified:
        return party.label
    if party.description:
        return f"{party.label} (unverified)"
    return party.address


# ----------------------------------------------------------------------------------------------
# Timeline
# ----------------------------------------------------------------------------------------------


def addresses_in(events: Iterable[HistoryEvent]) -> set[str]:
    keys = ("registrar", "from", "to", "by", "seller")
    return {e.args[k] for e in events for k in keys if k in e.args}


def timeline_row(
    ctx: Context,
    event: HistoryEvent,
    names: Mapping[str, Participant],
    *,
    brand: str | None = None,
    lot_codes: Mapping[int, str] | None = None,
    with_item: bool = False,
) -> TimelineRow:
    a = event.args
    who: str | None = None
    counterpart: str | None = None
    detail: str | None = None
    match event.name:
        case "LotRegistered":
            who, verb = a["registrar"], f"opened lot {decode_code(a['lotCode'])}"
            detail = f"GTIN {a['gtin']:014d}"
        case "ItemRegistered":
            who, verb = brand, "registered this item"
            code = (lot_codes or {}).get(a["lotId"])
            detail = f"serial {decode_code(a['serial'])}, lot {code or a['lotId']}"
        case "CustodyOffered":
            who, verb, counterpart = a["from"], "offered it to", a["to"]
        case "OfferCancelled":
            who, verb, counterpart = a["from"], "withdrew the offer to", a["to"]
        case "OfferRejected":
            who, verb, counterpart = a["to"], "declined the offer from", a["from"]
        case "CustodyTransferred":
            who, verb, counterpart = a["from"], "handed it over to", a["to"]
        case "ItemObserved":
            who, verb = a["by"], f"recorded a step: {decode_code(a['bizStep'])}"
            if any(a["dataHash"]):
                detail = f"data fingerprint {hex32(a['dataHash'])}"
        case "ItemSold":
            who, verb = a["seller"], "sold it to a customer"
        case "LotRecalled":
            who, verb = a["by"], "recalled the whole lot"
            detail = f"Reason: {a['reason']}" if a["reason"] else None
        case "LotClosed":
            who, verb = a["by"], "closed the lot to new items"
        case _:
            verb = event.name
    who_party, other = ctx.party(who, names), ctx.party(counterpart, names)
    summary = " ".join(
        part
        for part in (
            party_text(who_party) if who_party else None,
            verb if who_party else verb[:1].upper() + verb[1:],
            party_text(other) if other else None,
        )
        if part
    )
    if detail:
        summary += f" ({detail})"
    item_id = hex32(a["itemId"]) if with_item and "itemId" in a else None
    return TimelineRow(
        event=event.name,
        block_number=event.block_number,
        timestamp=event.timestamp,
        when=fmt_time(event.timestamp) if event.timestamp else f"block {event.block_number}",
        who=who_party,
        verb=verb,
        counterpart=other,
        detail=detail,
        summary=summary,
        tx_hash=event.tx_hash,
        tx_url=ctx.links.tx(event.tx_hash),
        item_id=item_id,
        item_url=ctx.item_url(item_id) if item_id else None,
    )


# ----------------------------------------------------------------------------------------------
# Lot metadata
# ----------------------------------------------------------------------------------------------


def lot_details(metadata_hash: bytes, metadata: LotMetadata, brand: Party | None = None) -> LotDetails:
    notes = {
        "verified": "These details match the fingerprint (hash) the brand recorded on the chain.",
        "mismatch": (
            "Warning: the lot details held here do not match the fingerprint on the chain, so they "
            "are not shown. They may have been altered; rely only on the status above."
        ),
        "missing": (
            "The brand's lot details are not available on this page; the chain holds only their fingerprint."
        ),
        "invalid": "The lot details held here match the fingerprint but are not a JSON object.",
    }
    document = metadata.document if metadata.state == "verified" else None
    return LotDetails(
        metadata_hash=hex32(metadata_hash),
        state=metadata.state,
        note=notes[metadata.state],
        facts=[
            Fact(label=label, lines=lines)
            for label, lines in facts(document, brand_name=brand.verified_name if brand else None)
        ]
        if document
        else [],
        document=document,
    )


# ----------------------------------------------------------------------------------------------
# Items
# ----------------------------------------------------------------------------------------------


def derivation(ctx: Context, gtin14: str, serial: str, shown_id: str, rpc_hint: str) -> Derivation:
    gtin_word = int(gtin14).to_bytes(32, "big")
    serial_word = encode_code(serial)
    derived = hex32(keccak(gtin_word + serial_word))
    cast = (
        f'cast keccak $(cast abi-encode "f(uint256,bytes32)" {int(gtin14)} '
        f"$(cast format-bytes32-string {shlex.quote(serial)}))"
    )
    call = f'cast call {ctx.registry.address} "getItem(bytes32)" {derived} --rpc-url {rpc_hint}'
    return Derivation(
        gtin=gtin14,
        serial=serial,
        gtin_word=hex32(gtin_word),
        serial_word=hex32(serial_word),
        item_id=derived,
        matches=derived == shown_id,
        cast_command=cast,
        call_command=call,
    )


def index_state(head: int, indexed: int | None) -> IndexState:
    if indexed is None:
        return IndexState(source="chain", head_block=head)
    lag = max(0, head - indexed)
    notes = []
    if lag:
        blocks = "block" if lag == 1 else "blocks"
        notes.append(
            f"The history index is {lag} {blocks} behind the chain (indexed to block {indexed}, the chain is "
            f"at {head}): the steps after block {indexed} are read from the chain's logs instead. The status "
            "above is read live."
        )
    return IndexState(source="index", head_block=head, indexed_block=indexed, lag_blocks=lag, notes=notes)


def consistency(live: LiveItem, history: Sequence[HistoryEvent]) -> list[str]:
    """Where the history disagrees with the live record: a lagging index, or a wrong one."""
    behind = (
        "The history below is behind the chain: it does not show every step yet. The status at the "
        "top is read live from the chain and is up to date."
    )
    wrong = (
        "The history below disagrees with the chain's current record (the index may be damaged or "
        "from another network). The status at the top is read live from the chain; trust it."
    )
    own = [e for e in history if "itemId" in e.args]
    if not live.registered:
        return [wrong] if own else []
    if not any(e.name == "ItemRegistered" for e in own):
        return [behind]
    transfers = [e for e in own if e.name == "CustodyTransferred"]
    sold = any(e.name == "ItemSold" for e in own)
    recalled = any(e.name == "LotRecalled" for e in history)
    if len(transfers) > live.custody_nonce or (sold and not live.sold) or (recalled and not live.recalled):
        return [wrong]
    if len(transfers) < live.custody_nonce or (live.sold and not sold) or (live.recalled and not recalled):
        return [behind]
    last_holder = transfers[-1].args["to"] if transfers else live.brand
    if last_holder != live.custodian:
        return [wrong]
    return []


def status_of(live: LiveItem) -> Status:
    if not live.registered:
        return "unknown"
    if live.recalled:
        return "recalled"
    if live.sold:
        return "sold"
    return "genuine"


def banner(
    status: Status,
    *,
    brand: Party | None,
    custodian: Party | None,
    live: LiveItem,
    recall_reason: str | None,
    network: str,
    gtin: str | None,
    gtin_owner: Party | None,
) -> Banner:
    brand_text = party_text(brand)
    match status:
        case "genuine":
            held = f" {party_text(custodian)} holds it now." if custodian else ""
            return Banner(
                status=status,
                title="Genuine and in the supply chain",
                message=f"Registered by {brand_text}. Not sold to anyone yet.{held}",
            )
        case "sold":
            return Banner(
                status=status,
                title="Already sold",
                message=f"Sold on {fmt_date(live.updated_at)} by {party_text(custodian)}.",
                advice=(
                    "If you just bought this new, the code may be a copy: ask the shop, "
                    f"and tell {brand_text}."
                ),
            )
        case "recalled":
            reason = f" Reason: {recall_reason}" if recall_reason else ""
            sold = f" It was sold on {fmt_date(live.updated_at)}." if live.sold else ""
            return Banner(
                status=status,
                title="Recalled: do not use",
                message=(
                    f"{brand_text} recalled lot {live.lot_code} on {fmt_date(live.recalled_at)}."
                    f"{reason}{sold}"
                ),
                advice=(
                    "Do not eat or use it. Take it back to the shop where you bought it, "
                    f"or contact {brand_text}."
                ),
            )
    owner = ""
    if gtin_owner is not None and gtin is not None:
        owner = (
            f" The product number (GTIN {gtin}) belongs to {party_text(gtin_owner)}, "
            "which never registered this code."
        )
    return Banner(
        status="unknown",
        title="Unknown code: likely counterfeit",
        message=f"Not registered by any brand on the {network}: likely counterfeit.{owner}",
        advice="Do not trust where this product claims to come from. Tell the shop where you found it.",
    )


def item_view(
    ctx: Context,
    *,
    item_id: bytes,
    live: LiveItem,
    head: int,
    history: Sequence[HistoryEvent],
    names: Mapping[str, Participant],
    indexed_block: int | None,
    metadata: LotMetadata | None,
    key: ItemKey | None,
    resolver: str,
    rpc_hint: str,
    gtin_owner: str | None = None,
    history_available: bool = True,
) -> ItemView:
    shown_id = hex32(item_id)
    status = status_of(live)
    brand = ctx.party(live.brand, names)
    custodian = ctx.party(live.custodian, names)
    recall_reason = next((e.args["reason"] for e in reversed(history) if e.name == "LotRecalled"), None)
    gtin14 = key.gtin if key else (f"{live.gtin:014d}" if live.registered else None)
    serial = (
        key.serial
        if key
        else next((decode_code(e.args["serial"]) for e in history if e.name == "ItemRegistered"), None)
    )
    warnings = consistency(live, history) if history_available else [HISTORY_UNAVAILABLE]
    if key is not None and key.lot is not None and live.registered and key.lot != live.lot_code:
        warnings.insert(
            0,
            f"The code you scanned names lot {key.lot}, but this item belongs to lot {live.lot_code}. "
            "A label that does not match its item may be a copy.",
        )
    index = index_state(head, indexed_block)
    lot_codes = {live.lot_id: live.lot_code} if live.registered else {}
    rows = [timeline_row(ctx, e, names, brand=live.brand, lot_codes=lot_codes) for e in history]
    lot = lot_details(live.lot_metadata_hash, metadata, brand) if live.registered and metadata else None
    try:  # the chain checks lengths, not GS1's character set: a code it holds may not print as a URI
        lot_key = ItemKey.create(gtin14, serial, live.lot_code or None) if gtin14 and serial else None
        steps = derivation(ctx, gtin14, serial, shown_id, rpc_hint) if gtin14 and serial else None
    except IdentityError:
        lot_key, steps = None, None
    if steps is not None and not steps.matches:
        warnings.append(
            f"The history names serial {serial}, which does not derive this item id: the history is wrong "
            "for this item. The status at the top is read live from the chain."
        )
    owner = ctx.party(gtin_owner, names)
    return ItemView(
        item_id=shown_id,
        status=status,
        banner=banner(
            status,
            brand=brand,
            custodian=custodian,
            live=live,
            recall_reason=recall_reason,
            network=ctx.registry.network,
            gtin=gtin14,
            gtin_owner=owner,
        ),
        registered=live.registered,
        gtin=gtin14,
        serial=serial,
        lot_code=live.lot_code or None,
        lot_id=live.lot_id or None,
        lot_url=ctx.lot_url(live.lot_id) if live.registered else None,
        digital_link=lot_key.digital_link(resolver) if lot_key else None,
        brand=brand,
        custodian=custodian,
        pending_receiver=ctx.party(live.pending_receiver, names),
        gtin_owner=owner if not live.registered else None,
        custody_changes=live.custody_nonce,
        updated_at=live.updated_at or None,
        sold=live.sold,
        sold_at=live.updated_at if live.sold else None,
        recalled=live.recalled,
        recalled_at=live.recalled_at or None,
        recall_reason=recall_reason,
        lot=lot,
        timeline=rows,
        derivation=steps,
        registry=ctx.registry,
        index=index,
        warnings=warnings,
    )


# ----------------------------------------------------------------------------------------------
# Lots, transactions, addresses
# ----------------------------------------------------------------------------------------------


def lot_view(
    ctx: Context,
    *,
    live: LiveLot,
    head: int,
    history: LotHistory | None,
    statuses: Sequence[tuple[int, int]],
    names: Mapping[str, Participant],
    indexed_block: int | None,
    metadata: LotMetadata,
    history_available: bool = True,
) -> LotView:
    events = history.events if history else []
    recall_reason = next((e.args["reason"] for e in reversed(events) if e.name == "LotRecalled"), None)
    warnings = []
    if not history_available:
        warnings.append(HISTORY_UNAVAILABLE)
    elif history is None:
        warnings.append(
            "This lot's history is not indexed yet; the record above is read live from the chain."
        )
    elif live.recalled_at and recall_reason is None:
        warnings.append("The recall is not in the history index yet; its reason will show once it is.")
    items = []
    for item, (code, _lot) in zip(history.items if history else [], statuses, strict=False):
        item_hex = hex32(item.item_id)
        state: Status = (
            "unknown" if code == 0 else "recalled" if live.recalled_at else "sold" if code == 2 else "genuine"
        )
        items.append(
            LotItemRow(item_id=item_hex, serial=item.serial, status=state, url=ctx.item_url(item_hex))
        )
    brand = ctx.party(live.registrar, names)
    return LotView(
        lot_id=live.lot_id,
        gtin=f"{live.gtin:014d}",
        lot_code=live.lot_code,
        brand=brand,
        recalled=live.recalled_at != 0,
        recalled_at=live.recalled_at or None,
        recall_reason=recall_reason,
        closed=live.closed,
        details=lot_details(live.metadata_hash, metadata, brand),
        events=[timeline_row(ctx, e, names) for e in events],
        item_count=history.item_count if history else None,
        items=items,
        registry=ctx.registry,
        index=index_state(head, indexed_block),
        warnings=warnings,
    )


def tx_view(
    ctx: Context,
    *,
    tx_hash: str,
    tx: Mapping[str, Any],
    receipt: Mapping[str, Any] | None,
    timestamp: int | None,
    events: Sequence[HistoryEvent],
    names: Mapping[str, Participant],
    head: int,
) -> TxView:
    sender = str(tx["from"])
    to = str(tx["to"]) if tx.get("to") else None
    from eth_utils import to_checksum_address

    sender = to_checksum_address(sender)
    to = to_checksum_address(to) if to else None
    block = int(receipt["blockNumber"], 16) if receipt else None
    return TxView(
        tx_hash=tx_hash,
        pending=receipt is None,
        success=(int(receipt["status"], 16) == 1) if receipt else None,
        block_number=block,
        timestamp=timestamp,
        when=fmt_time(timestamp) if timestamp else None,
        sender=ctx.party(sender, names),
        to=ctx.party(to, names),
        to_registry=to is not None and to.lower() == ctx.registry.address.lower(),
        gas_used=int(receipt["gasUsed"], 16) if receipt else None,
        events=[timeline_row(ctx, e, names, brand=sender, with_item=True) for e in events],
        registry=ctx.registry,
        head_block=head,
    )
