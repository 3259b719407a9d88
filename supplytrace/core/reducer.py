"""What the registry's events do to its state: the one reducer, used for every derived record.

:class:`State` holds the rows an event stream touches (loaded from the index or new) and
:meth:`State.apply` folds events into them in chain order, the way the contract changes its
storage: the indexer folds each chunk of new events, a reorg rollback refolds what it touched
from the events that remain, and every reader folds the few events newer than the index's
checkpoint on top of an item's indexed rows. :class:`ItemChange` says what each item event after
registration does; the indexer applies a chunk's changes set-based, without loading rows.

Rows hold what the chain holds: codes as their 32-byte words, names, descriptions and reasons
as raw bytes (:class:`~supplytrace.core.text.ChainText` renders them).
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, assert_never

from supplytrace.core import lineage
from supplytrace.core.events import (
    BrandNamed,
    BrandUnnamed,
    CodesCommitted,
    CompanyPrefixAssigned,
    CompanyPrefixReleased,
    ContainerCreated,
    ContainerPacked,
    ContainerUnpacked,
    CustodyOffered,
    CustodyTransferred,
    GtinAssigned,
    GtinReleased,
    ItemClaimed,
    ItemObserved,
    ItemRegistered,
    ItemSold,
    Logged,
    LotClosed,
    LotQuantityDeclared,
    LotRecalled,
    LotRegistered,
    LotRenewed,
    LotTransformed,
    OfferCancelled,
    OfferRejected,
    ParticipantDescribed,
    RegistryEvent,
    RoleGranted,
    RoleRevoked,
)
from supplytrace.core.records import (
    DEFAULT_ADMIN_ROLE,
    REGISTRAR_ROLE,
    ContainerRecord,
    ItemRecord,
    ItemStatus,
)
from supplytrace.core.rows import (
    MAX_NESTING,
    AssignmentRow,
    ContainerRow,
    CustodyRow,
    IndexCorruptError,
    ItemRow,
    LotInputRow,
    LotRow,
    PackingRow,
    ParticipantRow,
    container_in,
    container_record_of,
    lot_record_of,
    outermost,
    record_of,
    row_of,
    row_values,
    transformations_of,
)
from supplytrace.core.text import ChainText

__all__ = [
    "AssignmentRow",
    "ContainerRow",
    "CustodyRow",
    "IndexCorruptError",
    "ItemChange",
    "ItemRow",
    "LotInputRow",
    "LotRow",
    "PackingRow",
    "ParticipantRow",
    "State",
    "container_ids",
    "container_record_of",
    "item_event",
    "lot_record_of",
    "lots_changed",
    "outermost",
    "record_of",
    "row_of",
    "row_values",
    "transformations_of",
]


def _hash(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _word(text: ChainText) -> bytes:
    """A code's 32-byte word (what the contract stores) from its :class:`ChainText`."""
    return text.raw.ljust(32, b"\0")


AssignmentKey = tuple[str, int, int]


@dataclass
class State:
    """Rows by key, and which of them the applied events changed (to be written back)."""

    items: dict[bytes, ItemRow] = field(default_factory=dict)
    lots: dict[int, LotRow] = field(default_factory=dict)
    participants: dict[str, ParticipantRow] = field(default_factory=dict)
    assignments: dict[AssignmentKey, AssignmentRow | None] = field(default_factory=dict)  # None: released
    custody: list[CustodyRow] = field(default_factory=list)  # transfers (registration is in the item)
    containers: dict[bytes, ContainerRow] = field(default_factory=dict)
    lot_inputs: list[LotInputRow] = field(default_factory=list)  # new blends' inputs (insert only)
    packings: list[PackingRow] = field(default_factory=list)  # new packings (insert only)
    changed_items: set[bytes] = field(default_factory=set)
    new_items: set[bytes] = field(default_factory=set)
    changed_lots: set[int] = field(default_factory=set)
    changed_participants: set[str] = field(default_factory=set)
    changed_assignments: set[AssignmentKey] = field(default_factory=set)
    changed_containers: set[bytes] = field(default_factory=set)

    def apply(self, log: Logged) -> None:
        """Fold one event (newer than every event applied so far) into the rows."""
        timestamp = _time(log)
        event = log.event
        match event:
            case ItemRegistered():
                self._register(event, log, timestamp)
            case CustodyOffered() | OfferCancelled() | OfferRejected() | CustodyTransferred():
                self._change(event, log, timestamp)
            case ItemObserved() | ItemSold() | ItemClaimed():
                self._change(event, log, timestamp)
            case CodesCommitted():
                pass  # the codes' items are registered by their own events
            case LotRegistered():
                self.lots[event.lot_id] = LotRow(
                    lot_id=event.lot_id,
                    gtin=event.gtin,
                    lot_code=_word(event.lot_code),
                    registrar=event.registrar,
                    metadata_hash=bytes(event.metadata_hash),
                    recalled_at=0,
                    recall_reason=None,
                    recalled_by=None,
                    closed=False,
                    item_count=0,
                    registered_block=log.block_number,
                    registered_tx=_hash(log.tx_hash),
                    registered_at=timestamp,
                    last_block=log.block_number,
                    last_log_index=log.log_index,
                )
                self.changed_lots.add(event.lot_id)
            case LotQuantityDeclared():
                self._declare(self.lot(event.lot_id), event.quantity, event.item_quantity, event.unit, log)
            case LotTransformed():
                lot = self.lot(event.lot_id)
                self._declare(lot, event.quantity, event.item_quantity, event.unit, log)
                used = zip(event.input_lot_ids, event.input_quantities, strict=False)
                for position, (input_lot_id, quantity) in enumerate(used):
                    source = self.lots.get(input_lot_id)
                    if source is not None:  # an input not loaded is one this fold does not write
                        source.stock -= quantity
                        self._touch_lot(source, log)
                    self.lot_inputs.append(LotInputRow(event.lot_id, position, input_lot_id, quantity))
            case LotClosed():
                lot = self.lot(event.lot_id)
                lot.closed = True
                self._touch_lot(lot, log)
            case LotRenewed():
                self._touch_lot(self.lot(event.lot_id), log)
            case LotRecalled():
                lot = self.lot(event.lot_id)
                lot.recalled_at, lot.recall_reason, lot.recalled_by = timestamp, event.reason.raw, event.by
                self._touch_lot(lot, log)
            case ContainerCreated():
                container_id = bytes(event.container_id)
                self.containers[container_id] = ContainerRow(
                    container_id, event.sscc, event.custodian, None, None, 0, timestamp, 0,
                    log.block_number, log.log_index,
                )  # fmt: skip
                self.changed_containers.add(container_id)
            case ContainerPacked():
                self._pack(bytes(event.container_id), event.contents, log)
            case ContainerUnpacked():
                self._unpack(bytes(event.container_id), event.custodian, event.contents, timestamp)
            case BrandNamed():
                self._participant(event.brand, log).verified_name = event.name.raw
            case BrandUnnamed():
                self._participant(event.brand, log).verified_name = None
            case ParticipantDescribed():
                self._participant(event.participant, log).description = event.description.raw
            case RoleGranted() | RoleRevoked():
                granted = isinstance(event, RoleGranted)
                if event.role == REGISTRAR_ROLE:
                    self._participant(event.account, log).registrar = granted
                elif event.role == DEFAULT_ADMIN_ROLE:
                    self._participant(event.account, log).admin = granted
            case GtinAssigned():
                self._assign(("gtin", event.gtin, 14), event.registrar, log)
            case GtinReleased():
                self._assign(("gtin", event.gtin, 14), None, log)
            case CompanyPrefixAssigned():
                self._assign(("prefix", event.prefix, event.length), event.registrar, log)
            case CompanyPrefixReleased():
                self._assign(("prefix", event.prefix, event.length), None, log)
            case _:
                assert_never(event)

    # ------------------------------------------------------------------------------------------

    def lot(self, lot_id: int) -> LotRow:
        lot = self.lots.get(lot_id)
        if lot is None:
            raise IndexCorruptError(f"an event refers to lot {lot_id}, which the index does not hold")
        return lot

    def item(self, item_id: bytes) -> ItemRow:
        row = self.items.get(item_id)
        if row is None:
            raise IndexCorruptError(
                f"an event refers to item 0x{item_id.hex()}, which the index does not hold"
            )
        return row

    def container(self, container_id: bytes) -> ContainerRow:
        return container_in(container_id, self.containers)

    def record(self, item_id: bytes) -> ItemRecord:
        """The item's :class:`ItemRecord` now (what ``getItem`` would answer)."""
        row = self.item(bytes(item_id))
        return record_of(row, self.lot(row.lot_id), self.containers)

    def container_record(self, container_id: bytes) -> ContainerRecord:
        return container_record_of(self.container(bytes(container_id)), self.containers)

    def transformations(self) -> dict[int, lineage.Transformation]:
        """Every blend folded so far (what :mod:`~supplytrace.core.lineage` walks)."""
        return transformations_of(self.lot_inputs, self.lots)

    def recall_causes(self, lot_id: int) -> tuple[lineage.RecallCause, ...]:
        """Why lot ``lot_id`` reads as recalled: itself, or a lot it was blended from at any
        depth (nearest first); empty when nothing in its lineage is recalled."""
        recalled = {n: lot.recall_reason or b"" for n, lot in self.lots.items() if lot.recalled_at}
        return lineage.recall_causes(lot_id, recalled, self.transformations())

    def recall_reach(self, lot_id: int) -> frozenset[int]:
        """Lot ``lot_id`` and every lot blended from it, at any depth: what its recall reaches."""
        return lineage.descendants(lot_id, self.transformations()) | {lot_id}

    def inside(self, container_id: bytes) -> list[bytes]:
        """What container ``container_id`` holds now, at any depth (items and containers)."""
        boxes = {bytes(container_id)}
        found: list[bytes] = []
        for _ in range(MAX_NESTING):
            inner = [c for c, box in self.containers.items() if box.parent in boxes]
            found += inner + [i for i, row in self.items.items() if row.container in boxes]
            if not inner:
                return found
            boxes = set(inner)
        raise IndexCorruptError(f"container 0x{container_id.hex()} is packed in a cycle of containers")

    def _register(self, event: ItemRegistered, log: Logged, timestamp: int) -> None:
        lot = self.lot(event.lot_id)
        item_id = bytes(event.item_id)
        self.items[item_id] = ItemRow(
            item_id, event.lot_id, _word(event.serial), lot.registrar, None, ItemStatus.ACTIVE, 0,
            timestamp, log.block_number, log.log_index,
        )  # fmt: skip
        lot.item_count += 1
        lot.stock -= lot.item_quantity  # a measured lot's items draw on its stock
        self.changed_lots.add(lot.lot_id)
        self.changed_items.add(item_id)
        self.new_items.add(item_id)

    def registered(self, lot_id: int, count: int) -> None:
        """``count`` items were registered into lot ``lot_id`` (set-based, by the indexer): what
        :meth:`apply` does to the lot for each registration."""
        lot = self.lot(lot_id)
        lot.item_count += count
        lot.stock -= count * lot.item_quantity
        self.changed_lots.add(lot_id)

    def _declare(self, lot: LotRow, quantity: int, item_quantity: int, unit: int, log: Logged) -> None:
        lot.unit, lot.quantity, lot.stock, lot.item_quantity = unit, quantity, quantity, item_quantity
        self._touch_lot(lot, log)

    def _change(self, event: ItemEvent, log: Logged, timestamp: int) -> None:
        change = ItemChange(bytes(event.item_id))
        change.add(event, log.block_number, log.log_index, _hash(log.tx_hash), timestamp)
        if not change.changes_row:
            return
        box = self.containers.get(change.item_id)
        if box is None:
            self.custody.extend(change.apply(self.item(change.item_id)))
            self.changed_items.add(change.item_id)
        elif change.status is not None:
            raise IndexCorruptError(f"a container (0x{change.item_id.hex()}) cannot be sold or claimed")
        else:
            self.custody.extend(change.apply_held(box, change.item_id))
            self.changed_containers.add(change.item_id)

    def _pack(self, container_id: bytes, contents: Iterable[bytes], log: Logged) -> None:
        """Packing: each of ``contents`` is in the container, its nonce advanced (signatures made
        before no longer work; an open offer is suspended while it is packed: it was made by the
        packer, who held the item), and the container's level covers what it holds."""
        box = self.container(container_id)
        level = max(box.level, 1)
        timestamp = _time(log)
        for content in map(bytes, contents):
            self.packings.append(PackingRow(content, container_id, log.block_number, log.log_index))
            held: ItemRow | ContainerRow
            if content in self.containers:
                held = inner = self.containers[content]
                inner.parent = container_id
                level = max(level, inner.level + 1)
                self.changed_containers.add(content)
            else:
                held = row = self.item(content)
                row.container = container_id
                self.changed_items.add(content)
            held.custody_nonce += 1  # an open offer stays, suspended while packed (record_of)
            held.updated_at = timestamp
        box.level = level
        box.custody_nonce += 1
        self.changed_containers.add(container_id)

    def _unpack(self, container_id: bytes, custodian: str, contents: Iterable[bytes], timestamp: int) -> None:
        """Unpacking: each of ``contents`` is out of the container, held by ``custodian``; an open
        offer made before the packing stands again if its maker (the packer, whose name the row
        keeps while packed) unpacks it, and lapses otherwise, as on chain."""
        box = self.container(container_id)
        for content in map(bytes, contents):
            held: ItemRow | ContainerRow
            if content in self.containers:
                held = inner = self.containers[content]
                inner.parent = None
                self.changed_containers.add(content)
            else:
                held = row = self.item(content)
                row.container = None
                self.changed_items.add(content)
            if held.custodian != custodian:  # its packer made any open offer: it lapses
                held.pending_receiver = None
            held.custodian = custodian
            held.custody_nonce += 1
            held.updated_at = timestamp
        box.custody_nonce += 1
        self.changed_containers.add(container_id)

    def _touch_lot(self, lot: LotRow, log: Logged) -> None:
        lot.last_block, lot.last_log_index = log.block_number, log.log_index
        self.changed_lots.add(lot.lot_id)

    def _participant(self, address: str, log: Logged) -> ParticipantRow:
        row = self.participants.get(address)
        if row is None:
            row = self.participants[address] = ParticipantRow(address)
        row.last_block, row.last_log_index = log.block_number, log.log_index
        self.changed_participants.add(address)
        return row

    def _assign(self, key: AssignmentKey, registrar: str | None, log: Logged) -> None:
        self.assignments[key] = (
            None if registrar is None else AssignmentRow(*key, registrar, log.block_number, log.log_index)
        )
        self.changed_assignments.add(key)


def lots_changed(event: RegistryEvent) -> set[int]:
    """The lots ``event`` changes: its own, and the lots a blend drew on (their stock)."""
    lot_id: int | None = getattr(event, "lot_id", None)
    lots = set() if lot_id is None else {lot_id}
    if isinstance(event, LotTransformed):
        lots.update(event.input_lot_ids)
    return lots


def container_ids(event: RegistryEvent) -> set[bytes]:
    """The items and containers a container's own event changes (the container and what it packed
    or unpacked); empty for any other event. A custody step of a container changes only the
    container: its contents move with it without a write."""
    if isinstance(event, ContainerPacked | ContainerUnpacked):
        return {bytes(event.container_id), *map(bytes, event.contents)}
    if isinstance(event, ContainerCreated):
        return {bytes(event.container_id)}
    return set()


def _time(log: Logged) -> int:
    if log.timestamp is None:
        raise IndexCorruptError(f"event {log.name} at block {log.block_number} has no block time")
    return log.timestamp


# ----------------------------------------------------------------------------------------------
# What an item's events after its registration do to it
# ----------------------------------------------------------------------------------------------

#: An item's events after its registration.
ItemEvent = (
    CustodyOffered
    | OfferCancelled
    | OfferRejected
    | CustodyTransferred
    | ItemObserved
    | ItemSold
    | ItemClaimed
)


_ITEM_EVENT_TYPES: tuple[type, ...] = typing.get_args(ItemEvent)


@dataclass(slots=True)
class Transfer:
    """A custody transfer, as the item's ``custody`` row records it (its ``seq`` is the item's
    custody nonce after it: the nonce before the run of events plus ``step``)."""

    step: int  # the item's nonce advances in the run of events up to and including this one
    holder: str
    previous: str
    block_number: int
    log_index: int
    tx_hash: bytes
    since: int


@dataclass(slots=True)
class ItemChange:
    """What a run of one item's events (after its registration, in chain order) does to its
    row. :meth:`State.apply` applies it to a loaded row (:meth:`apply`), the indexer to the
    ``items`` table in one statement per chunk, which needs no row loaded."""

    item_id: bytes
    custodian: str | None = None  # the last transfer's receiver
    pending_set: bool = False  # an offer was made or ended (a transfer ends it)
    pending: str | None = None  # then: the open offer's receiver, or None
    transfers: list[Transfer] = field(default_factory=list)
    steps: int = 0  # how far the events advance the item's nonce (moves, ended offers, records)
    status: ItemStatus | None = None  # SOLD or CLAIMED when the run sells or claims the item
    updated_at: int | None = None  # the block time of the last transfer, sale or claim

    def add(
        self, event: ItemEvent, block_number: int, log_index: int, tx_hash: bytes, timestamp: int
    ) -> None:
        """Fold one more event of the item."""
        match event:
            case CustodyOffered():
                self.pending_set, self.pending = True, event.to
            case OfferCancelled() | OfferRejected():
                self.pending_set, self.pending = True, None
                self.steps += 1
            case CustodyTransferred():
                self.custodian = event.to
                self.pending_set, self.pending = True, None
                self.steps += 1
                self.transfers.append(
                    Transfer(self.steps, event.to, event.from_, block_number, log_index, tx_hash, timestamp)
                )
                self.updated_at = timestamp
            case ItemSold():
                self.status = ItemStatus.SOLD
                self.updated_at = timestamp
            case ItemClaimed():
                self.status = ItemStatus.CLAIMED
                self.updated_at = timestamp
            case ItemObserved():
                self.steps += 1  # an observation advances the nonce only
            case _:
                assert_never(event)

    @property
    def changes_row(self) -> bool:
        return self.pending_set or self.status is not None or self.steps > 0

    def apply(self, row: ItemRow) -> list[CustodyRow]:
        """Change ``row`` in place; returns the custody rows of the transfers."""
        custody = self.apply_held(row, row.item_id)
        if self.status is not None:
            row.status = self.status
        return custody

    def apply_held(self, row: _Held, held_id: bytes) -> list[CustodyRow]:
        """As :meth:`apply`, for an item's or a container's row (a container is neither sold nor
        claimed); ``held_id`` is its id."""
        custody = [
            CustodyRow(
                held_id, row.custody_nonce + transfer.step, transfer.holder, transfer.previous,
                transfer.block_number, transfer.log_index, transfer.tx_hash, transfer.since,
            )
            for transfer in self.transfers
        ]  # fmt: skip
        row.custody_nonce += self.steps
        if self.custodian is not None:
            row.custodian = self.custodian
        if self.pending_set:
            row.pending_receiver = self.pending
        if self.updated_at is not None:
            row.updated_at = self.updated_at
        return custody


class _Held(Protocol):
    """What custody changes in an item's or a container's row."""

    custodian: str
    pending_receiver: str | None
    custody_nonce: int
    updated_at: int


def item_event(event: RegistryEvent) -> ItemEvent | None:
    """``event`` if it is an item event after registration (what :class:`ItemChange` folds)."""
    return typing.cast(ItemEvent, event) if isinstance(event, _ITEM_EVENT_TYPES) else None
