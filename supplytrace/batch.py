"""Batch registration from a CSV file: validate everything first, then register in gas-sized chunks.

The file has a header with the columns ``gtin``, ``serial`` and ``lot`` (any case, any order); every
other column is kept as item metadata and copied to the receipt. The job runs in four steps:

1. :func:`read_rows` + :func:`plan_batch` — pure checks of every row (GTIN check digit, GS1 serial
   and lot code character set and length, items repeated in the file). Rows are grouped per
   (GTIN, lot): the contract's ``registerItems(lotId, serials)`` takes one lot per call.
2. :func:`check_on_chain` — every lot exists and belongs to the signer, every GTIN is the signer's,
   no item is registered in another lot. Items already registered in *their* lot are done (a
   rerun after an interruption). Every problem of every row is reported at once, each as one
   sentence with the fix, and nothing is sent while any row is bad.
3. :func:`run_batch` — waits until the signer has no pending transaction (one sent just before a
   ``kill -9`` must not be sent again), then registers what remains in chunks sized to fit the
   per-transaction gas cap (EIP-7825: 2**24) and the node's block gas limit with a margin, one
   transaction at a time, each confirmed before the next. The contract is all-or-nothing per
   transaction and rejects duplicates; if a chunk meets ``ItemAlreadyRegistered`` (another process
   raced us), the statuses are read again and the job continues with what remains.
4. :func:`write_receipt` — one row per CSV row, those done by an earlier run included (their
   transaction is found from the ``ItemRegistered`` logs), written atomically.

:func:`register_csv` runs all four; rerunning it after any interruption finishes the job without
registering anything twice and without losing a row.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from biip.checksums import gs1_standard_check_digit
from eth_utils import keccak

from supplytrace.events import TOPIC0, fetch_logs
from supplytrace.ids import (
    IdentityError,
    ItemKey,
    check_code,
    encode_code,
    item_id,
    normalize_gtin,
)
from supplytrace.registry import item_statuses

#: EIP-7825 (Osaka): no transaction may ask for more gas than 2**24.
TX_GAS_CAP = 16_777_216
#: Upper bound of the gas one more item adds to ``registerItems`` (measured 24,962 per item in a
#: batch of 100 with 14-character serials, bench/results.json; a 20-character serial costs 72 more
#: in calldata). Used to size chunks; each chunk is also estimated before it is sent.
PER_ITEM_GAS = 25_500
#: Upper bound of the fixed part of a ``registerItems`` transaction (21,000 intrinsic, the lot read).
BASE_GAS = 60_000
#: Fraction of the usable gas a chunk may be sized to (the rest is the safety margin).
GAS_MARGIN = 0.9
#: Item ids per ``itemStatuses`` eth_call.
STATUS_CALL_SIZE = 1000
DEFAULT_PENDING_TIMEOUT = 180.0
DEFAULT_MINING_TIMEOUT = 600.0
REQUIRED_COLUMNS = ("gtin", "serial", "lot")
RECEIPT_COLUMNS = (
    "line",
    "gtin",
    "serial",
    "lot",
    "lot_id",
    "item_id",
    "digital_link",
    "outcome",
    "tx_hash",
    "block",
    "explorer_link",
)
OUTCOME_REGISTERED = "registered"
OUTCOME_RESUMED = "already registered, resumed"
ITEM_REGISTERED_TOPIC = TOPIC0["ItemRegistered"]

_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_CSET82_TEXT = "letters, digits and !\"%&'()*+,-./:;<=>?_"
_LOT_CREATE = "`supplytrace lot create`"


# ----------------------------------------------------------------------------------------------
# Results and errors
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of one row (``line`` is the file's line number, 1 = header; None: the file)."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "file" if self.line is None else f"line {self.line}"
        if self.column:
            where += f" ({self.column})"
        return f"{where}: {self.message}"


class BatchError(RuntimeError):
    """The batch cannot go on; the message is one sentence that says what to do."""


class BatchValidationError(BatchError):
    """Rows of the file are bad; ``errors`` lists every problem. Nothing was sent.

    ``plan`` holds the rows that passed the file checks (None when the file itself is unreadable),
    so callers can still run the chain checks on them and report everything at once.
    """

    def __init__(self, errors: Sequence[RowError], *, source: str | None = None, plan: Plan | None = None):
        self.errors = sorted(errors, key=lambda e: (e.line or 0, e.column or "", e.message))
        self.source = source
        self.plan = plan
        super().__init__(self.summary())

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors if e.line is not None})

    def summary(self, limit: int | None = 50) -> str:
        where = f" of {self.source}" if self.source else ""
        lines = self.bad_lines
        if not lines:
            head = f"the file{where} cannot be used"
        elif len(lines) == 1:
            head = f"1 row{where} has problems"
        else:
            head = f"{len(lines)} rows{where} have problems"
        details = format_errors(self.errors, limit=limit)
        return f"{head}; nothing was sent. Fix them and run the command again:\n" + "\n".join(
            f"  {d}" for d in details
        )


class BatchInterruptedError(BatchError):
    """The run was interrupted; a rerun finishes the job."""


def format_errors(errors: Sequence[RowError], limit: int | None = None) -> list[str]:
    """One line per distinct problem; rows with the same problem are listed as line ranges.

    Every bad line number appears (``lines 2-5001`` for a whole lot that does not exist);
    ``limit`` caps the number of output lines (with a final ``... and N more``).
    """
    grouped: dict[tuple[str | None, str], list[int | None]] = {}
    for error in errors:
        grouped.setdefault((error.column, error.message), []).append(error.line)
    out: list[str] = []
    for (column, message), lines in grouped.items():
        numbers = sorted({n for n in lines if n is not None})
        where = "file" if not numbers else ("line " if len(numbers) == 1 else "lines ") + _ranges(numbers)
        if column:
            where += f" ({column})"
        out.append(f"{where}: {message}")
    if limit is not None and len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more problems."]
    return out


def _ranges(numbers: Sequence[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------------
# Reading and planning (no chain access)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row of the CSV as written (surrounding whitespace of gtin/serial/lot removed)."""

    line: int
    gtin: str
    serial: str
    lot: str
    extra: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None  # a row-shape problem found while reading (too many values)


@dataclass(frozen=True)
class CsvFile:
    rows: tuple[Row, ...]
    extra_columns: tuple[str, ...]
    source: str


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


def read_rows(path: str | os.PathLike[str]) -> CsvFile:
    """Read a batch CSV (UTF-8, with or without BOM; ``,`` ``;`` or tab separated).

    Raises :class:`BatchValidationError` for an unreadable file, a missing header or column.
    Blank lines are skipped; line numbers are those of the file (the header's line included).
    """
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise BatchValidationError(
            [RowError(None, None, f"{source} does not exist; check the path.")], source=source
        ) from None
    except IsADirectoryError:
        raise BatchValidationError(
            [RowError(None, None, f"{source} is a directory; give the CSV file itself.")], source=source
        ) from None
    except OSError as exc:
        raise BatchValidationError(
            [RowError(None, None, f"{source} cannot be read ({exc.strerror}); check its permissions.")],
            source=source,
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise BatchValidationError(
            [RowError(line, None, 'the file is not UTF-8 text; save it as "CSV UTF-8" and try again.')],
            source=source,
        ) from None
    return parse_rows(text, source=source)


def parse_rows(text: str, *, source: str = "<csv>") -> CsvFile:
    """:func:`read_rows` for text already in memory."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    header: list[str] | None = None
    header_line = 0
    raw: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header, header_line = record, start
            else:
                raw.append((start, record))
    except csv.Error as exc:
        raise BatchValidationError(
            [
                RowError(
                    reader.line_num, None, f"the CSV is malformed ({exc}); check the quotes on this line."
                )
            ],
            source=source,
        ) from None
    if header is None:
        raise BatchValidationError(
            [
                RowError(
                    None,
                    None,
                    "the file is empty; it needs a header line gtin,serial,lot and one row per item.",
                )
            ],
            source=source,
        )
    names = [name.strip() for name in header]
    lowered = [name.lower() for name in names]
    errors: list[RowError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
    if missing:
        found = ", ".join(repr(n) for n in names) or "none"
        errors.append(
            RowError(
                header_line,
                None,
                f"the header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(found {found}); the first line must name the columns gtin, serial and lot.",
            )
        )
    seen: dict[str, int] = {}
    for index, name in enumerate(lowered):
        if name and name in seen:
            errors.append(
                RowError(
                    header_line,
                    None,
                    f"the header names column {names[index]!r} twice (columns {seen[name] + 1} and "
                    f"{index + 1}); rename or delete one of them.",
                )
            )
        seen.setdefault(name, index)
    if errors:
        raise BatchValidationError(errors, source=source)

    index_of = {c: lowered.index(c) for c in REQUIRED_COLUMNS}
    extra_index = [i for i, n in enumerate(lowered) if n not in REQUIRED_COLUMNS]
    # Unnamed columns (a trailing separator in the header) are kept only if some row fills them.
    extra_names = {i: names[i] or f"column_{i + 1}" for i in extra_index}
    extra_index = [i for i in extra_index if names[i] or any(i < len(r) and r[i].strip() for _, r in raw)]
    rows: list[Row] = []
    width = len(header)
    for line, record in raw:
        cells = record + [""] * (width - len(record))
        problem = None
        if len(record) > width and any(c.strip() for c in record[width:]):
            problem = (
                f"the row has {len(record)} values but the header has {width} columns; quote values "
                'that contain the separator ("a,b") or add a header for the extra column.'
            )
        rows.append(
            Row(
                line=line,
                gtin=cells[index_of["gtin"]].strip(),
                serial=cells[index_of["serial"]].strip(),
                lot=cells[index_of["lot"]].strip(),
                extra={extra_names[i]: cells[i] for i in extra_index},
                problem=problem,
            )
        )
    return CsvFile(rows=tuple(rows), extra_columns=tuple(extra_names[i] for i in extra_index), source=source)


def _dialect(text: str) -> type[csv.Dialect]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    delimiter = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def gtin_problem(value: str) -> str | None:
    """Why ``value`` is not a GTIN (one sentence with the fix), or None if it is one."""
    if not value:
        return "the GTIN is empty; fill in the item's 8, 12, 13 or 14-digit GTIN."
    if not value.isdigit() or not value.isascii():
        if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", value):
            return (
                f"GTIN {value!r} was turned into a number by a spreadsheet; format the column as text "
                "and enter the GTIN's digits again."
            )
        return f"GTIN {value!r} must contain digits only; remove the other characters."
    if len(value) not in (8, 12, 13, 14):
        hint = (
            " (a spreadsheet may have dropped leading zeros: format the column as text)"
            if len(value) < 14
            else ""
        )
        return f"GTIN {value!r} has {len(value)} digits; a GTIN has 8, 12, 13 or 14 digits{hint}."
    expected = gs1_standard_check_digit(value[:-1])
    if int(value[-1]) != expected:
        return (
            f"GTIN {value!r} has a wrong check digit (the last digit should be {expected}); "
            "copy the GTIN again from the product's barcode."
        )
    if int(value) == 0:
        return "GTIN 0 is not a GTIN; fill in the item's GTIN."
    return None


def code_problem(value: str, what: str) -> str | None:
    """Why ``value`` is not a GS1 serial (AI 21) or lot code (AI 10), or None if it is one."""
    if not value:
        if what == "lot":
            return f"the lot is empty; give the code of the item's lot (created with {_LOT_CREATE})."
        return "the serial is empty; every item needs its serial number."
    name = "serial" if what == "serial" else "lot code"
    bad = sorted({c for c in value if c not in _CSET82})
    problems = []
    if bad:
        shown = ", ".join("space" if c == " " else repr(c) for c in bad)
        problems.append(f"contains {shown}, which GS1 does not allow")
    if len(value) > 20:
        problems.append(f"has {len(value)} characters, more than GS1's 20")
    if not problems:
        return None
    shortened = value if len(value) <= 30 else value[:27] + "..."
    return f"{name} {shortened!r} {' and '.join(problems)}; use 1 to 20 characters, only {_CSET82_TEXT}."


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

    groups: dict[tuple[str, str], list[PlannedItem]] = {}
    for row, key in valid:
        if row.line in duplicated:
            continue
        assert key.lot is not None
        group = groups.setdefault((key.gtin, key.lot), [])
        iid = _item_id(key.gtin, key.serial)
        if not group and iid != item_id(key.gtin, key.serial):  # the spec's derivation, once per group
            raise AssertionError(f"item id derivation mismatch for {key}")
        group.append(PlannedItem(line=row.line, key=key, item_id=iid, extra=dict(row.extra)))
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


def _item_id(gtin14: str, serial: str) -> bytes:
    """``ids.item_id`` without re-parsing the GTIN: keccak256(abi.encode(uint256 gtin, bytes32 serial))."""
    return keccak(int(gtin14).to_bytes(32, "big") + serial.encode("ascii").ljust(32, b"\0"))


# ----------------------------------------------------------------------------------------------
# Chain checks
# ----------------------------------------------------------------------------------------------


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


def _address(value: Any) -> str:
    return str(value.address if hasattr(value, "address") else value)


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def check_on_chain(plan: Plan, registry: Any, signer: Any) -> ChainCheck:
    """Check the plan against the chain for ``signer`` (an account or an address).

    Raises :class:`BatchValidationError` with one error per bad row and problem.
    """
    signer_address = _address(signer)
    errors: list[RowError] = []
    owners: dict[str, str] = {}
    for gtin in dict.fromkeys(g.gtin for g in plan.groups):
        owners[gtin] = str(registry.gtinOwner(int(gtin)))
    lot_codes: dict[int, str] = {}

    def lot_label(lot_id: int) -> str:
        if lot_id not in lot_codes:
            lot_codes[lot_id] = str(
                bytes(registry.getLot(lot_id).lotCode).rstrip(b"\0").decode("ascii", "replace")
            )
        return f"lot {lot_codes[lot_id]!r} (lot id {lot_id})"

    states: list[GroupState] = []
    done: set[bytes] = set()
    for group in plan.groups:
        lines = [i.line for i in group.items]
        owner = owners[group.gtin]
        if int(owner, 16) == 0:
            message = (
                f"GTIN {group.gtin} is not assigned to any brand; ask the registry admin to assign it "
                f"to the signing account {signer_address}."
            )
            errors.extend(RowError(n, "gtin", message) for n in lines)
        elif not _same(owner, signer_address):
            message = (
                f"GTIN {group.gtin} belongs to {owner}, not to the signing account {signer_address}; "
                "sign with the owner's account or ask the registry admin to reassign the GTIN."
            )
            errors.extend(RowError(n, "gtin", message) for n in lines)

        lot_id = int(registry.lotIdOf(int(group.gtin), encode_code(group.lot, "lot code")))
        if lot_id == 0:
            message = (
                f"lot {group.lot!r} of GTIN {group.gtin} does not exist on chain; create it first with "
                f"{_LOT_CREATE}."
            )
            errors.extend(RowError(n, "lot", message) for n in lines)
        else:
            lot = registry.getLot(lot_id)
            lot_codes[lot_id] = group.lot
            problem = None
            if not _same(str(lot.registrar), signer_address):
                problem = (
                    f"lot {group.lot!r} of GTIN {group.gtin} (lot id {lot_id}) was created by "
                    f"{lot.registrar}, not by the signing account {signer_address}; sign with that account."
                )
            elif bool(lot.closed):
                problem = (
                    f"lot {group.lot!r} of GTIN {group.gtin} (lot id {lot_id}) is closed; put these items "
                    f"in a new lot ({_LOT_CREATE})."
                )
            elif int(lot.recalledAt):
                problem = (
                    f"lot {group.lot!r} of GTIN {group.gtin} (lot id {lot_id}) is recalled; put these items "
                    f"in a new lot ({_LOT_CREATE})."
                )
            if problem:
                errors.extend(RowError(n, "lot", problem) for n in lines)

        remaining: list[PlannedItem] = []
        statuses = item_statuses(registry, [i.item_id for i in group.items], chunk=STATUS_CALL_SIZE)
        for planned, (status, on_lot) in zip(group.items, statuses, strict=True):
            if status == 0:
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


# ----------------------------------------------------------------------------------------------
# Node helpers (raw JSON-RPC through ape's provider)
# ----------------------------------------------------------------------------------------------


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text, 16) if text.startswith(("0x", "0X")) else int(text)


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def pending_count(provider: Any, address: str) -> int:
    """Transactions of ``address`` the node has accepted but not yet mined."""
    pending = _int(provider.make_request("eth_getTransactionCount", [address, "pending"]))
    latest = _int(provider.make_request("eth_getTransactionCount", [address, "latest"]))
    return max(0, pending - latest)


def wait_for_pending(
    provider: Any, address: str, *, timeout: float = DEFAULT_PENDING_TIMEOUT, poll: float = 0.25
) -> None:
    """Wait until ``address`` has no pending transaction (e.g. one sent just before a crash).

    Raises :class:`BatchError` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while (count := pending_count(provider, address)) > 0:
        if time.monotonic() >= deadline:
            raise BatchError(
                f"{count} transaction{'s' if count > 1 else ''} of {address} {'are' if count > 1 else 'is'} "
                f"still pending after {timeout:.0f} s; wait until {'they are' if count > 1 else 'it is'} "
                "mined (or replace it with a higher fee in your wallet) and run the command again."
            )
        time.sleep(poll)


def block_gas_limit(provider: Any) -> int:
    return _int(provider.make_request("eth_getBlockByNumber", ["latest", False])["gasLimit"])


@dataclass(frozen=True)
class Sizing:
    """How many items go in one transaction and why."""

    gas_cap: int  # min(EIP-7825 cap, block gas limit)
    gas_budget: int  # what a chunk may use: gas_cap * GAS_MARGIN
    items_per_tx: int


def chunk_size(provider: Any, max_items_per_tx: int | None = None) -> Sizing:
    """Items per transaction from the measured per-item cost, under the tx cap and the block limit."""
    cap = min(TX_GAS_CAP, block_gas_limit(provider))
    budget = int(cap * GAS_MARGIN)
    by_gas = max(1, (budget - BASE_GAS) // PER_ITEM_GAS)
    items = by_gas if max_items_per_tx is None else max(1, min(by_gas, max_items_per_tx))
    return Sizing(gas_cap=cap, gas_budget=budget, items_per_tx=items)


def wait_mined(
    provider: Any, tx_hash: str, *, timeout: float = DEFAULT_MINING_TIMEOUT
) -> tuple[int, int, bool]:
    """(block, gas used, success) of ``tx_hash`` once mined."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        receipt = provider.make_request("eth_getTransactionReceipt", [tx_hash])
        if receipt and receipt.get("blockNumber") is not None:
            return _int(receipt["blockNumber"]), _int(receipt["gasUsed"]), _int(receipt["status"]) == 1
        if time.monotonic() >= deadline:
            raise BatchError(
                f"transaction {tx_hash} was sent but not mined within {timeout:.0f} s; run the command "
                "again later: it waits for pending transactions and registers nothing twice."
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def get_logs(
    provider: Any, address: str, topics: list[Any], from_block: int, to_block: int
) -> list[dict[str, Any]]:
    """Raw ``eth_getLogs`` over [from_block, to_block] through the one log-reading loop,
    :func:`supplytrace.events.fetch_logs`: ranges the node refuses (public RPCs cap the blocks or
    results per call) or that time out are halved, transient failures retried with backoff."""
    return fetch_logs(provider.make_request, address, topics, from_block, to_block)


def find_registrations(
    provider: Any, registry_address: str, lot_id: int, item_ids: Sequence[bytes], from_block: int = 0
) -> dict[bytes, tuple[str, int]]:
    """(tx hash, block) of the ``ItemRegistered`` event of each of ``item_ids`` in lot ``lot_id``."""
    wanted = set(item_ids)
    if not wanted:
        return {}
    latest = _int(provider.make_request("eth_blockNumber", []))
    topics = [ITEM_REGISTERED_TOPIC, None, "0x" + lot_id.to_bytes(32, "big").hex()]
    found: dict[bytes, tuple[str, int]] = {}
    for log in get_logs(provider, registry_address, topics, from_block, latest):
        if log.get("removed"):
            continue
        iid = bytes.fromhex(str(log["topics"][1])[2:])
        if iid in wanted:
            found[iid] = (_hex(log["transactionHash"]), _int(log["blockNumber"]))
    return found


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TxRecord:
    tx_hash: str
    block: int
    lot_id: int
    items: int
    gas_used: int
    gas_limit: int


@dataclass(frozen=True)
class ReceiptRow:
    line: int
    gtin: str
    serial: str
    lot: str
    lot_id: int
    item_id: str
    digital_link: str
    outcome: str  # OUTCOME_REGISTERED or OUTCOME_RESUMED
    tx_hash: str | None
    block: int | None
    explorer_link: str | None
    extra: Mapping[str, str]


@dataclass(frozen=True)
class BatchResult:
    rows: tuple[ReceiptRow, ...]  # one per CSV row, in file order
    transactions: tuple[TxRecord, ...]  # sent by this run
    sizing: Sizing
    extra_columns: tuple[str, ...] = ()
    receipt_path: Path | None = None  # set by register_csv

    def summary(self) -> str:
        """What happened, in one or two sentences."""
        txs = len(self.transactions)
        parts = [
            f"registered {self.registered:,} item{'s' if self.registered != 1 else ''} in {txs} "
            f"transaction{'s' if txs != 1 else ''}"
            + (f" (up to {self.sizing.items_per_tx} items each, {self.gas_used:,} gas)" if txs else "")
        ]
        if self.resumed:
            parts.append(f"{self.resumed:,} were already registered by an earlier run")
        text = "; ".join(parts) + "."
        if self.unlocated:
            text += (
                f" The transaction of {self.unlocated} earlier item(s) was not found in the logs (the search "
                "started at the deployment block); their receipt rows have no transaction hash."
            )
        return text

    @property
    def registered(self) -> int:
        return sum(1 for r in self.rows if r.outcome == OUTCOME_REGISTERED)

    @property
    def resumed(self) -> int:
        return sum(1 for r in self.rows if r.outcome == OUTCOME_RESUMED)

    @property
    def gas_used(self) -> int:
        return sum(t.gas_used for t in self.transactions)

    @property
    def unlocated(self) -> int:
        """Rows whose transaction was not found in the logs (``from_block`` after it?)."""
        return sum(1 for r in self.rows if r.tx_hash is None)


class _ChainChangedError(Exception):
    """The chain changed under us (an item got registered meanwhile); read the statuses again."""

    def __init__(self, chunk: frozenset[bytes] = frozenset(), reverted: str | None = None):
        super().__init__(reverted or "ItemAlreadyRegistered")
        self.chunk = chunk
        self.reverted = reverted  # hash of a mined transaction that reverted


def _error_name(exc: BaseException) -> str:
    return type(exc).__name__


@contextlib.contextmanager
def _progress(enabled: bool, total: int, completed: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from supplytrace.console import err_console

    with Progress(
        TextColumn("registering"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
    ) as bar:
        task = bar.add_task("register", total=total, completed=completed)
        yield lambda n: bar.update(task, completed=n)


@contextlib.contextmanager
def _quiet_ape() -> Iterator[None]:
    try:
        from ape.logging import LogLevel, logger
    except ImportError:  # pragma: no cover
        yield
        return
    with logger.at_level(LogLevel.WARNING):
        yield


def run_batch(
    plan: Plan,
    registry: Any,
    signer: Any,
    *,
    provider: Any,
    resolver: str | None = None,
    progress: bool = True,
    tx_link: Callable[[str], str | None] | None = None,
    from_block: int = 0,
    max_items_per_tx: int | None = None,
    check: ChainCheck | None = None,
    on_chunk: Callable[[TxRecord], None] | None = None,
    before_send: Callable[[int, int], None] | None = None,
    pending_timeout: float = DEFAULT_PENDING_TIMEOUT,
    mining_timeout: float = DEFAULT_MINING_TIMEOUT,
) -> BatchResult:
    """Register every item of ``plan`` not yet on chain and return one receipt row per item.

    ``check`` is the result of :func:`check_on_chain` if the caller has just run it (after
    :func:`wait_for_pending`); otherwise both run here. ``from_block`` (the registry's deployment
    block) bounds the log search for items registered by an earlier run. ``on_chunk`` is called
    after each confirmed transaction (an exception there stops the run; a rerun finishes it).
    ``before_send(items, transactions)`` is called once before the first transaction, only if
    there is something to send: the place to ask for confirmation and unlock a keystore account
    (``signer.set_autosign(True)``; ape otherwise asks before every transaction). An exception
    there sends nothing.
    """
    address = _address(signer)
    if check is None:
        wait_for_pending(provider, address, timeout=pending_timeout)
        check = check_on_chain(plan, registry, address)
    sizing = chunk_size(provider, max_items_per_tx)
    _check_funds(provider, address, check.remaining_count, sizing)
    if before_send is not None and check.remaining_count:
        planned = sum(-(-len(g.remaining) // sizing.items_per_tx) for g in check.groups)
        before_send(check.remaining_count, planned)
    located: dict[bytes, tuple[str, int]] = {}  # item id -> (tx hash, block), sent by this run
    transactions: list[TxRecord] = []
    items_per_tx = sizing.items_per_tx
    current = check

    with _quiet_ape(), _progress(progress, plan.size, plan.size - check.remaining_count) as show:

        def advance() -> None:
            show(len(current.done | located.keys()))

        for _round in range(5):
            try:
                for state in current.groups:
                    items_per_tx = _register_group(
                        state,
                        registry,
                        signer,
                        provider,
                        sizing,
                        items_per_tx,
                        located,
                        transactions,
                        mining_timeout,
                        advance,
                        on_chunk,
                    )
                break
            except _ChainChangedError as retry:
                wait_for_pending(provider, address, timeout=pending_timeout)
                current = check_on_chain(plan, registry, address)
                still = {i.item_id for g in current.groups for i in g.remaining}
                if retry.reverted and retry.chunk <= still:
                    raise BatchError(
                        f"transaction {retry.reverted} reverted although none of its items was registered "
                        "meanwhile; look it up on a block explorer, then run the command again (it registers "
                        "only what is missing)."
                    ) from None
                advance()
        else:
            raise BatchError(
                "items of this batch kept being registered by another process while this one ran; "
                "stop the other process and run the command again."
            )
    used = Sizing(sizing.gas_cap, sizing.gas_budget, items_per_tx)
    return _result(
        plan, registry, provider, current, located, transactions, used, resolver, tx_link, from_block
    )


def _register_group(
    state: GroupState,
    registry: Any,
    signer: Any,
    provider: Any,
    sizing: Sizing,
    items_per_tx: int,
    located: dict[bytes, tuple[str, int]],
    transactions: list[TxRecord],
    mining_timeout: float,
    show: Callable[[], None],
    on_chunk: Callable[[TxRecord], None] | None,
) -> int:
    todo = [i for i in state.remaining if i.item_id not in located]
    address = _address(signer)
    start = 0
    while start < len(todo):
        chunk = todo[start : start + items_per_tx]
        serials = [encode_code(i.key.serial) for i in chunk]
        data = _hex(registry.registerItems.encode_input(state.lot_id, serials))
        estimate = _estimate(registry, provider, address, data, state.lot_id, serials, signer)
        if estimate > sizing.gas_budget and len(chunk) > 1:
            items_per_tx = max(1, len(chunk) * sizing.gas_budget // estimate)
            continue
        gas_limit = min(sizing.gas_cap, estimate + estimate // 5)
        tx_hash = _send(registry, provider, signer, address, data, gas_limit)
        block, gas_used, ok = wait_mined(provider, tx_hash, timeout=mining_timeout)
        if not ok:
            # Most likely another process registered one of these items after our estimate.
            raise _ChainChangedError(frozenset(i.item_id for i in chunk), reverted=tx_hash)
        for planned in chunk:
            located[planned.item_id] = (tx_hash, block)
        record = TxRecord(tx_hash, block, state.lot_id, len(chunk), gas_used, gas_limit)
        transactions.append(record)
        show()
        if on_chunk is not None:
            on_chunk(record)
        start += len(chunk)
    return items_per_tx


def _estimate(
    registry: Any, provider: Any, address: str, data: str, lot_id: int, serials: list[bytes], signer: Any
) -> int:
    """eth_estimateGas of a chunk. A revert becomes :class:`_ChainChangedError` (an item got
    registered meanwhile) or a :class:`BatchError` with the contract error's plain sentence."""
    # The raw JSON-RPC answer keeps the revert data (``error.data``), which ape's make_request drops.
    call = {"from": address, "to": _address(registry), "data": data}
    answer = provider.web3.provider.make_request("eth_estimateGas", [call])
    if "error" not in answer:
        return _int(answer["result"])
    error = answer["error"]
    decoded = decode_revert(registry, error.get("data"))
    if decoded is None:  # no revert data: let ape explain (or raise the node's message)
        try:
            registry.registerItems.estimate_gas_cost(lot_id, serials, sender=signer)
        except Exception as exc:
            if _error_name(exc) == "ItemAlreadyRegistered":
                raise _ChainChangedError from exc
            raise
        raise BatchError(f"the node refused to estimate the batch's gas: {error.get('message', error)}.")
    name, inputs = decoded
    if name == "ItemAlreadyRegistered":
        raise _ChainChangedError
    from supplytrace.errors import explain_custom_error

    raise BatchError(
        explain_custom_error(name, inputs) or f"the registry refused the batch with {name}({inputs})."
    )


def decode_revert(registry: Any, data: Any) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) of the registry custom error encoded in revert ``data``, or None."""
    try:
        raw = (
            bytes(data)
            if isinstance(data, bytes | bytearray)
            else bytes.fromhex(str(data).removeprefix("0x"))
        )
    except ValueError:
        return None
    if len(raw) < 4:
        return None
    from eth_abi import decode

    for abi in registry.contract_type.errors:
        if keccak(text=abi.selector)[:4] == raw[:4]:
            try:
                values = decode([i.canonical_type for i in abi.inputs], raw[4:])
            except Exception:
                return None
            return str(abi.name), {str(i.name): v for i, v in zip(abi.inputs, values, strict=True)}
    return None


def _send(registry: Any, provider: Any, signer: Any, address: str, data: str, gas_limit: int) -> str:
    """Sign with ``signer`` (ape: keystore prompt or test key) and send; returns the hash at once.

    Sent raw so that the hash is known before any wait and no ape receipt processing (which
    decodes every log) slows the batch down.
    """
    txn = provider.network.ecosystem.create_transaction(
        receiver=_address(registry), data=data, gas_limit=gas_limit, sender=address
    )
    txn.nonce = _int(provider.make_request("eth_getTransactionCount", [address, "pending"]))
    txn = signer.prepare_transaction(txn)
    signed = signer.sign_transaction(txn)
    if signed is None:
        raise BatchError("the account declined to sign the transaction; nothing more was sent.")
    raw = "0x" + bytes(signed.serialize_transaction()).hex()
    return _hex(provider.make_request("eth_sendRawTransaction", [raw]))


def _check_funds(provider: Any, address: str, count: int, sizing: Sizing) -> None:
    if count == 0:
        return
    txs = -(-count // sizing.items_per_tx)
    gas = count * PER_ITEM_GAS + txs * BASE_GAS
    price = _int(provider.make_request("eth_gasPrice", []))
    balance = _int(provider.make_request("eth_getBalance", [address, "latest"]))
    if price and balance < gas * price:
        raise BatchError(
            f"the signing account {address} has {balance / 1e18:.6f} ETH but registering {count} items "
            f"takes about {gas * price / 1e18:.6f} ETH at the current gas price; fund it and run the "
            "command again."
        )


def _result(
    plan: Plan,
    registry: Any,
    provider: Any,
    check: ChainCheck,
    located: dict[bytes, tuple[str, int]],
    transactions: list[TxRecord],
    sizing: Sizing,
    resolver: str | None,
    tx_link: Callable[[str], str | None] | None,
    from_block: int,
) -> BatchResult:
    if resolver is None:
        from supplytrace.core.config import load_settings

        resolver = load_settings().resolver
    registry_address = _address(registry)
    lot_of: dict[bytes, int] = {}
    earlier: dict[int, list[bytes]] = defaultdict(list)
    for state in check.groups:
        for planned in state.group.items:
            lot_of[planned.item_id] = state.lot_id
            if planned.item_id not in located:
                earlier[state.lot_id].append(planned.item_id)
    # Every item must now be on chain in its lot; anything else is a bug or a reorg, never silent.
    items = plan.items
    missing = [
        planned.line
        for planned, (status, lot) in zip(
            items, item_statuses(registry, [i.item_id for i in items]), strict=True
        )
        if status == 0 or lot != lot_of[planned.item_id]
    ]
    if missing:
        raise BatchError(
            f"{len(missing)} rows (lines {_ranges(missing)}) are not registered after the run (a chain "
            "reorganisation?); run the command again to register them."
        )
    found: dict[bytes, tuple[str, int]] = {}
    for lot_id, lot_ids in earlier.items():
        found.update(find_registrations(provider, registry_address, lot_id, lot_ids, from_block))
    rows = []
    for planned in items:
        here = located.get(planned.item_id)
        where = here or found.get(planned.item_id)
        tx_hash, block = where if where else (None, None)
        rows.append(
            ReceiptRow(
                line=planned.line,
                gtin=planned.key.gtin,
                serial=planned.key.serial,
                lot=planned.key.lot or "",
                lot_id=lot_of[planned.item_id],
                item_id=planned.item_id_hex,
                digital_link=planned.key.digital_link(resolver),
                outcome=OUTCOME_REGISTERED if here else OUTCOME_RESUMED,
                tx_hash=tx_hash,
                block=block,
                explorer_link=tx_link(tx_hash) if tx_link and tx_hash else None,
                extra=planned.extra,
            )
        )
    return BatchResult(
        rows=tuple(rows), transactions=tuple(transactions), sizing=sizing, extra_columns=plan.extra_columns
    )


# ----------------------------------------------------------------------------------------------
# Receipt
# ----------------------------------------------------------------------------------------------


def receipt_header(extra_columns: Sequence[str]) -> list[str]:
    """Receipt columns: :data:`RECEIPT_COLUMNS` then the CSV's own columns (``csv_`` prefixed on a clash)."""
    return [*RECEIPT_COLUMNS, *(_extra_name(c) for c in extra_columns)]


def _extra_name(column: str) -> str:
    return f"csv_{column}" if column.lower() in RECEIPT_COLUMNS else column


def write_receipt(result: BatchResult, path: str | os.PathLike[str], *, jsonl: bool = False) -> Path:
    """Write the receipt CSV atomically (temporary file + rename); with ``jsonl`` also
    ``<path>.jsonl`` (one JSON object per item, the CSV's extra columns under ``metadata``)."""
    target = Path(path)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(receipt_header(result.extra_columns))
    for row in result.rows:
        writer.writerow(
            [
                row.line,
                row.gtin,
                row.serial,
                row.lot,
                row.lot_id,
                row.item_id,
                row.digital_link,
                row.outcome,
                row.tx_hash or "",
                "" if row.block is None else row.block,
                row.explorer_link or "",
                *(row.extra.get(c, "") for c in result.extra_columns),
            ]
        )
    _atomic_write(target, buffer.getvalue())
    if jsonl:
        lines = []
        for row in result.rows:
            data = {c: getattr(row, c) for c in RECEIPT_COLUMNS}
            data["metadata"] = dict(row.extra)
            lines.append(json.dumps(data, ensure_ascii=False))
        _atomic_write(target.with_name(target.name + ".jsonl"), "\n".join(lines) + "\n")
    return target


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would survive the rename
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def default_receipt_path(csv_path: str | os.PathLike[str]) -> Path:
    """``items.csv`` -> ``items.receipt.csv`` next to it."""
    path = Path(csv_path)
    return path.with_name(f"{path.stem}.receipt.csv")


# ----------------------------------------------------------------------------------------------
# The one entry point
# ----------------------------------------------------------------------------------------------


def validate_csv(
    path: str | os.PathLike[str],
    registry: Any,
    signer: Any,
    *,
    provider: Any,
    pending_timeout: float = DEFAULT_PENDING_TIMEOUT,
) -> tuple[Plan, ChainCheck]:
    """Every check of :func:`register_csv`, nothing sent. Raises :class:`BatchValidationError` with
    the problems of the file and of the chain together."""
    source = str(path)
    try:
        plan = plan_batch(read_rows(path), source=source)
        errors: list[RowError] = []
    except BatchValidationError as exc:
        if exc.plan is None:
            raise
        plan, errors = exc.plan, list(exc.errors)
    address = _address(signer)
    wait_for_pending(provider, address, timeout=pending_timeout)
    try:
        check = check_on_chain(plan, registry, address)
    except BatchValidationError as exc:
        errors.extend(exc.errors)
    if errors:
        raise BatchValidationError(errors, source=source)
    return plan, check


def register_csv(
    path: str | os.PathLike[str],
    registry: Any,
    signer: Any,
    provider: Any,
    receipt_path: str | os.PathLike[str] | None = None,
    *,
    resolver: str | None = None,
    tx_link: Callable[[str], str | None] | None = None,
    from_block: int = 0,
    max_items_per_tx: int | None = None,
    progress: bool = True,
    jsonl: bool = False,
    on_chunk: Callable[[TxRecord], None] | None = None,
    before_send: Callable[[int, int], None] | None = None,
    pending_timeout: float = DEFAULT_PENDING_TIMEOUT,
    mining_timeout: float = DEFAULT_MINING_TIMEOUT,
) -> BatchResult:
    """Validate ``path`` completely, register what is not on chain yet, write the receipt.

    Returns the result; its ``receipt_path`` is where the receipt went (default:
    ``<name>.receipt.csv`` next to the CSV).
    Raises :class:`BatchValidationError` (nothing sent), :class:`BatchInterruptedError` on Ctrl-C
    (rerun to finish) or :class:`BatchError`.
    """
    plan, check = validate_csv(path, registry, signer, provider=provider, pending_timeout=pending_timeout)
    try:
        result = run_batch(
            plan,
            registry,
            signer,
            provider=provider,
            resolver=resolver,
            progress=progress,
            tx_link=tx_link,
            from_block=from_block,
            max_items_per_tx=max_items_per_tx,
            check=check,
            on_chunk=on_chunk,
            before_send=before_send,
            pending_timeout=pending_timeout,
            mining_timeout=mining_timeout,
        )
    except KeyboardInterrupt:
        raise BatchInterruptedError(
            f"interrupted; the items confirmed so far stay registered. Run the same command again to "
            f"register the rest of {path} (nothing is registered twice)."
        ) from None
    target = write_receipt(result, receipt_path or default_receipt_path(path), jsonl=jsonl)
    return dataclasses.replace(result, receipt_path=target)
