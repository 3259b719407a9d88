"""The FSMA 204 export: the sortable spreadsheet of the Critical Tracking Events in a date range,
as CSV or XLSX (the FDA asks for "an electronic sortable spreadsheet", 21 CFR 1.1455(c)(3)(ii)).

History comes from any :class:`~supplytrace.chain.history.HistorySource` (the event index plus
the chain after it, or the chain's logs), as for the EPCIS export: each lot's events, its items'
and their containers'. Each lot's GTIN, code, registrar and measure come from its live record
(``getLot``), its product name from its verified metadata file when the page's store holds it,
names of addresses from the participant events. The mapping is
:func:`supplytrace.core.fsma204.cte_rows`.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from supplytrace.batch.receipt import atomic_write, spreadsheet_safe
from supplytrace.chain.history import HistorySource
from supplytrace.chain.reads import RegistryReads
from supplytrace.core.events import Logged, chain_order
from supplytrace.core.fsma204 import COLUMNS, CteRow, LotInfo, Party, cte_rows, input_lots
from supplytrace.core.records import LotRecord
from supplytrace.core.story import addresses
from supplytrace.service.exports import ExportError, code_text
from supplytrace.web.lotdata import MetadataStore

#: Characters of each column an XLSX sheet shows before the reader widens it.
_WIDTHS = (18, 22, 40, 32, 10, 10, 48, 48, 48, 48, 40, 22, 68)


def export_fsma204(
    source: HistorySource,
    reads: RegistryReads,
    *,
    since: int,
    until: int,
    lot_ids: Sequence[int] = (),
    metadata: MetadataStore | None = None,
) -> list[CteRow]:
    """The CTE rows of ``lot_ids`` (every lot of the registry when none is named) whose block
    time is in ``since``..``until`` (Unix times, both included), sorted by date. Raises
    :class:`~supplytrace.service.exports.ExportError` when the range holds no CTE."""
    wanted = sorted(set(lot_ids)) or list(range(1, reads.lot_count() + 1))
    records = _records(reads, wanted)
    events: dict[tuple[int, int], Logged] = {}
    items: list[bytes] = []
    for lot_id in wanted:
        history = source.lot(lot_id, item_limit=0)
        if history is not None:
            events.update((log.position, log) for log in history.events)
        items += [item.item_id for item in source.lot_items(lot_id)]
    if items:
        events.update((log.position, log) for log in source.items_events(items))
    ordered = chain_order(list(events.values()))
    records.update(_records(reads, sorted(input_lots(ordered) - set(records))))  # to name a blend's inputs
    lots = {lot_id: _lot_info(record, metadata) for lot_id, record in records.items()}
    named = source.participants(addresses(log.event for log in ordered))
    parties = {
        address: Party(
            str(p.verified_name) if p.verified_name is not None else None,
            str(p.description) if p.description is not None else None,
        )
        for address, p in named.items()
    }
    rows = cte_rows(ordered, lots, since=since, until=until, parties=parties, wanted=set(wanted))
    if not rows:
        raise ExportError(
            "no critical tracking event (packing, blend, shipping or receiving) of "
            + (
                f"lot{'s' if len(lot_ids) > 1 else ''} {', '.join(map(str, wanted))}"
                if lot_ids
                else "any lot"
            )
            + " happened in these dates; widen --from/--to or name other lots."
        )
    return rows


def _records(reads: RegistryReads, lot_ids: Sequence[int]) -> dict[int, LotRecord]:
    found = reads.run(reads.lots_read(lot_ids)) if lot_ids else []
    return {record.lot_id: record for record in found if record is not None}


def _lot_info(record: LotRecord, metadata: MetadataStore | None) -> LotInfo:
    product = None
    if metadata is not None:
        document = metadata.get(record.metadata_hash).document  # only when it hashes to the chain's
        name = document.get("product") if document else None
        if isinstance(name, dict):  # a name in several languages (docs/languages.md): the English one
            name = name.get("en")
        product = name if isinstance(name, str) and name.strip() else None
    return LotInfo(
        record.gtin14,
        code_text(record.lot_code),
        record.registrar,
        product,
        record.unit,
        record.item_quantity,
    )


def csv_text(rows: Sequence[CteRow]) -> str:
    """The rows as CSV with a header of the KDE names; no cell starts a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_safe(c) if isinstance(c, str) else c for c in row.cells()])
    return buffer.getvalue()


def write_xlsx(rows: Sequence[CteRow], target: Path) -> None:
    """The rows as an XLSX workbook (one sheet, the header frozen and filterable); a text that
    looks like a formula is stored as text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "FSMA 204 CTEs"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(list(row.cells()))
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if cell.data_type == "f":  # openpyxl reads a leading "=" as a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for n, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_out(out: Path) -> str:
    """The format ``out`` names (``csv`` or ``xlsx``), with one sentence for any other file."""
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in ("csv", "xlsx"):
        raise ExportError(f"--out {out} is neither .csv nor .xlsx; name the file FILE.csv or FILE.xlsx.")
    return suffix


def write_fsma204(rows: Sequence[CteRow], out: Path | None) -> str | None:
    """Write the rows to ``out`` (``.csv`` or ``.xlsx``); without ``out``, the CSV text (for stdout)."""
    if out is None:
        return csv_text(rows)
    if check_out(out) == "csv":
        atomic_write(out, csv_text(rows))
    else:
        write_xlsx(rows, out)
    return None
