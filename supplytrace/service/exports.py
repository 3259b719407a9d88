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
from supplytrace.core.events import REGISTRATION, Logged, chain_order, subject_ids
from supplytrace.core.ids import ItemKey
from supplytrace.core.text import ChainText


class ExportError(SupplytraceError):
    """Nothing (or something unknown) was asked to be exported; the message says what."""


def _code(text: ChainText) -> str:
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
    order, each with its own events and its lot's (a recall appears once, for every exported
    item of the lot). Raises :class:`ExportError` when nothing is named or an item is unknown."""
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
    lots: dict[int, tuple[str, ChainText, list[Logged]]] = {}
    for lot in sorted({lot for lot, _ in registered.values()}):
        record = reads.lot(lot)
        history = source.lot(lot, item_limit=0)
        if record is None or history is None:
            raise ExportError(f"lot {lot} is not on the chain any more (a reorganisation?); export again.")
        lots[lot] = (record.gtin14, record.lot_code, history.events)
    by_item: dict[bytes, list[Logged]] = {}
    for log in events:
        item = subject_ids(log.event)[0]
        if item is not None:
            by_item.setdefault(bytes(item), []).append(log)
    stories = []
    for item_id in ids:
        lot, serial = registered[item_id]
        gtin14, lot_code, lot_events = lots[lot]
        key = ItemKey(gtin14, _code(serial), _code(lot_code) if lot_code else None)
        stories.append(ItemStory(key, chain_order(by_item.get(item_id, []) + lot_events)))
    return epcis_document(stories, chain_id=chain_id, registry=registry, created_at=created_at)


def write_document(document: dict[str, Any], out: Path | None) -> str:
    """The document as JSON text, also written to ``out`` when given."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text
