"""Claims: an item's buyer (or the brand's support desk for them) uses the hidden code printed
inside the pack, and the item becomes Claimed on chain for good.

The proof comes from the brand's tree documents (:func:`~supplytrace.core.codes.tree_document`,
written when the batch was registered with hidden codes) under the home's
``codes/<chain id>/<registry>/``: the trees of the item's lot are searched for the leaf of the
item and the code (:func:`~supplytrace.core.codes.find_proof`), and the chain must say the
tree's root was committed for that lot (``codeRootLot``) before anything is sent. A code that
is not the item's sends nothing. The files are read as hostile bytes: a malformed document is
skipped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplytrace.chain.send import Sent
from supplytrace.core.codes import CODE_LENGTH, code_word, find_proof, lot_trees, normalize, tree_path
from supplytrace.core.errors import EXIT_NOT_FOUND, ContractRevertError, SupplytraceError
from supplytrace.service import bulk

if TYPE_CHECKING:
    from supplytrace.service.registry import Registry

#: A tree document larger than this is not one the brand wrote (a 10,000-item tree is ~0.7 MB).
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class ClaimError(SupplytraceError):
    """The claim cannot be made; nothing was sent."""


class UnknownItemError(ClaimError):
    exit_code = EXIT_NOT_FOUND


@dataclass(frozen=True)
class Claimed:
    item_id: bytes
    root: bytes  # the committed code tree the proof led to
    sent: Sent


def trees_dir(home: Path, chain_id: int, registry: str) -> Path:
    """Where the tree documents of ``registry`` on ``chain_id`` live under ``home``."""
    return Path(tree_path(home, chain_id, registry, b"\0" * 32)).parent


def tree_documents(folder: Path) -> list[Any]:
    """The JSON values of the ``*.json`` files in ``folder`` (unreadable or oversized ones skipped)."""
    documents = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                continue
            documents.append(json.loads(path.read_bytes()))
        except (OSError, ValueError, RecursionError):
            continue
    return documents


def claim(registry: Registry, item_id: bytes, code_text: str) -> Claimed:
    """Claim ``item_id`` with its hidden code ``code_text`` (as typed: any case, spaces or hyphens),
    sending ``claim(itemId, code, proof)`` as the registry's account. Raises :class:`ClaimError`
    (nothing sent) when the text is not a code, the item is unknown or already claimed, no code
    tree of its lot is kept here, or the code is not the item's."""
    code = normalize(code_text)
    if code is None:
        raise ClaimError(
            f"{code_text!r} is not a hidden code: a code has {CODE_LENGTH} characters, digits 2-9 and "
            "letters without I, L and O (spaces and hyphens do not matter); check the code inside the pack."
        )
    item = "0x" + bytes(item_id).hex()
    record = registry.item(item_id)
    if not record.registered:
        raise UnknownItemError(f"item {item} is not registered; check the GTIN and serial.")
    if record.claimed:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record.updated_at))
        raise ClaimError(
            f"item {item} was already claimed on {when}; a hidden code works once, so nothing was sent."
        )
    folder = trees_dir(registry.settings.home, registry.deployment.chain_id, registry.address)
    trees = lot_trees(tree_documents(folder), record.lot_id)
    if not trees:
        raise ClaimError(
            f"no hidden codes of item {item} (lot {record.lot_id}) are known here: no code tree of its lot "
            f"is in {folder}; claim it where the brand registered the batch, or copy its code trees here."
        )
    found = find_proof(trees, item_id, code)
    if found is None:
        raise ClaimError(
            f"{code_text.strip()!r} is not the hidden code of item {item}; check the code inside its pack "
            "(nothing was sent)."
        )
    root, proof = found
    committed = int(registry.reads.view("codeRootLot", root))
    if committed != record.lot_id:
        raise ClaimError(
            f"the code tree 0x{root.hex()} kept in {folder} is not committed on chain for lot "
            f"{record.lot_id}; it does not belong to this registry, so nothing was sent."
        )
    sender = registry.sender
    if sender is None:
        raise ClaimError("a claim is a transaction; give --account ALIAS (an ape account) to pay for it.")
    try:
        sent = sender.call("claim", item_id, code_word(code), proof)
    except ContractRevertError:
        bulk.check_funds(sender)  # an account that cannot pay for any transaction hears that first
        raise
    return Claimed(bytes(item_id), root, sent)
