"""The item page: the item's status in one banner, read from its live record; the product, its
lot's details and the journey, from the history; and how to check it all by hand.

The status comes from the live record alone (:func:`core.story.status_of`). The history adds
the timeline (:func:`core.story.describe`), the serial and the recall reason
(:func:`core.reducer.replay`), and is checked against the live record
(:func:`core.reducer.verdict`): the page says when it lags or disagrees.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from supplytrace.chain.history import Participant
from supplytrace.core.events import Logged
from supplytrace.core.hashing import keccak
from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.core.records import ContainerRecord, ItemRecord
from supplytrace.core.story import Status, replay, ssccs, status_of, verdict
from supplytrace.core.text import ChainText
from supplytrace.web.i18n import N_, fmt_date
from supplytrace.web.i18n import gettext as _
from supplytrace.web.lotdata import LotMetadata
from supplytrace.web.views.claim import Checks, ClaimForm
from supplytrace.web.views.common import (
    HISTORY_UNAVAILABLE,
    REASON_LIMIT,
    Banner,
    Context,
    Contract,
    IndexState,
    LotDetails,
    PageStatus,
    Party,
    TimelineRow,
    hex32,
    index_state,
    lot_details,
    party_text,
    short_address,
)
from supplytrace.web.views.container import ContainerLink, links, location
from supplytrace.web.views.lineage import Lineage

#: What the page says when the history disagrees with the live record (``core.reducer.verdict``).
VERDICTS = {
    "behind": N_(
        "The history below is behind the chain: it does not show every step yet. The status at the "
        "top is read live from the chain and is up to date."
    ),
    "wrong": N_(
        "The history below disagrees with the chain's current record (the index may be damaged or "
        "from another network). The status at the top is read live from the chain; trust it."
    ),
}

#: What the page says of an item of a measured lot (maybe a blend) when the history is unavailable.
LINEAGE_UNCHECKED = N_(
    "If this item's lot was blended from other lots, whether one of them is recalled cannot be checked "
    "until the history is available again."
)
#: What the page says when the lot's brand no longer holds REGISTRAR_ROLE (the admin revoked it).
REVOKED = N_(
    "The brand's registration rights were withdrawn; items registered before, like this one, remain "
    "on record. It can register no new items."
)


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


class ItemView(BaseModel):
    item_id: str
    status: PageStatus = Field(
        description="What the page's banner says: the item's status, or 'wrong-lot' when the scanned "
        "code names another lot than the item's own."
    )
    item_status: Status = Field(description="The item's status, read live from the chain.")
    banner: Banner
    registered: bool
    gtin: str | None = None
    serial: str | None = None
    lot_code: str | None = None
    lot_id: int | None = None
    lot_url: str | None = None
    digital_link: str | None = None
    brand: Party | None = None
    brand_registrar: bool | None = Field(
        default=None,
        description="Whether the brand still holds the registry's REGISTRAR_ROLE (False: its "
        "registration rights were withdrawn); None without a brand.",
    )
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
    lineage: Lineage | None = Field(
        default=None,
        description="For an item of a blended lot: its origin label, what the lot was made from, and "
        "the recalled lots it was made from (which make it read recalled).",
    )
    packed_in: list[ContainerLink] = Field(
        default_factory=list, description="The case and pallet it is packed in, innermost first (live)."
    )
    location: str | None = Field(
        default=None, description="Where a packed item is, in words: 'It is packed in case (00) …'."
    )
    lot: LotDetails | None = None
    timeline: list[TimelineRow] = Field(default_factory=list)
    derivation: Derivation | None = None
    registry: Contract
    index: IndexState
    warnings: list[str] = Field(default_factory=list)
    # The page's own, not the item's record: left out of the JSON.
    claim: ClaimForm | None = Field(default=None, exclude=True)
    checks: Checks | None = Field(default=None, exclude=True)


def derivation(
    ctx: Context, gtin14: str, serial: ChainText, shown_id: str, rpc_hint: str
) -> Derivation | None:
    """The id from the GTIN and the serial's bytes, as the contract derives it; None for a serial
    that is not a ``bytes32`` code."""
    if len(serial.raw) > 32:
        return None
    gtin_word = int(gtin14).to_bytes(32, "big")
    serial_word = serial.raw.ljust(32, b"\0")
    derived = hex32(keccak(gtin_word + serial_word))
    exact = serial.exact
    word = f"$(cast format-bytes32-string {shlex.quote(exact)})" if exact is not None else hex32(serial_word)
    return Derivation(
        gtin=gtin14,
        serial=str(serial),
        gtin_word=hex32(gtin_word),
        serial_word=hex32(serial_word),
        item_id=derived,
        matches=derived == shown_id,
        cast_command=f'cast keccak $(cast abi-encode "f(uint256,bytes32)" {int(gtin14)} {word})',
        call_command=f'cast call {ctx.registry.address} "getItem(bytes32)" {derived} --rpc-url {rpc_hint}',
    )


def _item_key(gtin14: str, serial: ChainText, lot: ChainText | None) -> ItemKey | None:
    """The GS1 key to link to, when the codes are GS1 codes (the chain checks only their length);
    a lot code that is not one is left out of the link."""
    if serial.exact is None:
        return None
    for lot_code in dict.fromkeys((lot.exact if lot else None, None)):
        try:
            return ItemKey.create(gtin14, serial.exact, lot_code)
        except IdentityError:
            continue
    return None


def _mismatch(scanned_lot: str | None, lot_code: str | None) -> str:
    return _(
        "The code you scanned names lot %(scanned)s, but this item belongs to lot %(lot)s.",
        scanned=scanned_lot or "",
        lot=lot_code or "",
    )


def _where(seller: Party | None) -> str:
    """Where a buyer bought the item: at the seller's name (marked unverified when it is only
    its own description), or from the seller at its (short) address."""
    if seller is None:
        return _("from its seller")
    if seller.verified or seller.description:
        return _("at %(seller)s", seller=party_text(seller))
    return _("from the seller %(address)s", address=short_address(seller.address))


def banner(
    status: PageStatus,
    *,
    brand: Party | None,
    custodian: Party | None,
    record: ItemRecord,
    recall_reason: str | None,
    network: str,
    gtin: str | None,
    gtin_owner: Party | None,
    scanned_lot: str | None = None,
    ingredient_recall: str | None = None,
) -> Banner:
    brand_text = party_text(brand)
    match status:
        case "wrong-lot":
            return Banner(
                status=status,
                title=_("This code does not match the registered lot"),
                message=_(
                    "%(mismatch)s It was registered by %(brand)s.",
                    mismatch=_mismatch(scanned_lot, str(record.lot_code)),
                    brand=brand_text,
                ),
                advice=_(
                    "Check the lot number printed on the package: if it is not %(lot)s, the label may be "
                    "a copy. Ask the shop, and tell %(brand)s.",
                    lot=str(record.lot_code),
                    brand=brand_text,
                ),
            )
        case "genuine":
            message = _("Registered by %(brand)s. Not sold to anyone yet.", brand=brand_text)
            if custodian:
                message = _(
                    "%(message)s %(holder)s holds it now.", message=message, holder=party_text(custodian)
                )
            return Banner(status=status, title=_("Genuine and in the supply chain"), message=message)
        case "sold":
            # The genuine buyer hears first that this is their item: the seller and the day of
            # the sale are the live record's (a sold item keeps its last custodian, and its last
            # change is the sale), so this never depends on the history.
            return Banner(
                status=status,
                title=_("Already sold"),
                message=_(
                    "If you bought it %(where)s on %(day)s, this is your item, and it is genuine.",
                    where=_where(custodian),
                    day=fmt_date(record.updated_at),
                ),
                advice=_(
                    "If you bought it somewhere else or on another day, the code may be a copy: ask the "
                    "shop, and tell %(brand)s.",
                    brand=brand_text,
                ),
            )
        case "claimed":
            return Banner(
                status=status,
                title=_("Already opened by its buyer"),
                message=_(
                    "This item's inner code was used on %(day)s. If your pack was sealed when you bought "
                    "it, its outer code is a copy.",
                    day=fmt_date(record.updated_at),
                ),
                advice=_("Ask the shop, and tell %(brand)s.", brand=brand_text),
            )
        case "recalled":
            own = _(
                "%(brand)s recalled lot %(lot)s on %(day)s.",
                brand=brand_text,
                lot=str(record.lot_code),
                day=fmt_date(record.recalled_at),
            )
            if recall_reason:
                own = _("%(message)s Reason: %(reason)s", message=own, reason=recall_reason)
            if not record.recalled and ingredient_recall:  # a lot it was blended from is recalled
                own = _("%(sentence)s.", sentence=ingredient_recall)
            if record.sold:
                own = _("%(message)s It was sold on %(day)s.", message=own, day=fmt_date(record.updated_at))
            return Banner(
                status=status,
                title=_("Recalled: do not use"),
                message=own,
                advice=_(
                    "Do not eat or use it. Take it back to the shop where you bought it, or contact "
                    "%(brand)s.",
                    brand=brand_text,
                ),
            )
    message = _("Not registered by any brand on the %(network)s: likely counterfeit.", network=_(network))
    if gtin_owner is not None and gtin is not None:
        message = _(
            "%(message)s The product number (GTIN %(gtin)s) belongs to %(owner)s, which never "
            "registered this code.",
            message=message,
            gtin=gtin,
            owner=party_text(gtin_owner),
        )
    return Banner(
        status="unknown",
        title=_("Unknown code: likely counterfeit"),
        message=message,
        advice=_("Do not trust where this product claims to come from. Tell the shop where you found it."),
    )


def item_view(
    ctx: Context,
    *,
    record: ItemRecord,
    head: int,
    history: Sequence[Logged],
    names: Mapping[str, Participant],
    indexed_block: int | None,
    metadata: LotMetadata | None,
    key: ItemKey | None,
    resolver: str,
    rpc_hint: str,
    gtin_owner: str | None = None,
    history_available: bool = True,
    brand_registrar: bool | None = None,
    payers: Mapping[str, str] | None = None,
    lineage: Lineage | None = None,
    containers: Sequence[ContainerRecord] = (),
    lineage_unchecked: bool = False,
) -> ItemView:
    shown_id = record.item_id_hex
    status = status_of(record, lineage.recalls if lineage else ())
    brand = ctx.party(record.brand, names)
    custodian = ctx.party(record.custodian, names)
    seen = replay(record.item_id, history)
    recall_reason = seen.recall_reason.shown(REASON_LIMIT) if seen.recall_reason is not None else None
    gtin14 = key.gtin if key else record.gtin14
    serial = ChainText.of(key.serial) if key else seen.serial
    if history_available:
        found = verdict(record, history)
        warnings = [_(VERDICTS[found])] if found else []
    else:
        warnings = [_(HISTORY_UNAVAILABLE)]
    lot_code = str(record.lot_code) if record.registered else None
    scanned_lot = key.lot if key is not None and record.registered else None
    wrong_lot = scanned_lot is not None and scanned_lot.encode() != record.lot_code.raw
    shown_status: PageStatus = "wrong-lot" if wrong_lot and status != "recalled" else status
    if wrong_lot and shown_status != "wrong-lot":  # a recall comes first; the mismatch follows it
        warnings.insert(
            0,
            _(
                "%(mismatch)s A label that does not match its item may be a copy.",
                mismatch=_mismatch(scanned_lot, lot_code),
            ),
        )
    if record.registered and brand_registrar is False:
        warnings.insert(0, _(REVOKED))
    if lineage is not None and lineage.note:
        warnings.append(lineage.note)
    if lineage_unchecked:
        warnings.append(_(LINEAGE_UNCHECKED))
    lot_codes = (lineage.lot_codes if lineage else {}) | (
        {record.lot_id: str(record.lot_code)} if record.registered else {}
    )
    paid = payers or {}
    named = ssccs(history) | {bytes(c.container_id): c.sscc for c in containers}
    rows = [
        ctx.timeline_row(
            e, names, brand=record.brand, lot_codes=lot_codes, payer=paid.get(e.tx_hash), ssccs=named
        )
        for e in history
    ]
    packed_in = links(containers)
    lot = lot_details(record.lot_metadata_hash, metadata, brand) if record.registered and metadata else None
    link_key, steps = None, None
    if gtin14 and serial is not None:
        link_key = _item_key(gtin14, serial, record.lot_code if record.registered else None)
        steps = derivation(ctx, gtin14, serial, shown_id, rpc_hint)
    if steps is not None and not steps.matches:
        warnings.append(
            _(
                "The history names serial %(serial)s, which does not derive this item id: the history "
                "is wrong for this item. The status at the top is read live from the chain.",
                serial=str(serial),
            )
        )
    owner = ctx.party(gtin_owner, names)
    return ItemView(
        item_id=shown_id,
        status=shown_status,
        item_status=status,
        banner=banner(
            shown_status,
            brand=brand,
            custodian=custodian,
            record=record,
            recall_reason=recall_reason,
            network=ctx.registry.network,
            gtin=gtin14,
            gtin_owner=owner,
            scanned_lot=scanned_lot,
            ingredient_recall=lineage.recalls[0].sentence if lineage and lineage.recalls else None,
        ),
        registered=record.registered,
        gtin=gtin14,
        serial=str(serial) if serial is not None else None,
        lot_code=lot_code,
        lot_id=record.lot_id or None,
        lot_url=ctx.lot_url(record.lot_id) if record.registered else None,
        digital_link=link_key.digital_link(resolver) if link_key else None,
        brand=brand,
        brand_registrar=brand_registrar if record.registered else None,
        custodian=custodian,
        pending_receiver=ctx.party(record.pending_receiver, names),
        gtin_owner=owner if not record.registered else None,
        custody_changes=record.custody_nonce,
        updated_at=record.updated_at or None,
        sold=record.sold,
        sold_at=record.updated_at if record.sold else None,
        recalled=status == "recalled",
        recalled_at=record.recalled_at or None,
        recall_reason=recall_reason,
        lineage=lineage,
        packed_in=packed_in,
        location=location(packed_in),
        lot=lot,
        timeline=rows,
        derivation=steps,
        registry=ctx.registry,
        index=index_state(head, indexed_block, ctx.confirmations),
        warnings=warnings,
    )
