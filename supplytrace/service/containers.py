"""Packing and unpacking containers (GS1 SSCC: a case, a pallet) as a bulk run: items and other
containers go in, or come out, in transactions sized from the measured gas, like any custody step.

A rerun needs no file: what is already in the container (packing) or already out of it
(unpacking) is read from the chain (each content's ``container``) and skipped. Unpacking with
nothing named takes out everything in the container, found from its packing logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from supplytrace.chain.codec import decode
from supplytrace.chain.gas import BATCH_GAS
from supplytrace.chain.logs import fetch_logs
from supplytrace.core import abi
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.hashing import keccak_text
from supplytrace.core.ids import container_id, sscc_of
from supplytrace.service import bulk, selection
from supplytrace.service.bulk import RunOptions
from supplytrace.service.results import BulkResult
from supplytrace.service.selection import Applies, ItemSelection

if TYPE_CHECKING:
    from supplytrace.service.registry import Items, Registry


def sscc(text: str) -> str:
    """The 18-digit SSCC ``text`` names (``(00)``/``00`` and 18 digits, the 18 digits, or a
    Digital Link URI with ``/00/``), or a sentence saying how to give one."""
    found = sscc_of(text)
    if found is None:
        raise SupplytraceError(
            f"{text!r} is not an SSCC; give the container's 18 digits, as (00) and 18 digits, or its "
            "Digital Link URI (https://.../00/...)."
        )
    return found


def file_items(path: str | Path) -> tuple[str, ...]:
    """What a contents file names, one item or container a line (blank lines and ``#`` comments
    skipped), as the commands take them."""
    file = Path(path)
    if not file.is_file():
        raise SupplytraceError(f"{file} does not exist; give a file naming one item or container a line.")
    lines = (line.strip() for line in file.read_text(encoding="utf-8", errors="replace").splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def pack(registry: Registry, sscc_text: str, contents: Items, run: RunOptions | None) -> BulkResult:
    """Pack ``contents`` (items or containers the signer holds; of a lot, those held loose) into
    the container ``sscc_text``, created by its first packing; contents already in it are done."""
    code = sscc(sscc_text)
    target = container_id(code)
    sender = registry.writer
    bulk.wait_until_settled(sender)
    named = selection.named_items(contents) if isinstance(contents, ItemSelection) else list(contents)
    if target in named:
        raise SupplytraceError(f"container {code} cannot be packed into itself; name what goes into it.")
    lot_items: list[bytes] = []
    if isinstance(contents, ItemSelection) and contents.lot_ref is not None:
        lot_id = registry.resolve_lot(contents.lot_ref)
        history = [i.item_id for i in registry.history.lot_items(lot_id)]
        applies = Applies(holder=registry.account)
        lot_items = selection.in_lot(registry.reads, lot_id, history, applies, loose=False)
    ids = list(dict.fromkeys(named + lot_items))
    if not ids:
        raise selection.nothing_named()
    where = dict(zip(ids, selection.packed_in(registry.reads, ids), strict=True))
    done = [i for i in ids if where[i] == target]
    loose_or_named = set(named)
    todo = [
        i for i in ids if where[i] != target and (i in loose_or_named or where[i] == selection.NO_CONTAINER)
    ]
    if not todo and not done:
        raise SupplytraceError(
            f"every item chosen is packed in another container; unpack it first (`supplytrace unpack`), "
            f"or name what goes into {code}."
        )
    step = bulk.Step(lambda chunk: ("pack", (int(code), list(chunk))), BATCH_GAS["pack"], "packed")
    return bulk.run(sender, step, todo, done=done, options=run)


def unpack(registry: Registry, sscc_text: str, contents: Items | None, run: RunOptions | None) -> BulkResult:
    """Take ``contents`` (default: everything in it) out of the container ``sscc_text``; the
    signer then holds each. Contents no longer in it are done."""
    code = sscc(sscc_text)
    target = container_id(code)
    sender = registry.writer
    bulk.wait_until_settled(sender)
    if contents is None or (isinstance(contents, ItemSelection) and not contents.names_items):
        ids = ever_packed(registry, target)
        if not ids:
            raise SupplytraceError(f"nothing was ever packed into container {code}; check the SSCC.")
    else:
        ids = list(
            dict.fromkeys(
                selection.named_items(contents) if isinstance(contents, ItemSelection) else contents
            )
        )
    where = dict(zip(ids, selection.packed_in(registry.reads, ids), strict=True))
    todo = [i for i in ids if where[i] == target]
    done = [i for i in ids if where[i] != target]
    step = bulk.Step(lambda chunk: ("unpack", (target, list(chunk))), BATCH_GAS["unpack"], "unpacked")
    return bulk.run(sender, step, todo, done=done, options=run)


def ever_packed(registry: Registry, target: bytes) -> list[bytes]:
    """Every id packed into (or taken out of) ``target`` since the registry was deployed, in
    order: the contents its packing logs name; what is still in it is for the live records to
    say. (The logs are found by their shape, an indexed ``containerId`` and ``contents``, so that
    the event types stay named by the readers in core alone.)"""
    shaped = [
        event
        for event in abi.entries("event").values()
        if any(p["name"] == "containerId" and p["indexed"] for p in event["inputs"])
        and any(p["name"] == "contents" and not p["indexed"] for p in event["inputs"])
    ]
    topic0 = ["0x" + keccak_text(abi.signature(event)).hex() for event in shaped]
    params = {t: [p for p in e["inputs"] if not p["indexed"]] for t, e in zip(topic0, shaped, strict=True)}
    head = registry.reads.head()
    logs = fetch_logs(
        registry.rpc.request, registry.address, [topic0, "0x" + target.hex()], registry.deployment.block, head
    )
    found: list[bytes] = []
    for log in logs:
        data_params = params[str(log["topics"][0]).lower()]
        values = decode(data_params, bytes.fromhex(str(log.get("data", "0x"))[2:]))
        contents = values[[p["name"] for p in data_params].index("contents")]
        found.extend(bytes(i) for i in contents)
    return list(dict.fromkeys(found))
