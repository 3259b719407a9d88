"""Planning a batch without the chain: every row checked (GTIN check digit, GS1 serial and lot
code character set and length, items repeated in the file), then the items grouped per
(GTIN, lot): the registry's ``registerItems(lotId, serials)`` takes one lot per call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Every row's GTIN check needs biip's check digit: load it with the engine, not in the first row.
import biip.checksums  # noqa: F401

from supplytrace.batch.csvfile import CsvFile, Row
from supplytrace.batch.errors import BatchValidationError, RowError
from supplytrace.core.ids import (
    IdentityError,
    ItemKey,
    check_code,
    code_problem,
    gtin_problem,
    item_id_of,
    normalize_gtin,
)


@dataclass(frozen=True)
class PlannedItem:
    line: int
    key: ItemKey  # GTIN-14, serial, lot code
    item_id: bytes
    extra: Mapping[str, str]

    @property
    def item_id_hex(self) -> str:
        return "0x" + self.item_id.hex()


@dataclass(frozen=True)
class Group:
    """The items of one (GTIN, lot): one ``registerItems`` target, in file order."""

    gtin: str
    lot: str
    items: tuple[PlannedItem, ...]


@dataclass(frozen=True)
class Plan:
    groups: tuple[Group, ...]
    extra_columns: tuple[str, ...] = ()
    source: str | None = None

    @property
    def items(self) -> list[PlannedItem]:
        """Every item, in file order."""
        return sorted((i for g in self.groups for i in g.items), key=lambda i: i.line)

    @property
    def size(self) -> int:
        return sum(len(g.items) for g in self.groups)


def plan_batch(rows: CsvFile | Sequence[Row], *, source: str | None = None) -> Plan:
    """Check every row without the chain and group the items per (GTIN, lot), in file order.

    Raises :class:`BatchValidationError` listing every problem of every row (its ``plan`` holds the
    rows without problems, for the chain checks).
    """
    if isinstance(rows, CsvFile):
        source = source or rows.source
        extra_columns = rows.extra_columns
        rows = rows.rows
    else:
        extra_columns = tuple(dict.fromkeys(k for r in rows for k in r.extra))
    errors: list[RowError] = []
    valid: list[tuple[Row, ItemKey]] = []
    gtin14: dict[str, str] = {}  # as written -> GTIN-14 (biip's parse is slow; most rows share a GTIN)
    for row in rows:
        row_errors = []
        if row.problem:
            row_errors.append(RowError(row.line, None, row.problem))
        for column, problem in (
            ("gtin", gtin_problem(row.gtin)),
            ("serial", code_problem(row.serial, "serial")),
            ("lot", code_problem(row.lot, "lot")),
        ):
            if problem:
                row_errors.append(RowError(row.line, column, problem))
        if not row_errors:
            try:
                if row.gtin not in gtin14:
                    gtin14[row.gtin] = normalize_gtin(row.gtin)
                key = ItemKey(
                    gtin14[row.gtin], check_code(row.serial, "serial"), check_code(row.lot, "lot code")
                )
                valid.append((row, key))
            except IdentityError as exc:
                row_errors.append(RowError(row.line, None, str(exc)))
        errors.extend(row_errors)

    duplicated = _repeated_items(valid, errors)
    groups: dict[tuple[str, str], list[PlannedItem]] = {}
    for row, key in valid:
        if row.line in duplicated:
            continue
        assert key.lot is not None
        group = groups.setdefault((key.gtin, key.lot), [])
        group.append(
            PlannedItem(
                line=row.line, key=key, item_id=item_id_of(key.gtin, key.serial), extra=dict(row.extra)
            )
        )
    plan = Plan(
        groups=tuple(Group(gtin, lot, tuple(items)) for (gtin, lot), items in groups.items()),
        extra_columns=extra_columns,
        source=source,
    )
    if errors:
        raise BatchValidationError(errors, source=source, plan=plan)
    if plan.size == 0:
        raise BatchValidationError(
            [RowError(None, None, "the file has a header but no rows; add one row per item.")], source=source
        )
    return plan


def _repeated_items(valid: list[tuple[Row, ItemKey]], errors: list[RowError]) -> set[int]:
    """Lines of items that appear more than once (whatever their lot); each gets an error naming
    the other lines."""
    by_item: dict[tuple[str, str], list[tuple[Row, ItemKey]]] = defaultdict(list)
    for row, key in valid:
        by_item[(key.gtin, key.serial)].append((row, key))
    duplicated: set[int] = set()
    for (gtin, serial), copies in by_item.items():
        if len(copies) < 2:
            continue
        for row, _ in copies:
            others = ", ".join(str(r.line) for r, _ in copies if r is not row)
            duplicated.add(row.line)
            errors.append(
                RowError(
                    row.line,
                    "serial",
                    f"GTIN {gtin} serial {serial!r} also appears on line{'s' if ',' in others else ''} "
                    f"{others}; an item is registered once, so delete the repeated rows.",
                )
            )
    return duplicated
