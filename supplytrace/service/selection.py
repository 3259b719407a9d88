"""Which items a use case acts on: GS1 Digital Link URIs or 0x item ids, a GTIN and a serial, or
every item of a lot that applies to the account (held by it, or offered to it). Wherever an item
is named a container may be, by its SSCC (``00`` or ``(00)`` and 18 digits, or a Digital Link
URI with ``/00/``): custody moves it as one, with its own custody nonce (:func:`records`).

:func:`named_items` reads what the user named (no chain); :func:`in_lot` filters a lot's items by
their live records (``itemStatuses`` first, then ``getItem`` of the active ones, batched).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from supplytrace.chain.reads import ContainerRecord, RegistryReads, container_custody, packed_in_read
from supplytrace.chain.rpc import RpcError
from supplytrace.core.errors import ContractRevertError, SupplytraceError
from supplytrace.core.hashing import checksum, is_address
from supplytrace.core.ids import ItemKey, container_id, parse_item_id, sscc_of
from supplytrace.core.records import ItemRecord, ItemStatus

#: getItem calls per JSON-RPC batch when reading many items.
ITEMS_PER_BATCH = 500
#: What an id's ``container`` reads when it is packed in none.
NO_CONTAINER = b"\0" * 32


class SelectionError(SupplytraceError):
    """The items named cannot be used; the message says how to name them."""


@dataclass(frozen=True)
class ItemSelection:
    """Items named by the user: URIs or 0x ids, ``gtin`` with ``serial``, and/or a lot reference
    (``7`` or ``GTIN:LOTCODE``: every item of it that applies)."""

    items: tuple[str, ...] = ()
    gtin: str | None = None
    serial: str | None = None
    lot_ref: str | None = None

    @property
    def names_items(self) -> bool:
        """Whether URIs, ids or a GTIN and serial are given (a lot aside)."""
        return bool(self.items or self.gtin or self.serial)


@dataclass(frozen=True)
class Applies:
    """Which items of a lot a use case takes: held by ``holder`` (with ``offered``: only those
    with an open offer; without: only those without), or offered to ``offered_to``. Sold items
    never apply."""

    holder: str | None = None
    offered_to: str | None = None
    offered: bool = False

    def __call__(self, record: ItemRecord) -> bool:
        if record.status is not ItemStatus.ACTIVE:
            return False
        if self.offered_to is not None:
            return record.pending_receiver is not None and _same(record.pending_receiver, self.offered_to)
        return (
            self.holder is not None
            and record.custodian is not None
            and _same(record.custodian, self.holder)
            and self.offered == (record.pending_receiver is not None)
        )

    def describe(self) -> str:
        if self.offered_to is not None:
            return f"offered to {self.offered_to}"
        if self.holder is not None:
            return f"held by {self.holder}" + (
                " with an open offer" if self.offered else " without an open offer"
            )
        return "applicable"


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def key_of(text: str) -> ItemKey:
    """The GS1 key of a Digital Link URI."""
    return ItemKey.from_digital_link(text)


def named_id(text: str) -> bytes:
    """The id of one named item or container: a 0x id (of either), a container's SSCC (``00`` or
    ``(00)`` and 18 digits, the 18 digits, or a Digital Link URI with ``/00/``), or an item's
    Digital Link URI."""
    if text.startswith("0x") and "/" not in text:
        return parse_item_id(text)
    sscc = sscc_of(text)
    return container_id(sscc) if sscc is not None else key_of(text).id


def named_items(selection: ItemSelection) -> list[bytes]:
    """Ids of the URIs, 0x ids, SSCCs and GTIN + serial of ``selection`` (its lot aside), in order."""
    ids = [named_id(t) for t in selection.items]
    if gtin_and_serial(selection):
        ids.append(ItemKey.create(selection.gtin or "", selection.serial or "").id)
    return ids


def gtin_and_serial(selection: ItemSelection) -> bool:
    """Whether ``selection`` names an item by GTIN and serial (they go together)."""
    if bool(selection.gtin) != bool(selection.serial):
        raise SelectionError("--gtin and --serial go together; give both, or name the item by its URI.")
    return bool(selection.gtin)


def nothing_named() -> SelectionError:
    return SelectionError(
        "name at least one item: a Digital Link URI, a 0x item id, --gtin/--serial, --lot, or a "
        "container's SSCC ((00) and 18 digits)."
    )


def records(reads: RegistryReads, item_ids: Sequence[bytes]) -> list[ItemRecord]:
    """The live records of ``item_ids``, in order: ``getItem`` calls, :data:`ITEMS_PER_BATCH`
    to a JSON-RPC batch. An id no item has that is a container's gets the container's custody
    (``container_custody``), so every custody use case takes containers as it takes items."""
    out: list[ItemRecord] = []
    for start in range(0, len(item_ids), ITEMS_PER_BATCH):
        item_reads = [reads.item_read(i) for i in item_ids[start : start + ITEMS_PER_BATCH]]
        answers = reads.rpc.batch([call for r in item_reads for call in r.calls], raise_errors=False)
        out.extend(r.parse([answer]) for r, answer in zip(item_reads, answers, strict=True))
    unknown = [n for n, record in enumerate(out) if record.status is ItemStatus.UNKNOWN]
    for start in range(0, len(unknown), ITEMS_PER_BATCH):
        places = unknown[start : start + ITEMS_PER_BATCH]
        found = containers(reads, [out[n].item_id for n in places])
        for n, container in zip(places, found, strict=True):
            if container is not None and container.exists:
                out[n] = container_custody(container)
    return out


def containers(reads: RegistryReads, ids: Sequence[bytes]) -> list[ContainerRecord | None]:
    """``getContainer`` of each of ``ids`` (all zero for an id no container has; None where the
    registry has no containers: one deployed before issue #14), in one batch."""
    container_reads = [reads.container_read(i) for i in ids]
    answers = reads.rpc.batch([call for r in container_reads for call in r.calls], raise_errors=False)
    return [
        None if isinstance(answer, RpcError) else r.parse([answer])
        for r, answer in zip(container_reads, answers, strict=True)
    ]


def with_sscc(reads: RegistryReads, error: ContractRevertError) -> ContractRevertError:
    """``error`` naming its container by SSCC rather than by id (``ItemPacked`` and the like),
    when the registry knows the container; else ``error`` itself."""
    container = error.arguments.get("containerId")
    if not isinstance(container, bytes | bytearray) or "containerSscc" in error.arguments:
        return error
    try:
        record = reads.run(reads.container_read(bytes(container)))
    except (RpcError, SupplytraceError):
        return error
    if not record.exists:
        return error
    return ContractRevertError(error.name, {**error.arguments, "containerSscc": record.sscc})


def in_lot(
    reads: RegistryReads, lot_id: int, lot_items: Sequence[bytes], applies: Applies, *, loose: bool = True
) -> list[bytes]:
    """The items of lot ``lot_id`` (``lot_items``, from its history) that ``applies`` takes, by
    their live records: ``itemStatuses`` first, then ``getItem`` of the active ones (with
    ``loose``, those not packed in a container). Raises when none applies."""
    return lot_split(reads, lot_id, lot_items, applies, lambda record: False, loose=loose)[0]


def lot_split(
    reads: RegistryReads,
    lot_id: int,
    lot_items: Sequence[bytes],
    applies: Applies,
    done: Callable[[ItemRecord], bool],
    *,
    loose: bool = True,
) -> tuple[list[bytes], list[bytes]]:
    """The items of lot ``lot_id`` that ``applies`` takes, and those already ``done`` (in the state
    a run asks for: an earlier run's work), by their live records. Raises when neither has any.
    With ``loose``, items packed in a container are left out of those it takes: they move with
    their container, not alone."""
    statuses = reads.item_statuses(lot_items)
    live = [i for i, (status, _lot) in zip(lot_items, statuses, strict=True) if status is ItemStatus.ACTIVE]
    chosen: list[bytes] = []
    finished: list[bytes] = []
    for record in records(reads, live):
        if applies(record):
            chosen.append(record.item_id)
        elif done(record):
            finished.append(record.item_id)
    packed = 0
    if loose and chosen:
        where = packed_in(reads, chosen)
        packed = sum(1 for outer in where if outer != NO_CONTAINER)
        chosen = [i for i, outer in zip(chosen, where, strict=True) if outer == NO_CONTAINER]
    if not chosen and not finished:
        if packed:
            raise SelectionError(
                f"every item of lot {lot_id} that is {applies.describe()} is packed in a container "
                f"({packed:,} of them); name the containers by their SSCC, or unpack them first."
            )
        raise SelectionError(
            f"no item of lot {lot_id} is {applies.describe()}; check the lot and the account (--account)."
        )
    return chosen, finished


def packed_in(reads: RegistryReads, ids: Sequence[bytes]) -> list[bytes]:
    """The container each of ``ids`` (items or containers) is packed in (32 zero bytes: none)."""
    out: list[bytes] = []
    size = ITEMS_PER_BATCH // 2
    for start in range(0, len(ids), size):
        each = [packed_in_read(reads.address, i) for i in ids[start : start + size]]
        answers = reads.rpc.batch([call for r in each for call in r.calls], raise_errors=False)
        out.extend(r.parse(answers[2 * n : 2 * n + 2]) for n, r in enumerate(each))
    return out


def address(value: str) -> str:
    """``value`` as a checksummed address, or a sentence saying it is not one."""
    text = value.strip()
    if not is_address(text):
        raise SelectionError(
            f"{value!r} is not an Ethereum address (0x followed by 40 hex digits); copy it again."
        )
    return checksum(text)
