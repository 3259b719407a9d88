"""The EPCIS export: items' (or a whole lot's) histories as one GS1 EPCIS 2.0 JSON-LD document.

History comes from any :class:`~supplytrace.chain.history.HistorySource` (the event index plus
the chain after it, or the chain's logs: :func:`supplytrace.service.history.open_history`), each
lot's GTIN and lot code from its live record (``getLot``); the mapping is
:func:`supplytrace.core.epcis.epcis_document`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supplytrace.chain.history import HistorySource
from supplytrace.chain.reads import RegistryReads
from supplytrace.core.epcis import ItemStory, epcis_document
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.events import LOT_REGISTRATION, REGISTRATION, Logged, chain_order, subject_ids
from supplytrace.core.ids import ItemKey
from supplytrace.core.lineage import MAX_LOTS, Transformation, ancestors
from supplytrace.core.reducer import State
from supplytrace.core.story import timeline
from supplytrace.core.text import ChainText


class ExportError(SupplytraceError):
    """Nothing (or something unknown) was asked to be exported; the message says what."""


def code_text(text: ChainText) -> str:
    """A serial or lot code as it goes into the item's key: the code itself when it is printable
    ASCII (every GS1 code is), else its safe rendering (a registrar may have stored any bytes)."""
    exact = text.exact
    return exact if exact is not None else str(text)


def _registrations(events: Sequence[Logged]) -> dict[bytes, tuple[int, ChainText]]:
    """Each item's lot and serial, from its registration."""
    found: dict[bytes, tuple[int, ChainText]] = {}
    for log in events:
        if isinstance(log.event, REGISTRATION):  # (REGISTRATION is typed as any event type)
            item, lot = subject_ids(log.event)
            assert item is not None and lot is not None
            found[bytes(item)] = (lot, getattr(log.event, "serial"))  # noqa: B009
    return found


def export_epcis(
    source: HistorySource,
    reads: RegistryReads,
    *,
    item_ids: Sequence[bytes] = (),
    lot_id: int | None = None,
    chain_id: int,
    registry: str,
    created_at: int | None = None,
) -> dict[str, Any]:
    """The EPCIS document of ``item_ids`` and (``lot_id``) every item of that lot, in that
    order, each with its timeline (own events, its containers' while it was in them, its lot's)
    and the events of the lots its lot was blended from (a recall appears once, for every
    exported item it reaches; a blend and a pallet's events once). Raises :class:`ExportError`
    when nothing is named or an item is unknown."""
    ids = list(dict.fromkeys(bytes(i) for i in item_ids))
    if lot_id is not None:
        known = set(ids)
        ids += [item.item_id for item in source.lot_items(lot_id) if item.item_id not in known]
    if not ids:
        raise ExportError(
            f"lot {lot_id} has no registered items; there is nothing to export."
            if lot_id is not None
            else "name an item or a lot to export."
        )
    events = source.items_events(ids)
    registered = _registrations(events)
    missing = next((i for i in ids if i not in registered), None)
    if missing is not None:
        raise ExportError(f"0x{missing.hex()} is not registered by any brand; there is nothing to export.")
    lots = _lots(source, reads, {lot for lot, _ in registered.values()})
    made = _transformations(lots)
    by_item: dict[bytes, list[Logged]] = {}
    for log in events:
        item = subject_ids(log.event)[0]
        if item is not None:
            by_item.setdefault(bytes(item), []).append(log)
    boxes = [log for log in events if subject_ids(log.event)[0] not in registered]  # containers'
    stories = []
    for item_id in ids:
        lot, serial = registered[item_id]
        gtin14, lot_code, _lot_events = lots[lot]
        key = ItemKey(gtin14, code_text(serial), code_text(lot_code) if lot_code else None)
        lineage_events = [log for n in sorted({lot} | ancestors(lot, made)) for log in lots[n][2]]
        history = chain_order(by_item.get(item_id, []) + boxes + lineage_events)
        stories.append(ItemStory(key, timeline(item_id, history)))
    codes = {n: (gtin, code_text(code) if code else None) for n, (gtin, code, _events) in lots.items()}
    return epcis_document(stories, chain_id=chain_id, registry=registry, created_at=created_at, lots=codes)


def _lots(
    source: HistorySource, reads: RegistryReads, wanted: set[int]
) -> dict[int, tuple[str, ChainText, list[Logged]]]:
    """GTIN-14, lot code and events of each lot of ``wanted`` and of every lot they were blended
    from, at any depth (a blend's story names its ingredients; their recalls reach it)."""
    lots: dict[int, tuple[str, ChainText, list[Logged]]] = {}
    todo = sorted(wanted)
    while todo:
        lot = todo.pop()
        if lot in lots:
            continue
        if len(lots) >= MAX_LOTS:
            raise ExportError(f"the lots exported were blended from more than {MAX_LOTS} lots; export fewer.")
        record = reads.lot(lot)
        history = source.lot(lot, item_limit=0)
        if record is None or history is None:
            raise ExportError(f"lot {lot} is not on the chain any more (a reorganisation?); export again.")
        lots[lot] = (record.gtin14, record.lot_code, history.events)
        todo += [n for made in _transformations({lot: lots[lot]}).values() for n in _inputs(made)]
    return lots


def _transformations(lots: dict[int, tuple[str, ChainText, list[Logged]]]) -> dict[int, Transformation]:
    """The blends among the lots' events, as :mod:`~supplytrace.core.lineage` follows them."""
    state = State()
    for log in chain_order([log for _gtin, _code, events in lots.values() for log in events]):
        if subject_ids(log.event)[1] in state.lots or isinstance(log.event, LOT_REGISTRATION):
            state.apply(log if log.timestamp is not None else log.stamped(0))
    return state.transformations()


def _inputs(made: Transformation) -> list[int]:
    return [used.lot_id for used in made.inputs]


def write_document(document: dict[str, Any], out: Path | None) -> str:
    """The document as JSON text, also written to ``out`` when given."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text
