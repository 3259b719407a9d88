"""The index's rows, as :class:`~supplytrace.core.reducer.State` holds them: one dataclass per
derived table, its fields the table's columns in order (:func:`row_values` and :func:`row_of`
turn one into the other), and how they read as the records the registry's views return
(:func:`record_of`: a packed item is held by its outermost container's custodian).

Rows hold what the chain holds: codes as their 32-byte words, names, descriptions and reasons
as raw bytes.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from supplytrace.core import lineage
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.records import ContainerRecord, ItemRecord, ItemStatus, LotRecord, QuantityUnit
from supplytrace.core.text import ChainText

#: How deep containers nest at most on chain (7); a longer chain of parents in rows is a cycle.
MAX_NESTING = 16


class IndexCorruptError(SupplytraceError):
    """The events contradict the derived rows (an item of an unknown lot, ...): rebuild them."""


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
    container: bytes | None = None  # the container it is packed in (its custodian: the outermost's)


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
    unit: int = 0  # core.records.QuantityUnit; 0: no declared quantity
    quantity: int = 0  # declared (measured or made by a blend)
    stock: int = 0  # what is left: drawn by items registered and by blends using it
    item_quantity: int = 0  # each item's net quantity


@dataclass(slots=True)
class LotInputRow:
    """One input of a blend: lot ``output_lot_id`` consumed ``quantity`` of ``input_lot_id``
    (``position``: its place in the blend's list; a lot listed twice has two rows)."""

    output_lot_id: int
    position: int
    input_lot_id: int
    quantity: int


@dataclass(slots=True)
class ContainerRow:
    """A container (GS1 SSCC). ``custodian`` is its own holder, which only counts while it is not
    packed (a packed one is held by its outermost container's custodian), as in the contract."""

    container_id: bytes
    sscc: int
    custodian: str
    pending_receiver: str | None
    parent: bytes | None  # the container it is packed in
    custody_nonce: int
    updated_at: int
    level: int  # 1 + the highest level ever packed into it
    created_block: int
    created_log_index: int


@dataclass(slots=True)
class PackingRow:
    """``member`` (an item or a container) was packed into ``container_id`` at this event."""

    member: bytes
    container_id: bytes
    block_number: int
    log_index: int


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


# ----------------------------------------------------------------------------------------------
# Rows as the records the registry's views return
# ----------------------------------------------------------------------------------------------


def outermost(container_id: bytes, containers: Mapping[bytes, ContainerRow]) -> ContainerRow:
    """The outermost container holding ``container_id`` (itself if it is not packed): its
    custodian holds everything inside, as the contract reads it."""
    box = container_in(container_id, containers)
    for _ in range(MAX_NESTING):
        if box.parent is None:
            return box
        box = container_in(box.parent, containers)
    raise IndexCorruptError(f"container 0x{container_id.hex()} is packed in a cycle of containers")


def container_in(container_id: bytes, containers: Mapping[bytes, ContainerRow]) -> ContainerRow:
    box = containers.get(bytes(container_id))
    if box is None:
        raise IndexCorruptError(
            f"an event refers to container 0x{bytes(container_id).hex()}, which the index does not hold"
        )
    return box


def record_of(
    row: ItemRow, lot: LotRow, containers: Mapping[bytes, ContainerRow] | None = None
) -> ItemRecord:
    """An item's derived rows as its :class:`ItemRecord` (what ``getItem`` returns); a packed
    item's custodian is its outermost container's (``containers`` holds that chain)."""
    custodian = row.custodian
    if row.container is not None:
        custodian = outermost(row.container, containers or {}).custodian
    return ItemRecord(
        item_id=bytes(row.item_id),
        status=ItemStatus(row.status),
        custodian=custodian,
        pending_receiver=row.pending_receiver if row.container is None else None,  # suspended
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
        container=None if row.container is None else bytes(row.container),
    )


def lot_record_of(lot: LotRow) -> LotRecord:
    return LotRecord(
        lot.lot_id, lot.registrar, lot.gtin, ChainText.from_word(lot.lot_code), bytes(lot.metadata_hash),
        lot.recalled_at, lot.closed, QuantityUnit.of(lot.unit), lot.stock, lot.item_quantity,
    )  # fmt: skip


def container_record_of(box: ContainerRow, containers: Mapping[bytes, ContainerRow]) -> ContainerRecord:
    """A container's rows as its :class:`ContainerRecord` (what ``getContainer`` returns)."""
    holder = box if box.parent is None else outermost(box.parent, containers)
    return ContainerRecord(
        bytes(box.container_id), box.sscc, holder.custodian,
        box.pending_receiver if box.parent is None else None,
        None if box.parent is None else bytes(box.parent), box.custody_nonce, box.updated_at, box.level,
    )  # fmt: skip


def transformations_of(
    inputs: Iterable[LotInputRow], lots: Mapping[int, LotRow]
) -> dict[int, lineage.Transformation]:
    """The blends ``inputs`` rows record, as :mod:`~supplytrace.core.lineage` follows them (the
    output lot's quantity and unit from ``lots``, where it is loaded)."""
    by_output: dict[int, list[LotInputRow]] = {}
    for row in inputs:
        by_output.setdefault(row.output_lot_id, []).append(row)
    out = {}
    for lot_id, rows in by_output.items():
        lot = lots.get(lot_id)
        rows.sort(key=lambda r: r.position)
        out[lot_id] = lineage.Transformation(
            lot_id,
            tuple(lineage.LotInput(r.input_lot_id, r.quantity) for r in rows),
            lot.quantity if lot else 0,
            QuantityUnit.of(lot.unit if lot else 0).word,
        )
    return out
