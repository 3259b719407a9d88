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

import operator
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, assert_never

from supplytrace.core.errors import SupplytraceError
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
    ItemRecord,
    ItemStatus,
    LotRecord,
    QuantityUnit,
)
from supplytrace.core.text import ChainText


class IndexCorruptError(SupplytraceError):
    """The events contradict the derived rows (an item of an unknown lot, ...): rebuild them."""


def _hash(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _word(text: ChainText) -> bytes:
    """A code's 32-byte word (what the contract stores) from its :class:`ChainText`."""
    return text.raw.ljust(32, b"\0")


@dataclass(slots=True)
class ItemRow:
    item_id: bytes
    lot_id: int
    serial: bytes  # the bytes32 word
    custodian: str
    pending_receiver: str | None
    status: int
    custody_nonce: int
    updated_at: int
    registered_block: int
    registered_log_index: int


@dataclass(slots=True)
class LotRow:
    lot_id: int
    gtin: int
    lot_code: bytes  # the bytes32 word
    registrar: str
    metadata_hash: bytes
    recalled_at: int
    recall_reason: bytes | None
    recalled_by: str | None
    closed: bool
    item_count: int
    registered_block: int
    registered_tx: bytes
    registered_at: int
    last_block: int
    last_log_index: int


@dataclass(slots=True)
class ParticipantRow:
    address: str
    verified_name: bytes | None = None  # None: none published, or withdrawn
    description: bytes | None = None
    registrar: bool = False
    admin: bool = False
    last_block: int = 0
    last_log_index: int = 0


@dataclass(slots=True)
class CustodyRow:
    item_id: bytes
    seq: int
    holder: str
    previous: str | None
    block_number: int
    log_index: int
    tx_hash: bytes
    since: int


@dataclass(slots=True)
class AssignmentRow:
    kind: str  # "gtin" or "prefix"
    value: int
    length: int
    registrar: str
    block_number: int
    log_index: int


_GETTERS: dict[type, Any] = {}
_Row = TypeVar("_Row")


def row_of(row_type: type[_Row], values: Iterable[Any]) -> _Row:
    """A ``row_type`` from its table's column values, in declaration order (binary columns as
    ``bytes``, whichever buffer type the database driver returns)."""
    return row_type(*(bytes(v) if isinstance(v, memoryview | bytearray) else v for v in values))


def row_values(row: Any) -> tuple[Any, ...]:
    """The row's fields as a tuple, in declaration order (the table's column order)."""
    getter = _GETTERS.get(type(row))
    if getter is None:
        getter = _GETTERS[type(row)] = operator.attrgetter(*(f.name for f in fields(row)))
    result: tuple[Any, ...] = getter(row)
    return result


def record_of(row: ItemRow, lot: LotRow) -> ItemRecord:
    """An item's derived rows as its :class:`ItemRecord` (what ``getItem`` returns)."""
    return ItemRecord(
        item_id=bytes(row.item_id),
        status=ItemStatus(row.status),
        custodian=row.custodian,
        pending_receiver=row.pending_receiver,
        brand=lot.registrar,
        lot_id=row.lot_id,
        gtin=lot.gtin,
        lot_code=ChainText.from_word(lot.lot_code),
        lot_metadata_hash=bytes(lot.metadata_hash),
        custody_nonce=row.custody_nonce,
        updated_at=row.updated_at,
        recalled=lot.recalled_at != 0,
        recalled_at=lot.recalled_at,
        lot_closed=lot.closed,
        container=None,
    )


def lot_record_of(lot: LotRow) -> LotRecord:
    return LotRecord(
        lot.lot_id, lot.registrar, lot.gtin, ChainText.from_word(lot.lot_code), bytes(lot.metadata_hash),
        lot.recalled_at, lot.closed, QuantityUnit.NONE, 0, 0,
    )  # fmt: skip


AssignmentKey = tuple[str, int, int]


@dataclass
class State:
    """Rows by key, and which of them the applied events changed (to be written back)."""

    items: dict[bytes, ItemRow] = field(default_factory=dict)
    lots: dict[int, LotRow] = field(default_factory=dict)
    participants: dict[str, ParticipantRow] = field(default_factory=dict)
    assignments: dict[AssignmentKey, AssignmentRow | None] = field(default_factory=dict)  # None: released
    custody: list[CustodyRow] = field(default_factory=list)  # transfers (registration is in the item)
    changed_items: set[bytes] = field(default_factory=set)
    new_items: set[bytes] = field(default_factory=set)
    changed_lots: set[int] = field(default_factory=set)
    changed_participants: set[str] = field(default_factory=set)
    changed_assignments: set[AssignmentKey] = field(default_factory=set)

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
            case (
                LotQuantityDeclared()
                | LotTransformed()
                | ContainerCreated()
                | ContainerPacked()
                | ContainerUnpacked()
            ):
                pass
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

    def _register(self, event: ItemRegistered, log: Logged, timestamp: int) -> None:
        lot = self.lot(event.lot_id)
        item_id = bytes(event.item_id)
        self.items[item_id] = ItemRow(
            item_id, event.lot_id, _word(event.serial), lot.registrar, None, ItemStatus.ACTIVE, 0,
            timestamp, log.block_number, log.log_index,
        )  # fmt: skip
        lot.item_count += 1
        self.changed_lots.add(lot.lot_id)
        self.changed_items.add(item_id)
        self.new_items.add(item_id)

    def _change(self, event: ItemEvent, log: Logged, timestamp: int) -> None:
        change = ItemChange(bytes(event.item_id))
        change.add(event, log.block_number, log.log_index, _hash(log.tx_hash), timestamp)
        if change.changes_row:
            self.custody.extend(change.apply(self.item(change.item_id)))
            self.changed_items.add(change.item_id)

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
        custody = [
            CustodyRow(
                row.item_id, row.custody_nonce + transfer.step, transfer.holder, transfer.previous,
                transfer.block_number, transfer.log_index, transfer.tx_hash, transfer.since,
            )
            for transfer in self.transfers
        ]  # fmt: skip
        row.custody_nonce += self.steps
        if self.custodian is not None:
            row.custodian = self.custodian
        if self.pending_set:
            row.pending_receiver = self.pending
        if self.status is not None:
            row.status = self.status
        if self.updated_at is not None:
            row.updated_at = self.updated_at
        return custody


def item_event(event: RegistryEvent) -> ItemEvent | None:
    """``event`` if it is an item event after registration (what :class:`ItemChange` folds)."""
    return typing.cast(ItemEvent, event) if isinstance(event, _ITEM_EVENT_TYPES) else None


# ----------------------------------------------------------------------------------------------
# An item's history against its live record
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """What an item's history (its events and its lot's, in chain order) says about it."""

    registered: bool
    serial: ChainText | None
    transfers: int
    steps: int  # how far the events advanced the item's nonce
    sold: bool
    claimed: bool
    recalled: bool
    recall_reason: ChainText | None
    last_holder: str | None  # the last transfer's receiver, else the lot's registrar
    foreign: bool  # events of an item other than the one asked about


def replay(item_id: bytes, history: Iterable[Logged]) -> Replay:
    """Fold an item's history the way :class:`State` would, leniently (a history that lacks
    steps is read as far as it goes, never an error)."""
    registered = sold = claimed = recalled = foreign = False
    serial: ChainText | None = None
    reason: ChainText | None = None
    registrar: str | None = None
    change = ItemChange(bytes(item_id))
    for log in history:
        event = log.event
        match event:
            case LotRegistered():
                registrar = event.registrar
            case ItemRegistered():
                if bytes(event.item_id) != item_id:
                    foreign = True
                    continue
                registered, serial = True, event.serial
            case LotRecalled():
                recalled, reason = True, event.reason
            case LotClosed() | LotRenewed() | CodesCommitted():
                pass
            case (
                LotQuantityDeclared()
                | LotTransformed()
                | ContainerCreated()
                | ContainerPacked()
                | ContainerUnpacked()
            ):
                pass
            case (
                CustodyOffered() | OfferCancelled() | OfferRejected() | CustodyTransferred() | ItemObserved()
            ):
                if bytes(event.item_id) != item_id:
                    foreign = True
                    continue
                change.add(event, log.block_number, log.log_index, b"", log.timestamp or 0)
            case ItemSold() | ItemClaimed():
                if bytes(event.item_id) != item_id:
                    foreign = True
                    continue
                sold = sold or isinstance(event, ItemSold)
                claimed = claimed or isinstance(event, ItemClaimed)
            case BrandNamed() | BrandUnnamed() | ParticipantDescribed() | RoleGranted() | RoleRevoked():
                pass
            case GtinAssigned() | GtinReleased() | CompanyPrefixAssigned() | CompanyPrefixReleased():
                pass
            case _:
                assert_never(event)
    last_holder = change.custodian or registrar
    return Replay(
        registered, serial, len(change.transfers), change.steps, sold, claimed, recalled, reason, last_holder,
        foreign,
    )  # fmt: skip


def verdict(record: ItemRecord, history: Iterable[Logged]) -> str | None:
    """Where an item's history disagrees with its live record: ``"behind"`` (a lagging index:
    steps missing), ``"wrong"`` (a history that cannot be this item's), or None."""
    seen = replay(record.item_id, history)
    if not record.registered:
        return "wrong" if seen.registered or seen.foreign else None
    if seen.foreign:
        return "wrong"
    if not seen.registered:
        return "behind"
    if (
        seen.steps > record.custody_nonce
        or (seen.sold and not (record.sold or record.claimed))
        or (seen.claimed and not record.claimed)
        or (seen.recalled and not record.recalled)
    ):
        return "wrong"
    if (
        seen.steps < record.custody_nonce
        or (record.sold and not seen.sold)
        or (record.claimed and not seen.claimed)
        or (record.recalled and not seen.recalled)
    ):
        return "behind"
    if seen.last_holder != record.custodian:
        return "wrong"
    return None
