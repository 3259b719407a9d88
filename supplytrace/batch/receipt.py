"""What a run produced: one receipt row per CSV row, those done by an earlier run included
(their transaction is found in the registry's logs), and the receipt file, written atomically."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supplytrace.batch.check import ChainCheck
from supplytrace.batch.errors import BatchError, line_ranges
from supplytrace.batch.plan import Plan
from supplytrace.chain.gas import Sizing, ether
from supplytrace.chain.logs import RawLog, fetch_logs
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import hex_int
from supplytrace.core.events import REGISTRATION, SPECS, block_int, id_topic

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
#: A cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

OUTCOME_REGISTERED = "registered"
OUTCOME_RESUMED = "already registered, resumed"


@dataclass(frozen=True)
class TxRecord:
    tx_hash: str
    block: int
    lot_id: int
    items: int
    gas_used: int
    gas_limit: int
    fee_wei: int = 0


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
    codes_path: Path | None = None  # with hidden codes: the printer's (secret) codes file
    coded: int = 0  # items with a hidden code in it
    trees: tuple[Path, ...] = ()  # tree documents of the committed roots

    def summary(self) -> str:
        """What happened, in one or two sentences."""
        txs = len(self.transactions)
        parts = [
            f"registered {self.registered:,} item{'s' if self.registered != 1 else ''} in {txs} "
            f"transaction{'s' if txs != 1 else ''}"
            + (
                f" (up to {self.sizing.items_per_tx} items each, {self.gas_used:,} gas, total fee "
                f"{ether(self.fee_wei)})"
                if txs
                else ""
            )
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
    def fee_wei(self) -> int:
        return sum(t.fee_wei for t in self.transactions)

    @property
    def unlocated(self) -> int:
        """Rows whose transaction was not found in the logs (``from_block`` after it?)."""
        return sum(1 for r in self.rows if r.tx_hash is None)


def find_registrations(
    reads: RegistryReads, lot_id: int, item_ids: Sequence[bytes], from_block: int = 0
) -> dict[bytes, tuple[str, int]]:
    """(tx hash, block) of the registration event of each of ``item_ids`` in lot ``lot_id``, from
    the registry's logs since ``from_block``.

    Read as typed raw logs (``RawLog``), not decoded: an item's id is the registration's first
    indexed parameter (its spec's subject), so a rerun of 10,000 rows decodes nothing."""
    wanted = set(item_ids)
    if not wanted:
        return {}
    spec = SPECS[REGISTRATION]
    assert spec.subject == "item"  # topic 1 is the item id

    def request(method: str, params: list[Any]) -> Any:
        return reads.rpc.request(method, params, result=list[RawLog])

    latest = hex_int(reads.rpc.request("eth_blockNumber", []))
    if latest < from_block:
        return {}
    topics = [spec.topic0, None, id_topic(lot_id)]
    found: dict[bytes, tuple[str, int]] = {}
    for log in fetch_logs(request, reads.address, topics, from_block, latest):
        if log.removed or len(log.topics) != spec.topics + 1 or log.topics[0].lower() != spec.topic0:
            continue
        item = bytes.fromhex(log.topics[1][2:])
        if item in wanted:
            found[item] = (log.transaction_hash, block_int(log.block_number))
    return found


def receipt_rows(
    plan: Plan,
    reads: RegistryReads,
    check: ChainCheck,
    located: Mapping[bytes, tuple[str, int]],
    *,
    resolver: str,
    tx_link: Callable[[str], str | None] | None = None,
    from_block: int = 0,
) -> tuple[ReceiptRow, ...]:
    """One row per planned item, in file order, after checking that every item is now on chain
    in its lot. ``located``: item id -> (tx hash, block) of what this run registered; the
    transactions of the rest (an earlier run's) are found in the logs."""
    lot_of: dict[bytes, int] = {}
    earlier: dict[int, list[bytes]] = defaultdict(list)
    for state in check.groups:
        for planned in state.group.items:
            lot_of[planned.item_id] = state.lot_id
            if planned.item_id not in located:
                earlier[state.lot_id].append(planned.item_id)
    # Every item must now be on chain in its lot; anything else is a bug or a reorg, never silent.
    items = plan.items
    statuses = reads.item_statuses([i.item_id for i in items])
    missing = [
        planned.line
        for planned, (status, lot) in zip(items, statuses, strict=True)
        if status == 0 or lot != lot_of[planned.item_id]
    ]
    if missing:
        raise BatchError(
            f"{len(missing)} rows (lines {line_ranges(missing)}) are not registered after the run (a chain "
            "reorganisation?); run the command again to register them."
        )
    found: dict[bytes, tuple[str, int]] = {}
    for lot_id, lot_items in earlier.items():
        found.update(find_registrations(reads, lot_id, lot_items, from_block))
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
    return tuple(rows)


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
    # RFC 4180 line ends: the csv module then quotes a cell holding a carriage return, which a
    # "\n" terminator would leave bare (the row would split in two when read back).
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(receipt_header(result.extra_columns))
    for row in result.rows:
        cells = [
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
        writer.writerow([spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in cells])
    atomic_write(target, buffer.getvalue())
    if jsonl:
        lines = []
        for row in result.rows:
            data = {c: getattr(row, c) for c in RECEIPT_COLUMNS}
            data["metadata"] = dict(row.extra)
            lines.append(json.dumps(data, ensure_ascii=False))
        atomic_write(target.with_name(target.name + ".jsonl"), "\n".join(lines) + "\n")
    return target


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it and never runs it: a leading ``'`` when it would start a
    formula (the JSON Lines receipt keeps the exact value)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def atomic_write(target: Path, text: str) -> None:
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
