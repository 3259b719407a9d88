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
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, Field

from supplytrace.chain.history import Participant
from supplytrace.core.deployments import EXACT_MATCH, MATCH, SourceCheck
from supplytrace.core.events import Logged
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.core.story import describe
from supplytrace.core.text import ChainText
from supplytrace.web.lotdata import LotMetadata, facts

#: How many characters of a name or a self-description a page shows (anyone can publish any length).
NAME_LIMIT = 100
#: How many characters of a recall reason a page shows.
REASON_LIMIT = 500
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
        return "The registry's source has not been checked."
    commit = (check.sources_commit or "")[:12]
    day = f"{check.checked_at[:10]} against commit {commit}" if commit else check.checked_at[:10]
    if check.match == EXACT_MATCH:
        return f"The registry's code matches its published source exactly, metadata included (checked {day})."
    if check.match == MATCH:
        return f"The registry's code matches its published source; only the metadata differs (checked {day})."
    return f"The registry's code does NOT match the source it was checked against (checked {day})."


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


def fmt_time(timestamp: int) -> str:
    """``14 July 2026, 09:12 UTC`` (block times are UTC; the page has no way to know the reader's zone)."""
    t = time.gmtime(timestamp)
    return f"{t.tm_mday} {time.strftime('%B %Y, %H:%M', t)} UTC"


def fmt_date(timestamp: int) -> str:
    t = time.gmtime(timestamp)
    return f"{t.tm_mday} {time.strftime('%B %Y', t)}"


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
        ssccs: Mapping[bytes, int] | None = None,
        with_item: bool = False,
        payer: str | None = None,
    ) -> TimelineRow:
        """One event as a row of a page's timeline, in the words of :func:`core.story.describe`
        (``ssccs``: the pallets the item travelled on, named by their SSCCs)."""
        step = describe(logged.event, brand=brand, lot_codes=lot_codes, ssccs=ssccs)
        if step.detail is not None and len(step.detail) > REASON_LIMIT:  # a recall reason of any length
            step = replace(step, detail=step.detail[: REASON_LIMIT - 1] + "…")
        who, other = self.party(step.actor, names), self.party(step.counterpart, names)
        texts = {p.address: party_text(p) for p in (who, other) if p is not None}
        item_id = hex32(step.item_id) if with_item and step.item_id is not None else None
        timestamp = logged.timestamp or 0
        return TimelineRow(
            event=logged.name,
            block_number=logged.block_number,
            timestamp=timestamp,
            when=fmt_time(timestamp) if timestamp else f"block {logged.block_number}",
            who=who,
            verb=step.verb,
            counterpart=other,
            detail=step.detail,
            summary=step.sentence(texts),
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
        return "someone"
    if party.verified:
        return party.label
    if party.description:
        return f"{party.label} (unverified)"
    return short_address(party.address)


# ----------------------------------------------------------------------------------------------
# Lot metadata, and where the history comes from
# ----------------------------------------------------------------------------------------------

_DETAIL_NOTES = {
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


def lot_details(metadata_hash: bytes, metadata: LotMetadata, brand: Party | None = None) -> LotDetails:
    document = metadata.document if metadata.state == "verified" else None
    brand_name = brand.verified_name if brand else None
    return LotDetails(
        metadata_hash=hex32(metadata_hash),
        state=metadata.state,
        note=_DETAIL_NOTES[metadata.state],
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
        blocks = "block" if lag == 1 else "blocks"
        notes.append(
            f"The history index is {lag} {blocks} behind the chain (indexed to block {indexed}, the chain is "
            f"at {head}): the steps after block {indexed} are read from the chain's logs instead. The status "
            "above is read live."
        )
    return IndexState(source="index", head_block=head, indexed_block=indexed, lag_blocks=lag, notes=notes)
