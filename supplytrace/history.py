"""Reading an item's story from the chain's logs; ``supplytrace.indexer`` is the fast path
(``supplytrace.indexer.query.open_view``: the index plus the blocks after its checkpoint).

An item's timeline is every event whose first topic is its id, plus its lot's events
(registration, recall, closing), in chain order, each with its block time and transaction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from supplytrace.events import ITEM_EVENTS, LOT_EVENTS, TOPIC0, Event, get_logs, topic_for_id
from supplytrace.ids import decode_code


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an item's history, in plain words."""

    block_number: int
    timestamp: int
    tx_hash: str
    event: str
    actor: str | None
    summary: str


def _summary(event: Event) -> tuple[str | None, str]:
    a = event.args
    match event.name:
        case "LotRegistered":
            return a["registrar"], f"lot {decode_code(a['lotCode'])} registered (GTIN {a['gtin']:014d})"
        case "ItemRegistered":
            return None, f"registered with serial {decode_code(a['serial'])} into lot {a['lotId']}"
        case "CustodyOffered":
            return a["from"], f"offered to {a['to']}"
        case "OfferCancelled":
            return a["from"], f"offer to {a['to']} cancelled"
        case "OfferRejected":
            return a["to"], f"offer from {a['from']} rejected"
        case "CustodyTransferred":
            return a["to"], f"custody moved from {a['from']} to {a['to']}"
        case "ItemObserved":
            return a["by"], f"observation: {decode_code(a['bizStep'])} (data 0x{a['dataHash'].hex()})"
        case "ItemSold":
            return a["seller"], "sold to a customer"
        case "LotRecalled":
            return a["by"], f"lot recalled: {a['reason']}"
        case "LotClosed":
            return a["by"], "lot closed to new registrations"
    return None, event.name


def item_events(provider: Any, registry: str, item_id: bytes, lot_id: int, from_block: int) -> list[Event]:
    """The item's own events and its lot's events, in chain order."""
    own = get_logs(provider, registry, [[TOPIC0[n] for n in ITEM_EVENTS], topic_for_id(item_id)], from_block)
    lot = get_logs(provider, registry, [[TOPIC0[n] for n in LOT_EVENTS], topic_for_id(lot_id)], from_block)
    return sorted(own + lot, key=lambda e: (e.block_number, e.log_index))


def stamped(provider: Any, events: list[Event]) -> list[Event]:
    """The events with their block times; the times they lack are read from the node
    (``provider.make_request``), once per block."""
    times = {e.block_number: e.block_timestamp for e in events if e.block_timestamp is not None}
    out = []
    for event in events:
        if event.block_timestamp is None:
            if event.block_number not in times:
                block = provider.make_request("eth_getBlockByNumber", [hex(event.block_number), False])
                times[event.block_number] = int(block["timestamp"], 16)
            event = dataclasses.replace(event, block_timestamp=times[event.block_number])
        out.append(event)
    return out


def timeline(provider: Any, events: list[Event]) -> list[TimelineEntry]:
    """Events with block times and plain-word summaries (block times the events lack are read
    from the node)."""
    return timeline_entries(stamped(provider, events))


def timeline_entries(events: list[Event]) -> list[TimelineEntry]:
    """Plain-word summaries of events that carry their block times (e.g. from the index)."""
    entries = []
    for event in events:
        actor, summary = _summary(event)
        entries.append(
            TimelineEntry(
                event.block_number, event.block_timestamp or 0, event.tx_hash, event.name, actor, summary
            )
        )
    return entries


def _lot_registrations(provider: Any, registry: str, lot_id: int, from_block: int) -> list[Event]:
    return get_logs(provider, registry, [TOPIC0["ItemRegistered"], None, topic_for_id(lot_id)], from_block)


def lot_item_ids(provider: Any, registry: str, lot_id: int, from_block: int) -> list[bytes]:
    """Ids of every item registered into a lot, in registration order."""
    return [e.args["itemId"] for e in _lot_registrations(provider, registry, lot_id, from_block)]


def lot_item_serials(provider: Any, registry: str, lot_id: int, from_block: int) -> list[str]:
    """Serials of every item registered into a lot, in registration order."""
    return [decode_code(e.args["serial"]) for e in _lot_registrations(provider, registry, lot_id, from_block)]


def lots_of_registrar(provider: Any, registry: str, registrar: str, from_block: int) -> list[int]:
    """Ids of every lot a registrar registered."""
    topic = "0x" + bytes.fromhex(registrar[2:]).rjust(32, b"\0").hex()
    events = get_logs(provider, registry, [TOPIC0["LotRegistered"], None, None, topic], from_block)
    return [e.args["lotId"] for e in events]
