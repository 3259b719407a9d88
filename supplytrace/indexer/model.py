"""What the registry's events mean for its state: one reducer, used for every derived table.

:class:`State` holds the rows an event stream touches (loaded from the index or new) and
:meth:`State.apply` folds events into them in chain order, the way the contract changes its
storage: the indexer folds each chunk of new events, a reorg rollback refolds what it touched
from the events that remain, and the CLI folds the few events newer than the index's checkpoint
on top of an item's indexed state.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from eth_utils import keccak

from supplytrace.events import ITEM_EVENTS, Event
from supplytrace.ids import decode_code

REGISTRAR_ROLE = keccak(text="REGISTRAR_ROLE")
DEFAULT_ADMIN_ROLE = b"\0" * 32
ACTIVE, SOLD = 1, 2  # supplytrace.registry.ItemStatus


class IndexCorruptError(RuntimeError):
    """The events contradict the index (an item of an unknown lot, ...): rebuild it."""


def _hash(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@dataclass(slots=True)
class ItemRow:
    item_id: bytes
    lot_id: int
    serial: str
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
    lot_code: str
    registrar: str
    metadata_hash: bytes
    recalled_at: int
    recall_reason: str | None
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
    verified_name: str | None = None
    description: str | None = None
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
    return row_type(*(bytes(v) if isinstance(v, (memoryview, bytearray)) else v for v in values))


def row_values(row: Any) -> tuple[Any, ...]:
    """The row's fields as a tuple, in declaration order (the table's column order)."""
    getter = _GETTERS.get(type(row))
    if getter is None:
        getter = _GETTERS[type(row)] = operator.attrgetter(*(f.name for f in fields(row)))
    return getter(row)


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

    def apply(self, event: Event, timestamp: int) -> None:
        """Fold one event (newer than every event applied so far) into the rows."""
        a = event.args
        name = event.name
        if name in _ITEM_HANDLERS:
            _ITEM_HANDLERS[name](self, event, timestamp)
        elif name == "LotRegistered":
            self.lots[a["lotId"]] = LotRow(
                lot_id=a["lotId"],
                gtin=a["gtin"],
                lot_code=decode_code(a["lotCode"]),
                registrar=a["registrar"],
                metadata_hash=bytes(a["metadataHash"]),
                recalled_at=0,
                recall_reason=None,
                recalled_by=None,
                closed=False,
                item_count=0,
                registered_block=event.block_number,
                registered_tx=_hash(event.tx_hash),
                registered_at=timestamp,
                last_block=event.block_number,
                last_log_index=event.log_index,
            )
            self.changed_lots.add(a["lotId"])
        elif name in ("LotClosed", "LotRecalled"):
            lot = self.lot(a["lotId"])
            if name == "LotClosed":
                lot.closed = True
            else:
                lot.recalled_at, lot.recall_reason, lot.recalled_by = timestamp, a["reason"], a["by"]
            lot.last_block, lot.last_log_index = event.block_number, event.log_index
            self.changed_lots.add(lot.lot_id)
        elif name in ("BrandNamed", "ParticipantDescribed", "RoleGranted", "RoleRevoked"):
            self._participant_event(event)
        else:
            self._assignment_event(event)

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

    def _participant_event(self, event: Event) -> None:
        a = event.args
        address = a.get("brand") or a.get("participant") or a["account"]
        row = self.participants.get(address)
        if row is None:
            row = self.participants[address] = ParticipantRow(address)
        match event.name:
            case "BrandNamed":
                row.verified_name = a["name"]
            case "ParticipantDescribed":
                row.description = a["description"]
            case _:
                granted = event.name == "RoleGranted"
                if a["role"] == REGISTRAR_ROLE:
                    row.registrar = granted
                elif a["role"] == DEFAULT_ADMIN_ROLE:
                    row.admin = granted
                else:
                    return
        row.last_block, row.last_log_index = event.block_number, event.log_index
        self.changed_participants.add(address)

    def _assignment_event(self, event: Event) -> None:
        a = event.args
        if event.name.startswith("Gtin"):
            key: AssignmentKey = ("gtin", a["gtin"], 14)
        else:
            key = ("prefix", a["prefix"], a["length"])
        if event.name.endswith("Assigned"):
            self.assignments[key] = AssignmentRow(
                *key, registrar=a["registrar"], block_number=event.block_number, log_index=event.log_index
            )
        else:
            self.assignments[key] = None
        self.changed_assignments.add(key)


def _registered(state: State, event: Event, timestamp: int) -> None:
    a = event.args
    lot = state.lots.get(a["lotId"]) or state.lot(a["lotId"])
    item_id = a["itemId"]
    state.items[item_id] = ItemRow(
        item_id, a["lotId"], a["serial"].split(b"\0", 1)[0].decode("ascii"), lot.registrar, None, ACTIVE, 0,
        timestamp, event.block_number, event.log_index,
    )  # fmt: skip
    lot.item_count += 1
    state.changed_lots.add(lot.lot_id)
    state.changed_items.add(item_id)
    state.new_items.add(item_id)


def _changed(state: State, event: Event, timestamp: int) -> None:
    change = ItemChange(bytes(event.args["itemId"]))
    change.add(event.name, event.args, event.block_number, event.log_index, _hash(event.tx_hash), timestamp)
    if change.changes_row:
        state.custody.extend(change.apply(state.item(change.item_id)))
        state.changed_items.add(change.item_id)


_ITEM_HANDLERS = {name: _registered if name == "ItemRegistered" else _changed for name in ITEM_EVENTS}


# ----------------------------------------------------------------------------------------------
# What an item's events after its registration do to it
# ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Transfer:
    """A custody transfer, as the item's ``custody`` row records it (its ``seq`` is the item's
    custody nonce after it)."""

    holder: str
    previous: str
    block_number: int
    log_index: int
    tx_hash: bytes
    since: int


@dataclass(slots=True)
class ItemChange:
    """What a run of one item's events (after its registration, in chain order) does to its
    row. The one place that says what each item event means: :meth:`State.apply` applies it to
    a loaded row (:meth:`apply`), the indexer to the ``items`` table in one statement per chunk
    (``store._apply_changes``), which needs no row loaded."""

    item_id: bytes
    custodian: str | None = None  # the last transfer's receiver
    pending_set: bool = False  # an offer was made or ended (a transfer ends it)
    pending: str | None = None  # then: the open offer's receiver, or None
    transfers: list[Transfer] = field(default_factory=list)
    sold: bool = False
    updated_at: int | None = None  # the block time of the last transfer or sale

    def add(
        self,
        name: str,
        args: dict[str, Any],
        block_number: int,
        log_index: int,
        tx_hash: bytes,
        timestamp: int,
    ) -> None:
        """Fold one more event of the item (``name`` and its decoded ``args``)."""
        if name == "CustodyOffered":
            self.pending_set, self.pending = True, args["to"]
        elif name in ("OfferCancelled", "OfferRejected"):
            self.pending_set, self.pending = True, None
        elif name == "CustodyTransferred":
            self.custodian = args["to"]
            self.pending_set, self.pending = True, None
            self.transfers.append(
                Transfer(args["to"], args["from"], block_number, log_index, tx_hash, timestamp)
            )
            self.updated_at = timestamp
        elif name == "ItemSold":
            self.sold = True
            self.updated_at = timestamp
        elif name != "ItemObserved":  # an observation changes no state
            raise ValueError(f"{name} is not an event of a registered item")

    @property
    def changes_row(self) -> bool:
        return self.pending_set or self.sold or bool(self.transfers)

    def apply(self, row: ItemRow) -> list[CustodyRow]:
        """Change ``row`` in place; returns the custody rows of the transfers."""
        custody = []
        for transfer in self.transfers:
            row.custody_nonce += 1
            custody.append(
                CustodyRow(
                    row.item_id, row.custody_nonce, transfer.holder, transfer.previous,
                    transfer.block_number, transfer.log_index, transfer.tx_hash, transfer.since,
                )
            )  # fmt: skip
        if self.custodian is not None:
            row.custodian = self.custodian
        if self.pending_set:
            row.pending_receiver = self.pending
        if self.sold:
            row.status = SOLD
        if self.updated_at is not None:
            row.updated_at = self.updated_at
        return custody
