"""Where the page reads history from: the :class:`HistorySource` protocol and its chain-backed
implementation.

The page never takes an item's *status* from a history source: every request reads the item's
record live from the chain (``getItem``). A history source supplies what only logs hold: the
custody timeline, observations, recall reasons, participant names, a lot's items. Two
implementations: :class:`ChainHistory` reads them from ``eth_getLogs`` (correct, but its cost
grows with the chain, so it is for the devnet, small deployments, and the page's fallback), and
``supplytrace.indexer.history_source.IndexHistorySource`` reads them from the event index, plus
the chain's events after the index's checkpoint (what ``supplytrace serve`` uses when an index
of the registry exists: ``supplytrace.web.server.history_source``).

What an implementation must provide (all methods are called from a worker thread, so blocking
database drivers are fine; they must be safe to call from several threads at once):

``item_history(item_id)``
    Every registry event whose first indexed topic is ``item_id`` (``ItemRegistered``,
    ``CustodyOffered``, ``OfferCancelled``, ``OfferRejected``, ``CustodyTransferred``,
    ``ItemObserved``, ``ItemSold``) plus every event of the item's lot (``LotRegistered``,
    ``LotRecalled``, ``LotClosed``), in chain order (block number, log index), each with its
    block's timestamp. Empty for an item the source has never seen.
``lot(lot_id, item_limit)``
    The lot's events (as above), how many items were registered into it, and the first
    ``item_limit`` of them (id and serial) in registration order; ``None`` for a lot the source
    has never seen.
``participants(addresses)``
    For each address that has one: the latest ``BrandNamed`` name (published by the admin:
    verified) and the latest ``ParticipantDescribed`` text (self-description: unverified).
``indexed_block()``
    The highest block the source has completely indexed, or ``None`` if it reads the chain
    live (then it never lags). The page compares it with the chain head it reads anyway and
    says how far the index lags; the answers above still cover the blocks after it (read from
    the chain), and the page warns when they miss a step the live record shows.

Event arguments use the conventions of :func:`supplytrace.events.decode_log`: addresses as
checksummed ``0x`` text, ``bytes32`` as ``bytes``, integers as ``int``, strings as ``str``, keyed
by the parameter names of ``IProvenanceRegistry.sol``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from eth_utils import to_checksum_address

from supplytrace.events import ITEM_EVENTS, LOT_EVENTS, TOPIC0, Event, get_logs, topic_for_id
from supplytrace.ids import decode_code
from supplytrace.web.rpc import SyncRpc


@dataclass(frozen=True)
class HistoryEvent:
    """One registry event with its place on chain and its block's time."""

    name: str
    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int
    args: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Event, timestamp: int) -> HistoryEvent:
        return cls(event.name, event.block_number, event.log_index, event.tx_hash, timestamp, event.args)


@dataclass(frozen=True)
class LotItem:
    item_id: bytes
    serial: str


@dataclass(frozen=True)
class LotHistory:
    lot_id: int
    events: list[HistoryEvent]
    item_count: int
    items: list[LotItem]


@dataclass(frozen=True)
class Participant:
    """What an address says about itself (unverified) and what the admin says (verified)."""

    address: str
    verified_name: str | None = None
    description: str | None = None


@runtime_checkable
class HistorySource(Protocol):
    def item_history(self, item_id: bytes) -> list[HistoryEvent]: ...

    def lot(self, lot_id: int, item_limit: int = 50) -> LotHistory | None: ...

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]: ...

    def indexed_block(self) -> int | None: ...


def _topic_for_address(address: str) -> str:
    return "0x" + bytes.fromhex(address[2:]).rjust(32, b"\0").hex()


class ChainHistory:
    """History straight from the chain's logs (``eth_getLogs`` from the deployment block on)."""

    def __init__(self, rpc: SyncRpc, registry: str, from_block: int) -> None:
        self.rpc = rpc
        self.registry = to_checksum_address(registry)
        self.from_block = from_block
        self._times: dict[str, int] = {}  # block hash -> timestamp (a reorg changes the hash)
        self._lock = threading.Lock()

    def _timestamps(self, events: list[Event]) -> list[HistoryEvent]:
        with self._lock:
            missing = {e.block_hash: e.block_number for e in events if e.block_hash not in self._times}
        if missing:
            blocks = self.rpc.batch([("eth_getBlockByHash", [h, False]) for h in missing])
            with self._lock:
                for block_hash, block in zip(missing, blocks, strict=True):
                    if isinstance(block, dict):
                        self._times[block_hash] = int(block["timestamp"], 16)
        with self._lock:
            return [HistoryEvent.from_event(e, self._times.get(e.block_hash, 0)) for e in events]

    def _lot_events(self, lot_id: int) -> list[Event]:
        topics = [[TOPIC0[n] for n in LOT_EVENTS], topic_for_id(lot_id)]
        return get_logs(self.rpc, self.registry, topics, self.from_block)

    def item_history(self, item_id: bytes) -> list[HistoryEvent]:
        topics = [[TOPIC0[n] for n in ITEM_EVENTS], topic_for_id(item_id)]
        own = get_logs(self.rpc, self.registry, topics, self.from_block)
        lot_id = next((e.args["lotId"] for e in own if e.name == "ItemRegistered"), None)
        lot = self._lot_events(lot_id) if lot_id is not None else []
        return self._timestamps(sorted(own + lot, key=lambda e: (e.block_number, e.log_index)))

    def lot(self, lot_id: int, item_limit: int = 50) -> LotHistory | None:
        events = self._lot_events(lot_id)
        if not events:
            return None
        topics = [TOPIC0["ItemRegistered"], None, topic_for_id(lot_id)]
        registered = get_logs(self.rpc, self.registry, topics, self.from_block)
        items = [LotItem(e.args["itemId"], decode_code(e.args["serial"])) for e in registered[:item_limit]]
        return LotHistory(lot_id, self._timestamps(events), len(registered), items)

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        wanted = sorted({to_checksum_address(a) for a in addresses})
        if not wanted:
            return {}
        topics = [
            [TOPIC0["BrandNamed"], TOPIC0["ParticipantDescribed"]],
            [_topic_for_address(a) for a in wanted],
        ]
        found: dict[str, Participant] = {}
        for event in get_logs(self.rpc, self.registry, topics, self.from_block):  # chain order: last wins
            if event.name == "BrandNamed":
                address = event.args["brand"]
                old = found.get(address, Participant(address))
                found[address] = Participant(address, event.args["name"], old.description)
            else:
                address = event.args["participant"]
                old = found.get(address, Participant(address))
                found[address] = Participant(address, old.verified_name, event.args["description"])
        return found

    def indexed_block(self) -> int | None:
        return None
