"""What every page shows the same way: the models a page is made of (a party, a banner, a
timeline row, lot details, where the history comes from), the formatting, and the context a page
is built in.

Every string that comes from the chain reaches a model through :class:`ChainText`'s safe
rendering (control characters made visible, bidirectional controls dropped, long texts cut),
so the templates and the JSON API only ever hold text that is safe to show.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from supplytrace.chain.history import Participant
from supplytrace.core.deployments import EXACT_MATCH, MATCH, SourceCheck
from supplytrace.core.events import Logged
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.core.story import describe
from supplytrace.core.text import ChainText, Msg
from supplytrace.web.i18n import N_, fmt_time, ngettext, say
from supplytrace.web.i18n import gettext as _
from supplytrace.web.lotdata import LotMetadata, facts

#: How many characters of a name or a self-description a page shows (anyone can publish any length).
NAME_LIMIT = 100
#: How many characters of a recall reason a page shows.
REASON_LIMIT = 500
HISTORY_UNAVAILABLE = N_(
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


#: What a page's banner says: an item's status, or that the scanned code names another lot than
#: the item's own (the label does not match the item: never shown as genuine).
PageStatus = Literal["genuine", "sold", "claimed", "recalled", "unknown", "wrong-lot"]


class Banner(BaseModel):
    status: PageStatus
    title: str
    message: str
    advice: str | None = None


class Certificate(BaseModel):
    """A certificate of the lot: a named document, its fingerprint and where to verify it."""

    name: str
    sha256: str | None = Field(default=None, description="The document's SHA-256, 64 hex digits.")
    fingerprint: str | None = Field(default=None, description="The first 8 and last 4 digits of sha256.")
    url: str | None = Field(default=None, description="Where to verify it (http or https only).")
    host: str | None = Field(default=None, description="The site url opens.")
    notes: list[str] = Field(default_factory=list)


class Fact(BaseModel):
    label: str
    lines: list[str]
    certificates: list[Certificate] = Field(default_factory=list)


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
    paid_by: Party | None = Field(
        default=None, description="Who sent a relayed step (signed by its actor) and paid its fee."
    )


class Contract(BaseModel):
    address: str
    url: str | None
    chain_id: int
    network: str
    source: str = Field(
        default="The registry's source has not been checked.",
        description="Whether the registry's code was found to match its source (`supplytrace "
        "verify-deployment`, recorded in the deployment record); never checked per request.",
    )


def source_sentence(check: SourceCheck | None) -> str:
    """What the page says of the registry's source, from the recorded check (no network call)."""
    if check is None:
        return Msg("The registry's source has not been checked.")
    commit = (check.sources_commit or "")[:12]
    day = check.checked_at[:10]
    when = Msg("%(day)s against commit %(commit)s", day=day, commit=commit) if commit else day
    if check.match == EXACT_MATCH:
        return Msg(
            "The registry's code matches its published source exactly, metadata included (checked %(when)s).",
            when=when,
        )
    if check.match == MATCH:
        return Msg(
            "The registry's code matches its published source; only the metadata differs (checked %(when)s).",
            when=when,
        )
    return Msg(
        "The registry's code does NOT match the source it was checked against (checked %(when)s).", when=when
    )


class IndexState(BaseModel):
    source: Literal["chain", "index"] = Field(
        description="'chain': history read from the chain's logs; 'index': from the event index."
    )
    head_block: int = Field(description="The chain's latest block when the record was read.")
    indexed_block: int | None = None
    lag_blocks: int = 0
    notes: list[str] = Field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------


def fmt_iso(timestamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def hex32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def shown(text: ChainText | None, limit: int = NAME_LIMIT) -> str | None:
    """The safe rendering of ``text``, or None when there is none or it shows as nothing."""
    if text is None:
        return None
    rendered = text.shown(limit).strip()
    return rendered or None


# ----------------------------------------------------------------------------------------------
# Where a page is built: links, the registry, names
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every page needs to know about where it runs."""

    links: ExplorerLinks
    registry: Contract
    item_url: Callable[[str], str]
    lot_url: Callable[[int], str]
    confirmations: int = 0  # how far behind the head the index stays by design

    def party(self, address: str | None, names: Mapping[str, Participant]) -> Party | None:
        """The party at ``address``: verified only by a non-empty name the admin published; a
        self-description is shown as such, never as a verified name."""
        if address is None:
            return None
        known = names.get(address)
        verified_name = shown(known.verified_name) if known else None
        description = shown(known.description) if known else None
        return Party(
            address=address,
            label=verified_name or description or short_address(address),
            verified=verified_name is not None,
            verified_name=verified_name,
            description=description,
            url=self.links.address(address),
        )

    def timeline_row(
        self,
        logged: Logged,
        names: Mapping[str, Participant],
        *,
        brand: str | None = None,
        lot_codes: Mapping[int, str] | None = None,
        with_item: bool = False,
        payer: str | None = None,
        ssccs: Mapping[bytes, int] | None = None,
    ) -> TimelineRow:
        """One event as a row of a page's timeline, in the words of :func:`core.story.describe`
        (``ssccs`` names cases and pallets by their SSCC)."""
        step = describe(logged.event, brand=brand, lot_codes=lot_codes, ssccs=ssccs)
        detail = say(step.detail)
        if detail is not None and len(detail) > REASON_LIMIT:  # a recall reason of any length
            detail = detail[: REASON_LIMIT - 1] + "…"
        verb = say(step.verb) or ""
        who, other = self.party(step.actor, names), self.party(step.counterpart, names)
        texts = {p.address: party_text(p) for p in (who, other) if p is not None}
        item_id = hex32(step.item_id) if with_item and step.item_id is not None else None
        timestamp = logged.timestamp or 0
        return TimelineRow(
            event=logged.name,
            block_number=logged.block_number,
            timestamp=timestamp,
            when=fmt_time(timestamp) if timestamp else _("block %(block)s", block=str(logged.block_number)),
            who=who,
            verb=verb,
            counterpart=other,
            detail=detail,
            summary=_sentence(verb, detail, texts.get(step.actor or ""), texts.get(step.counterpart or "")),
            tx_hash=logged.tx_hash,
            tx_url=self.links.tx(logged.tx_hash),
            item_id=item_id,
            item_url=self.item_url(item_id) if item_id else None,
            paid_by=self.party(payer, names) if payer else None,
        )


def party_text(party: Party | None) -> str:
    """A party in a sentence: its verified name, its description marked unverified, or its short
    address (``0x1234…abcd``; the page links the whole one)."""
    if party is None:
        return _("someone")
    if party.verified:
        return party.label
    if party.description:
        return _("%(name)s (unverified)", name=party.label)
    return short_address(party.address)


def _sentence(verb: str, detail: str | None, who: str | None, other: str | None) -> str:
    """A timeline row as one line in the reader's language (``core.story.Step.sentence``)."""
    if who and other:
        line = _("%(who)s %(verb)s %(other)s", who=who, verb=verb, other=other)
    elif who:
        line = _("%(who)s %(verb)s", who=who, verb=verb)
    elif other:
        line = _("%(verb)s %(other)s", verb=verb[:1].upper() + verb[1:], other=other)
    else:
        line = verb[:1].upper() + verb[1:]
    return _("%(line)s (%(detail)s)", line=line, detail=detail) if detail else line


# ----------------------------------------------------------------------------------------------
# Lot metadata, and where the history comes from
# ----------------------------------------------------------------------------------------------

_DETAIL_NOTES = {
    "verified": N_("These details match the fingerprint (hash) the brand recorded on the chain."),
    "mismatch": N_(
        "Warning: the lot details held here do not match the fingerprint on the chain, so they "
        "are not shown. They may have been altered; rely only on the status above."
    ),
    "missing": N_(
        "The brand's lot details are not available on this page; the chain holds only their fingerprint."
    ),
    "invalid": N_("The lot details held here match the fingerprint but are not a JSON object."),
}


def lot_details(metadata_hash: bytes, metadata: LotMetadata, brand: Party | None = None) -> LotDetails:
    document = metadata.document if metadata.state == "verified" else None
    brand_name = brand.verified_name if brand else None
    return LotDetails(
        metadata_hash=hex32(metadata_hash),
        state=metadata.state,
        note=_(_DETAIL_NOTES[metadata.state]),
        facts=[
            Fact(
                label=row.label,
                lines=row.lines,
                certificates=[Certificate(**asdict(c)) for c in row.certificates],
            )
            for row in facts(document, brand_name=brand_name)
        ]
        if document
        else [],
        document=document,
    )


def index_state(head: int, indexed: int | None, confirmations: int = 0) -> IndexState:
    """Where the history came from; a note when the index lags more than the ``confirmations``
    it keeps behind the head by design (the chain's logs fill that gap on every read)."""
    if indexed is None:
        return IndexState(source="chain", head_block=head)
    lag = max(0, head - indexed)
    notes = []
    if lag > confirmations:
        notes.append(
            ngettext(
                "The history index is %(num)s block behind the chain (indexed to block %(indexed)s, the "
                "chain is at %(head)s): the steps after block %(indexed)s are read from the chain's logs "
                "instead. The status above is read live.",
                "The history index is %(num)s blocks behind the chain (indexed to block %(indexed)s, the "
                "chain is at %(head)s): the steps after block %(indexed)s are read from the chain's logs "
                "instead. The status above is read live.",
                lag,
                indexed=str(indexed),
                head=str(head),
            )
        )
    return IndexState(source="index", head_block=head, indexed_block=indexed, lag_blocks=lag, notes=notes)
