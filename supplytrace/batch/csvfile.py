"""Reading a batch CSV: UTF-8 (with or without BOM), ``,`` ``;`` or tab separated, a header with
the columns ``gtin``, ``serial`` and ``lot`` in any case and order; every other column is kept as
the item's metadata. Line numbers are the file's own, so every problem can name its line."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from supplytrace.batch.errors import BatchValidationError, RowError

REQUIRED_COLUMNS = ("gtin", "serial", "lot")


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
    _check_header(names, lowered, header_line, source)

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


def _check_header(names: list[str], lowered: list[str], header_line: int, source: str) -> None:
    """Every required column once, no column named twice."""
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


def _dialect(text: str) -> type[csv.Dialect]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    delimiter = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect
