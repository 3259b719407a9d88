"""What goes wrong in a batch: one problem of one row (:class:`RowError`), the file's problems
all at once (:class:`BatchValidationError`: nothing was sent), an interrupted run
(:class:`BatchInterruptedError`: a rerun finishes it), and anything else that stops a run
(:class:`BatchError`). Each is a :class:`~supplytrace.core.errors.SupplytraceError` whose message
says what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from supplytrace.core.errors import InterruptedRunError, SupplytraceError

if TYPE_CHECKING:
    from supplytrace.batch.plan import Plan


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


class BatchError(SupplytraceError):
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


class BatchInterruptedError(BatchError, InterruptedRunError):
    """The run was interrupted; a rerun finishes the job (exit code 3)."""


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
        where = "file" if not numbers else ("line " if len(numbers) == 1 else "lines ") + line_ranges(numbers)
        if column:
            where += f" ({column})"
        out.append(f"{where}: {message}")
    if limit is not None and len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more problems."]
    return out


def line_ranges(numbers: Sequence[int]) -> str:
    """``2-5, 9, 11-12`` for the sorted line numbers ``numbers``."""
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
