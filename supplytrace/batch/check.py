"""Checking a plan against the chain, nothing sent: every lot exists, is the signer's and open,
every GTIN is the signer's, no item is registered in another lot. Items already registered in
*their* lot are done (a rerun after an interruption). Every problem of every row is reported
at once, each as one sentence with the fix."""

from __future__ import annotations

from dataclasses import dataclass

from supplytrace.batch.errors import BatchValidationError, RowError
from supplytrace.batch.plan import Group, Plan, PlannedItem
from supplytrace.chain.reads import RegistryReads
from supplytrace.core.hashing import checksum
from supplytrace.core.ids import _LOT_CREATE, encode_code
from supplytrace.core.records import ItemStatus, LotRecord


@dataclass(frozen=True)
class GroupState:
    group: Group
    lot_id: int
    remaining: tuple[PlannedItem, ...]  # not yet registered, in file order


@dataclass(frozen=True)
class ChainCheck:
    groups: tuple[GroupState, ...]
    done: frozenset[bytes]  # ids already registered in their lot (an earlier run)

    @property
    def remaining_count(self) -> int:
        return sum(len(g.remaining) for g in self.groups)


def check_on_chain(plan: Plan, reads: RegistryReads, signer: str) -> ChainCheck:
    """Check the plan against the chain for the account ``signer`` (an address).

    Raises :class:`BatchValidationError` with one error per bad row and problem.
    """
    signer = checksum(signer)
    errors: list[RowError] = []
    owners = {gtin: reads.gtin_owner(int(gtin)) for gtin in dict.fromkeys(g.gtin for g in plan.groups)}
    lots: dict[int, LotRecord | None] = {}

    def lot_of(lot_id: int) -> LotRecord | None:
        if lot_id not in lots:
            lots[lot_id] = reads.lot(lot_id)
        return lots[lot_id]

    def lot_label(lot_id: int) -> str:
        record = lot_of(lot_id)
        code = str(record.lot_code) if record is not None else "?"
        return f"lot {code!r} (lot id {lot_id})"

    states: list[GroupState] = []
    done: set[bytes] = set()
    for group in plan.groups:
        lines = [i.line for i in group.items]
        owner_problem = _owner_problem(group, owners[group.gtin], signer)
        if owner_problem:
            errors.extend(RowError(n, "gtin", owner_problem) for n in lines)

        lot_id = reads.lot_id_of(int(group.gtin), encode_code(group.lot, "lot code"))
        lot = lot_of(lot_id) if lot_id else None
        lot_problem = _lot_problem(group, lot_id, lot, signer)
        if lot_problem:
            errors.extend(RowError(n, "lot", lot_problem) for n in lines)

        remaining: list[PlannedItem] = []
        statuses = reads.item_statuses([i.item_id for i in group.items])
        for planned, (status, on_lot) in zip(group.items, statuses, strict=True):
            if status is ItemStatus.UNKNOWN:
                remaining.append(planned)
            elif lot_id and on_lot == lot_id:
                done.add(planned.item_id)
            else:
                errors.append(
                    RowError(
                        planned.line,
                        "serial",
                        f"GTIN {group.gtin} serial {planned.key.serial!r} is already registered in "
                        f"{lot_label(on_lot)}, not in lot {group.lot!r}; an item is registered once, so "
                        "delete the row or correct its serial.",
                    )
                )
        states.append(GroupState(group, lot_id, tuple(remaining)))
    if errors:
        raise BatchValidationError(errors, source=plan.source)
    return ChainCheck(groups=tuple(states), done=frozenset(done))


def _owner_problem(group: Group, owner: str | None, signer: str) -> str | None:
    if owner is None:
        return (
            f"GTIN {group.gtin} is not assigned to any brand; ask the registry admin to assign it "
            f"to the signing account {signer}."
        )
    if checksum(owner) != signer:
        return (
            f"GTIN {group.gtin} belongs to {owner}, not to the signing account {signer}; "
            "sign with the owner's account or ask the registry admin to reassign the GTIN."
        )
    return None


def _lot_problem(group: Group, lot_id: int, lot: LotRecord | None, signer: str) -> str | None:
    where = f"lot {group.lot!r} of GTIN {group.gtin}"
    if lot_id == 0 or lot is None:
        return f"{where} does not exist on chain; create it first with {_LOT_CREATE}."
    where += f" (lot id {lot_id})"
    if lot.registrar is None or checksum(lot.registrar) != signer:
        return (
            f"{where} was created by {lot.registrar}, not by the signing account {signer}; "
            "sign with that account."
        )
    if lot.closed:
        return f"{where} is closed; put these items in a new lot ({_LOT_CREATE})."
    if lot.recalled:
        return f"{where} is recalled; put these items in a new lot ({_LOT_CREATE})."
    return None
