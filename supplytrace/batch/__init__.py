"""Batch registration from a CSV file: validate everything first, then register in gas-sized chunks.

The file has a header with the columns ``gtin``, ``serial`` and ``lot`` (any case, any order); every
other column is kept as item metadata and copied to the receipt. The job runs in four stages, one
module each:

1. :mod:`.csvfile` + :mod:`.plan` — :func:`read_rows` and :func:`plan_batch`: pure checks of every
   row (GTIN check digit, GS1 serial and lot code character set and length, items repeated in the
   file); rows grouped per (GTIN, lot), as ``registerItems(lotId, serials)`` takes one lot per call.
2. :mod:`.check` — :func:`check_on_chain`, over :class:`~supplytrace.chain.reads.RegistryReads`:
   every lot exists and belongs to the signer, every GTIN is the signer's, no item is registered
   in another lot. Items already registered in *their* lot are done (a rerun after an
   interruption). Every problem of every row is reported at once, each as one sentence with the
   fix, and nothing is sent while any row is bad.
3. :mod:`.run` — :func:`run_batch`, over :class:`~supplytrace.chain.send.Sender`: waits until the
   signer has no pending transaction, then registers what remains in chunks sized under
   min(EIP-7825 cap, block gas limit), one transaction at a time, each confirmed before the next;
   a race with another process (``ItemAlreadyRegistered``) re-reads the chain and goes on.
4. :mod:`.receipt` — :func:`write_receipt`: one row per CSV row, those done by an earlier run
   included (their transaction is found in the registry's logs), written atomically.

With hidden codes (``codes_home``), :mod:`.hidden` gives every item a secret code and every
chunk one code tree (``registerItemsWithCodes``), all written to the printer's codes file before
anything is sent, and keeps the tree document of each committed root for claims.

:func:`register_csv` runs all four; rerunning it after any interruption finishes the job without
registering anything twice and without losing a row. Problems are :mod:`.errors`. Nothing here
imports ape or prints: signing is the Sender's signer, progress a callback.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from supplytrace.batch.check import ChainCheck, GroupState, check_on_chain
from supplytrace.batch.csvfile import REQUIRED_COLUMNS, CsvFile, Row, parse_rows, read_rows
from supplytrace.batch.errors import (
    BatchError,
    BatchInterruptedError,
    BatchValidationError,
    RowError,
    format_errors,
)
from supplytrace.batch.hidden import CODES_COLUMNS, CodeBook, default_codes_path
from supplytrace.batch.plan import Group, Plan, PlannedItem, plan_batch
from supplytrace.batch.receipt import (
    OUTCOME_REGISTERED,
    OUTCOME_RESUMED,
    RECEIPT_COLUMNS,
    BatchResult,
    ReceiptRow,
    TxRecord,
    default_receipt_path,
    find_registrations,
    receipt_header,
    write_receipt,
)
from supplytrace.batch.run import (
    BASE_GAS,
    DEFAULT_PENDING_TIMEOUT,
    PER_ITEM_GAS,
    Progress,
    chunk_size,
    pending_count,
    registry_reads,
    run_batch,
    wait_for_pending,
)
from supplytrace.chain.gas import GAS_MARGIN, Sizing
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.send import TX_GAS_CAP, Sender


def validate_csv(
    path: str | os.PathLike[str],
    sender: Sender,
    *,
    reads: RegistryReads | None = None,
    pending_timeout: float = DEFAULT_PENDING_TIMEOUT,
) -> tuple[Plan, ChainCheck]:
    """Every check of :func:`register_csv` for ``sender``'s account, nothing sent. Raises
    :class:`BatchValidationError` with the problems of the file and of the chain together."""
    source = str(path)
    try:
        plan = plan_batch(read_rows(path), source=source)
        errors: list[RowError] = []
    except BatchValidationError as exc:
        if exc.plan is None:
            raise
        plan, errors = exc.plan, list(exc.errors)
    reads = reads or registry_reads(sender)
    wait_for_pending(sender.rpc, sender.address, timeout=pending_timeout)
    try:
        check = check_on_chain(plan, reads, sender.address)
    except BatchValidationError as exc:
        errors.extend(exc.errors)
    if errors:
        raise BatchValidationError(errors, source=source)
    return plan, check


def register_csv(
    path: str | os.PathLike[str],
    sender: Sender,
    receipt_path: str | os.PathLike[str] | None = None,
    *,
    resolver: str,
    reads: RegistryReads | None = None,
    tx_link: Callable[[str], str | None] | None = None,
    from_block: int = 0,
    max_items_per_tx: int | None = None,
    jsonl: bool = False,
    on_chunk: Callable[[TxRecord], None] | None = None,
    before_send: Callable[[int, int], None] | None = None,
    on_progress: Progress | None = None,
    pending_timeout: float = DEFAULT_PENDING_TIMEOUT,
    codes_home: str | os.PathLike[str] | None = None,
) -> BatchResult:
    """Validate ``path`` completely, register what is not on chain yet with ``sender``, write the
    receipt (Digital Links on ``resolver``).

    With ``codes_home`` every item gets a hidden code (:mod:`.hidden`): the codes file
    (``<name>.codes.csv`` beside the receipt, for the printer) is written before anything is sent,
    and the tree document of every committed root goes under ``codes_home`` (the brand's
    ``SUPPLYTRACE_HOME``).

    Returns the result; its ``receipt_path`` is where the receipt went (default:
    ``<name>.receipt.csv`` next to the CSV), its ``codes_path`` the codes file.
    Raises :class:`BatchValidationError` (nothing sent), :class:`BatchInterruptedError` on Ctrl-C
    (rerun to finish) or another :class:`~supplytrace.core.errors.SupplytraceError`.
    """
    reads = reads or registry_reads(sender)
    plan, check = validate_csv(path, sender, reads=reads, pending_timeout=pending_timeout)
    receipt_path = receipt_path or default_receipt_path(path)
    codes = None
    if codes_home is not None:
        codes = CodeBook.open(
            default_codes_path(receipt_path),
            plan,
            resolver=resolver,
            home=Path(codes_home),
            chain_id=sender.chain_id,
            registry=reads.address,
        )
    try:
        result = run_batch(
            plan,
            sender,
            resolver=resolver,
            reads=reads,
            tx_link=tx_link,
            from_block=from_block,
            max_items_per_tx=max_items_per_tx,
            check=check,
            on_chunk=on_chunk,
            before_send=before_send,
            on_progress=on_progress,
            pending_timeout=pending_timeout,
            codes=codes,
        )
    except KeyboardInterrupt:
        raise BatchInterruptedError(
            f"interrupted; the items confirmed so far stay registered. Run the same command again to "
            f"register the rest of {path} (nothing is registered twice)."
        ) from None
    target = write_receipt(result, receipt_path, jsonl=jsonl)
    if codes is None:
        return dataclasses.replace(result, receipt_path=target)
    return dataclasses.replace(
        result,
        receipt_path=target,
        codes_path=codes.path,
        coded=len(codes.codes),
        trees=tuple(dict.fromkeys(codes.trees_written)),
    )


__all__ = [
    "BASE_GAS",
    "CODES_COLUMNS",
    "DEFAULT_PENDING_TIMEOUT",
    "GAS_MARGIN",
    "OUTCOME_REGISTERED",
    "OUTCOME_RESUMED",
    "PER_ITEM_GAS",
    "RECEIPT_COLUMNS",
    "REQUIRED_COLUMNS",
    "TX_GAS_CAP",
    "BatchError",
    "BatchInterruptedError",
    "BatchResult",
    "BatchValidationError",
    "ChainCheck",
    "CodeBook",
    "CsvFile",
    "Group",
    "GroupState",
    "Plan",
    "PlannedItem",
    "Progress",
    "ReceiptRow",
    "Row",
    "RowError",
    "Sizing",
    "TxRecord",
    "check_on_chain",
    "chunk_size",
    "default_codes_path",
    "default_receipt_path",
    "find_registrations",
    "format_errors",
    "parse_rows",
    "pending_count",
    "plan_batch",
    "read_rows",
    "receipt_header",
    "register_csv",
    "run_batch",
    "validate_csv",
    "wait_for_pending",
    "write_receipt",
]
