"""What ``supplytrace index`` and ``supplytrace export-epcis`` do (the CLI only parses and prints)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from supplytrace.console import err_console
from supplytrace.core.config import Settings
from supplytrace.core.deployments import Deployment
from supplytrace.events import ITEM_EVENTS, LOT_EVENTS, TOPIC0, Event, get_logs, topic_for_id
from supplytrace.history import lot_item_ids, stamped
from supplytrace.ids import ItemKey, decode_code
from supplytrace.indexer.epcis import ItemStory, epcis_document
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.query import open_view
from supplytrace.indexer.rpc import HttpRpc
from supplytrace.indexer.run import Indexer, IndexerConfig, Reorg, RunReport
from supplytrace.indexer.run import Progress as IndexProgress
from supplytrace.indexer.store import IndexStore, display_url, make_engine, resolve_url


class _Rate(ProgressColumn):
    """blocks/s and events/s since the run began."""

    def render(self, task: Task) -> Text:
        seconds = task.elapsed or 0.0
        events = int(task.fields.get("events", 0))
        if seconds <= 0:
            return Text("")
        return Text(f"{task.completed / seconds:,.0f} blocks/s  {events / seconds:,.0f} events/s")


def node_url(provider: Any) -> str:
    url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    if not url or not str(url).startswith(("http://", "https://")):
        raise IndexerError(
            f"the indexer reads the node over HTTP(S), but this network's provider has no HTTP URL ({url}); "
            "configure an http(s) RPC URL for it in ape-config.yaml."
        )
    return str(url)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM finish the chunk being stored, then stop."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(_sig: int, _frame: Any) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_index(
    settings: Settings,
    provider: Any,
    deployment: Deployment,
    *,
    db: str | None,
    follow: bool,
    reset: bool,
    config: IndexerConfig,
    progress: bool = True,
) -> tuple[RunReport, str]:
    """Catch up (and with ``follow`` keep going) into the index; returns the report and the URL."""
    url = resolve_url(db, settings.home)
    engine = make_engine(url)
    store = IndexStore(engine, deployment.chain_id, url=display_url(url))
    rpc = HttpRpc(node_url(provider))
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("block {task.fields[block]:,} / {task.fields[target]:,}"),
        TextColumn("{task.fields[events]:,} events"),
        _Rate(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not progress,
        transient=False,
    )
    task = bar.add_task("indexing", total=None, block=0, target=0, events=0)

    def on_progress(p: IndexProgress) -> None:
        bar.update(
            task,
            total=max(1, p.target - p.first_block + 1),
            completed=p.block - p.first_block + 1,
            block=p.block,
            target=p.target,
            events=p.events,
        )

    def on_reorg(reorg: Reorg) -> None:
        err_console.print(
            f"reorg: the chain replaced blocks after {reorg.ancestor} (depth {reorg.depth}); "
            f"{reorg.removed_events} events rolled back and indexed again from the new branch."
        )

    def on_error(exc: Exception) -> None:
        err_console.print(f"[yellow]warning:[/] the node failed ({exc}); retrying, nothing is skipped.")

    try:
        with store.writer():
            if reset:
                store.reset()
            indexer = Indexer(
                store,
                rpc,
                deployment.address,
                deployment.block,
                config,
                on_progress=on_progress,
                on_reorg=on_reorg,
                on_error=on_error,
            )
            with bar:
                if follow:
                    bar.update(task, description="following")
                    stop = threading.Event()
                    with _stop_on_signals(stop):
                        report = indexer.follow(stop)
                else:
                    try:
                        report = indexer.catch_up()
                    except KeyboardInterrupt:
                        cp = store.checkpoint()
                        where = f"block {cp.block_number}" if cp else "its start"
                        raise IndexerError(
                            f"interrupted; the index is intact at {where}: run the command again to continue."
                        ) from None
    finally:
        engine.dispose()
    return report, display_url(url)


# ----------------------------------------------------------------------------------------------
# EPCIS export
# ----------------------------------------------------------------------------------------------


def _chain_item_events(provider: Any, deployment: Deployment, item_ids: Sequence[bytes]) -> list[Event]:
    """Every event of these items (no index): item topics in batches of 100 ids."""
    out: list[Event] = []
    for start in range(0, len(item_ids), 100):
        topics = [[TOPIC0[n] for n in ITEM_EVENTS], [topic_for_id(i) for i in item_ids[start : start + 100]]]
        out.extend(get_logs(provider, deployment.address, topics, deployment.block))
    return out


def _stories(
    item_ids: Sequence[bytes], events: list[Event], lot_events: dict[int, list[Event]], lots: dict[int, Any]
) -> list[ItemStory]:
    by_item: dict[bytes, list[Event]] = {}
    for ev in events:
        by_item.setdefault(bytes(ev.args["itemId"]), []).append(ev)
    stories = []
    for item_id in item_ids:
        own = by_item.get(item_id, [])
        registered = next((e for e in own if e.name == "ItemRegistered"), None)
        if registered is None:
            raise IndexerError(
                f"0x{item_id.hex()} is not registered by any brand; there is nothing to export."
            )
        lot_id = registered.args["lotId"]
        gtin, lot_code = lots[lot_id]
        key = ItemKey.create(gtin, decode_code(registered.args["serial"]), lot_code)
        merged = sorted(own + lot_events.get(lot_id, []), key=lambda e: (e.block_number, e.log_index))
        stories.append(ItemStory(key, merged))
    return stories


def export_epcis(
    settings: Settings,
    provider: Any,
    deployment: Deployment,
    registry: Any,
    *,
    item_ids: Sequence[bytes],
    lot_id: int | None,
    db: str | None,
) -> tuple[dict[str, Any], str]:
    """The EPCIS document of ``item_ids`` (and every item of ``lot_id``), read from the index when
    it can answer (with the chain after its checkpoint), else from the chain; and a note saying which."""
    view, reason = open_view(provider, deployment.address, deployment.chain_id, db=db, home=settings.home)
    ids = list(dict.fromkeys(bytes(i) for i in item_ids))
    if view is not None:
        if lot_id is not None:
            ids += [i for i, _ in view.reader.lot_items(lot_id) if i not in ids]
            ids += [e.args["itemId"] for e in view.tail_registrations(lot_id) if e.args["itemId"] not in ids]
        events = view.items_events(ids)
    else:
        if lot_id is not None:
            ids += [
                i
                for i in lot_item_ids(provider, deployment.address, lot_id, deployment.block)
                if i not in ids
            ]
        events = stamped(provider, _chain_item_events(provider, deployment, ids))
    lot_ids = {int(e.args["lotId"]) for e in events if e.name == "ItemRegistered"}
    lot_events: dict[int, list[Event]] = {}
    lots: dict[int, tuple[str, str]] = {}
    for lid in lot_ids:
        record = registry.getLot(lid)
        lots[lid] = (str(int(record.gtin)).zfill(14), decode_code(record.lotCode))
        topics = [[TOPIC0[n] for n in LOT_EVENTS], topic_for_id(lid)]
        lot_events[lid] = stamped(provider, get_logs(provider, deployment.address, topics, deployment.block))
    document = epcis_document(
        _stories(ids, events, lot_events, lots), chain_id=deployment.chain_id, registry=deployment.address
    )
    return document, ("index: " + reason) if view is not None else f"chain ({reason})"


def write_document(document: dict[str, Any], out: Path | None) -> str:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text
