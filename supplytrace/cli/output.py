"""What the command line prints (rich, to stdout; errors and progress to stderr) and its one
error boundary: every expected failure is a :class:`~supplytrace.core.errors.SupplytraceError`
whose sentence is printed alone (a traceback only with ``--verbose``), with its exit code (1: a
mistake to fix, 2: the node or chain failed, 3: interrupted, a rerun finishes the job)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from supplytrace.core.errors import SupplytraceError, explain
from supplytrace.core.text import ChainText

if TYPE_CHECKING:
    from supplytrace.chain.send import Sent, WaitEvent
    from supplytrace.core.records import ItemRecord
    from supplytrace.service.bulk import Cost, RunOptions
    from supplytrace.service.registry import Registry
    from supplytrace.service.results import BulkResult, Moved

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A mistake the user can fix; printed as one sentence (exit code 1 unless set)."""

    def show(self, file: Any = None) -> None:
        err_console.print(f"[bold red]error:[/] {escape(self.message)}")


def friendly_errors(func: F) -> F:
    """The error boundary of a command: known failures become one plain sentence and their exit
    code; anything else propagates (a traceback: a bug to report)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            verbose = bool(ctx and ctx.find_root().params.get("verbose"))
            sentence = str(exc) if isinstance(exc, SupplytraceError) else _outside(exc)
            if sentence is None:
                raise
            if verbose:
                err_console.print_exception()
            error = UserError(sentence)
            error.exit_code = exc.exit_code if isinstance(exc, SupplytraceError) else 1
            raise error from exc

    return wrapper  # type: ignore[return-value]


def _outside(exc: BaseException) -> str | None:
    """The sentence of a failure raised by a library (ape's own errors only when ape is loaded)."""
    import sys

    if "ape" in sys.modules:
        from supplytrace.chain.ape import explain_ape_error

        sentence = explain_ape_error(exc)
        if sentence:
            return sentence
    return explain(exc)


def report_wait(event: WaitEvent) -> None:
    """Print what waiting for a transaction went through, one line on stderr: ``waiting for 0x…
    (12 s, node at block 1234)`` every few seconds, and each replacement of one that sat."""
    err_console.print(escape(str(event)))


def sent(message: str, done: Sent, registry: Registry) -> None:
    """Print what was done, with the transaction, its block, its gas, its fee and its explorer link."""
    from supplytrace.chain.gas import ether

    message += f" (tx {done.tx_hash}, block {done.block}, {done.gas_used:,} gas, fee {ether(done.fee_wei)})"
    link = registry.tx_link(done.tx_hash)
    if link:
        message += f"\n  {link}"
    console.print(message, soft_wrap=True, markup=False)


def count(items: Sequence[Any] | int) -> str:
    n = items if isinstance(items, int) else len(items)
    return "1 item" if n == 1 else f"{n:,} items"


def confirm_cost(cost: Cost, yes: bool, signer: object = None) -> None:
    """Before a run of more than one transaction: say what it will cost (stderr) and, unless
    ``yes``, ask; no answer (stdin closed) or "no" sends nothing. Unlocks a keystore account once."""
    if cost.transactions > 1:
        err_console.print(f"this sends {cost.sentence()}.", markup=False)
        if not yes:
            try:
                agreed = click.confirm("Send them?", err=True)
            except click.Abort:
                agreed = False
            if not agreed:
                raise UserError(
                    f"nothing was sent ({cost.sentence()}); answer yes at the question, or add --yes "
                    "to send without asking."
                )
    unlock = getattr(signer, "unlock", None)  # a keystore account: unlock once, not per transaction
    if unlock is not None:
        unlock()


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt inside (a run stops between steps and says what is done),
    not ape's handler, which exits at once with 130 once ape is imported."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def bulk_run(
    registry: Registry, label: str, yes: bool, each: Callable[[Moved], str], max_per_tx: int | None = None
) -> Iterator[RunOptions]:
    """The options of a bulk run: the cost and the question (:func:`confirm_cost`), a progress
    bar on stderr, and each confirmed transaction printed (``each(moved)`` with :func:`sent`)
    once the bar is gone, also when the run is interrupted."""
    from supplytrace.service.bulk import RunOptions

    moves: list[Moved] = []
    signer = registry.sender.signer if registry.sender else None
    try:
        with interruptible(), progress_bar(label) as show:
            yield RunOptions(max_per_tx, lambda cost: confirm_cost(cost, yes, signer), show, moves.append)
    finally:
        for moved in moves:
            sent(each(moved), moved.sent, registry)


def bulk_summary(result: BulkResult, did: str, state: str) -> None:
    """After a bulk run: what it did in all (``did``: "offered {items} to X") with its gas and
    total fee when it took more than one transaction, and what an earlier run had already done."""
    from supplytrace.chain.gas import ether

    if len(result) > 1:
        say(
            f"{did.format(items=count(result.items))} in {len(result)} transactions "
            f"({result.gas_used:,} gas, total fee {ether(result.fee_wei)})"
        )
    done = len(result.done)
    if done and not result.moves:
        say(f"all {count(done)} {'was' if done == 1 else 'were'} already {state}; nothing to send.")
    elif done:
        say(f"{count(done)} {'was' if done == 1 else 'were'} already {state} (by an earlier run).")


def safe_name(text: str) -> str:
    """``text`` as a file name part: letters, digits, ``-_.``; anything else ``_``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def item_fields(record: ItemRecord) -> dict[str, Any]:
    """An item's live record by field, as `supplytrace status` shows it."""
    known = record.registered
    return {
        "item_id": record.item_id_hex,
        "status": record.status,
        "custodian": record.custodian,
        "pending_receiver": record.pending_receiver,
        "brand": record.brand,
        "lot_id": record.lot_id,
        "gtin": record.gtin14 if known else None,
        "lot_code": record.lot_code if known else None,
        "lot_metadata_hash": "0x" + record.lot_metadata_hash.hex() if known else None,
        "custody_nonce": record.custody_nonce,
        "updated_at": record.updated_at,
        "recalled": record.recalled,
        "recalled_at": record.recalled_at,
        "lot_closed": record.lot_closed,
    }


def print_fields(fields: Mapping[str, Any]) -> None:
    """``field: value`` lines: statuses by name, times as UTC dates, chain text made safe."""
    for field, value in fields.items():
        if isinstance(value, Enum):
            value = value.name.lower()
        elif isinstance(value, ChainText):
            value = str(value)
        elif field.endswith("_at") and isinstance(value, int) and value:
            value = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(value)) + f" ({value})"
        say(f"{field:>18}: {value}")


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, started by the first report ``show(done, total)``: a batch
    reports only once it sends, after its confirmation prompt and the keystore's passphrase."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err_console
    )
    task = None

    def show(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done, total=total)

    try:
        yield show
    finally:
        if task is not None:
            bar.stop()


def say(text: str) -> None:
    """Print ``text`` as it is: what users and the chain wrote is never read as rich markup."""
    console.print(text, soft_wrap=True, markup=False)


def listed(prefix: str, values: Sequence[str]) -> str:
    """``" owning GTINs A, B"`` from (" owning GTIN", [A, B]); empty for no values."""
    return f"{prefix}{'s' if len(values) > 1 else ''} {', '.join(values)}" if values else ""
