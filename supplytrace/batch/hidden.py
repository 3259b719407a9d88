"""Hidden codes of a batch: a fresh secret code for every item, one Merkle tree per transaction.

With hidden codes each chunk of a lot is sent as ``registerItemsWithCodes(lotId, serials, root)``
where ``root`` is the root of the chunk's :class:`~supplytrace.core.codes.CodeTree` (leaves
``leaf(itemId, code)``). What a chunk holds is decided *before* anything is sent, and written
(atomically) to the codes file, so that a rerun after any interruption reuses exactly the same
codes and trees and no item is ever registered with a code the printer does not have:

    serial,digital_link,code,item_id,code_root

one row per item with a code, in file order: ``code`` as printed (``7KQM-2XHD-9PRW``; the
printer's column), ``code_root`` the root of the item's tree (planned, or committed on chain).
The file is secret: whoever holds it can claim every item. It goes to the printer only.

A rerun reads the file back (its bytes are hostile like any CSV): items already registered keep
their rows when their root is committed on chain for their lot (otherwise they were registered
without this code, and lose it); the trees of the remaining items are kept when all their
items still remain, and planned anew (same codes, new roots, the file rewritten) otherwise.
After each mined chunk, and for every committed root a rerun finds, the tree document
(:func:`~supplytrace.core.codes.tree_document`: root, lot, leaves; no codes) is written to
:func:`~supplytrace.core.codes.tree_path` under the brand's home, where claims find it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from supplytrace.batch.check import ChainCheck, GroupState
from supplytrace.batch.errors import BatchError
from supplytrace.batch.plan import Plan, PlannedItem
from supplytrace.batch.receipt import atomic_write, spreadsheet_safe
from supplytrace.chain.gas import BATCH_GAS
from supplytrace.chain.reads import RegistryReads
from supplytrace.core.codes import CodeTree, leaf, new_code, normalize, printed, tree_document, tree_path

CODES_COLUMNS = ("serial", "digital_link", "code", "item_id", "code_root")
#: ``registerItemsWithCodes``: measured with the other batch functions (:mod:`supplytrace.chain.gas`).
WITH_CODES_GAS = BATCH_GAS["registerItemsWithCodes"]


def default_codes_path(receipt_path: str | os.PathLike[str]) -> Path:
    """``items.receipt.csv`` -> ``items.codes.csv`` (``out.csv`` -> ``out.codes.csv``), beside it."""
    path = Path(receipt_path)
    stem = path.stem.removesuffix(".receipt")
    return path.with_name(f"{stem}.codes.csv")


@dataclass
class CodeBook:
    """The codes and trees of a batch's items, kept in the codes file at ``path``; tree documents
    go under ``home`` for ``chain_id`` and ``registry``."""

    path: Path
    plan: Plan
    resolver: str
    home: Path
    chain_id: int
    registry: str
    codes: dict[bytes, str] = field(default_factory=dict)  # item id -> code
    roots: dict[bytes, bytes] = field(default_factory=dict)  # item id -> root of its tree
    trees_written: list[Path] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        plan: Plan,
        *,
        resolver: str,
        home: Path,
        chain_id: int,
        registry: str,
    ) -> CodeBook:
        """The book of ``plan``, with the codes of the file at ``path`` when it exists (a rerun)."""
        book = cls(Path(path), plan, resolver, Path(home), chain_id, registry)
        if book.path.exists():
            book._load()
        return book

    # -- planning, before anything is sent -------------------------------------------------------

    def prepare(self, check: ChainCheck, reads: RegistryReads, items_per_tx: int) -> None:
        """Give every remaining item of ``check`` a code and a tree of at most ``items_per_tx``
        items (a tree whose items all remain is kept), settle what earlier runs left (committed
        trees get their document; codes of items registered without them are dropped), and
        write the codes file. Call it before sending anything, and again after re-reading the
        chain."""
        lot_of = {i.item_id: s.lot_id for s in check.groups for i in s.group.items}
        self._settle_done(check.done, lot_of, reads)
        for state in check.groups:
            self._plan_group(state, items_per_tx)
        self._save()

    def _settle_done(self, done: Iterable[bytes], lot_of: dict[bytes, int], reads: RegistryReads) -> None:
        by_root: dict[bytes, list[bytes]] = {}
        for item in done:
            if item not in self.roots:
                self.codes.pop(item, None)  # a code without a tree was never sent
            else:
                by_root.setdefault(self.roots[item], []).append(item)
        for root, items in by_root.items():
            lot_id = lot_of[items[0]]
            if int(reads.view("codeRootLot", root)) == lot_id:
                self._write_tree(root, lot_id)
            else:  # registered without these codes (by another run, or another process)
                for item in items:
                    self.codes.pop(item, None)
                    self.roots.pop(item, None)

    def _plan_group(self, state: GroupState, items_per_tx: int) -> None:
        remaining = {i.item_id for i in state.remaining}
        members: dict[bytes, list[bytes]] = {}
        for item, root in self.roots.items():
            members.setdefault(root, []).append(item)
        loose: list[PlannedItem] = []
        for planned in state.remaining:
            self.codes.setdefault(planned.item_id, new_code())
            tree = members.get(self.roots.get(planned.item_id, b""), [])
            kept = tree and len(tree) <= items_per_tx and set(tree) <= remaining
            if not kept:
                loose.append(planned)
        for start in range(0, len(loose), items_per_tx):
            self._assign(loose[start : start + items_per_tx])

    def _assign(self, chunk: Sequence[PlannedItem]) -> bytes:
        tree = CodeTree.of(leaf(i.item_id, self.codes[i.item_id]) for i in chunk)
        for planned in chunk:
            self.roots[planned.item_id] = tree.root
        return tree.root

    def chunks(self, items: Sequence[PlannedItem]) -> list[list[PlannedItem]]:
        """``items`` (remaining, planned) in their trees, in the order of their first item."""
        chunks: dict[bytes, list[PlannedItem]] = {}
        for planned in items:
            chunks.setdefault(self.roots[planned.item_id], []).append(planned)
        return list(chunks.values())

    def replan(self, chunks: Sequence[Sequence[PlannedItem]]) -> None:
        """New trees for unsent ``chunks`` (a chunk was too large for a transaction), written to
        the codes file before any of them is sent."""
        for chunk in chunks:
            self._assign(chunk)
        self._save()

    def root_of(self, chunk: Sequence[PlannedItem]) -> bytes:
        roots = {self.roots[i.item_id] for i in chunk}
        if len(roots) != 1:  # a bug: a chunk is always one tree
            raise BatchError("a chunk of items does not have one code tree; run the command again.")
        return roots.pop()

    def committed(self, chunk: Sequence[PlannedItem], lot_id: int) -> None:
        """The chunk was mined: keep its tree document."""
        self._write_tree(self.root_of(chunk), lot_id)

    # -- files ------------------------------------------------------------------------------------

    def _tree(self, root: bytes) -> CodeTree:
        return CodeTree.of(leaf(item, self.codes[item]) for item, r in self.roots.items() if r == root)

    def _write_tree(self, root: bytes, lot_id: int) -> None:
        target = Path(tree_path(self.home, self.chain_id, self.registry, root))
        if not target.exists():
            atomic_write(target, json.dumps(tree_document(self._tree(root), lot_id), indent=1) + "\n")
        self.trees_written.append(target)

    def _save(self) -> None:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CODES_COLUMNS)
        for planned in self.plan.items:
            code = self.codes.get(planned.item_id)
            if code is None:
                continue
            root = self.roots.get(planned.item_id)
            cells = [
                planned.key.serial,
                planned.key.digital_link(self.resolver),
                printed(code),
                planned.item_id_hex,
                "0x" + root.hex() if root else "",
            ]
            writer.writerow([spreadsheet_safe(cell) for cell in cells])
        atomic_write(self.path, buffer.getvalue())

    def _load(self) -> None:
        """Read the codes file back; every cell is checked (it is a CSV: hostile bytes)."""
        where = f"the codes file {self.path}"
        try:
            text = self.path.read_bytes().decode("utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise BatchError(
                f"{where} cannot be read ({exc}); restore it from a copy, then run again."
            ) from None
        planned = {i.item_id for i in self.plan.items}
        for number, row in enumerate(rows, start=2):
            item, code = _hex32(row.get("item_id")), normalize(row.get("code") or "")
            if item is None or code is None:
                raise BatchError(
                    f"line {number} of {where} has no valid item_id or code; restore the file from a copy "
                    "(it is the printer's), then run the command again."
                )
            if item not in planned:
                raise BatchError(
                    f"{where} holds codes of items that are not in {self.plan.source} (another batch's?); "
                    "move it away (it is secret: keep it with the printer's files) or give another "
                    "--receipt, then run the command again."
                )
            self.codes[item] = code
            root = _hex32(row.get("code_root"))
            if root is not None:
                self.roots[item] = root
        for root in set(self.roots.values()):
            if self._tree(root).root != root:
                raise BatchError(
                    f"the codes of tree 0x{root.hex()} in {where} do not make its root (the file was "
                    "edited); restore it from a copy, then run the command again."
                )


def _hex32(text: str | None) -> bytes | None:
    value = (text or "").strip().removeprefix("'").removeprefix("0x")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None
