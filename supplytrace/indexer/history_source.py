"""The index as the verification page's history source (``supplytrace.web.sources.HistorySource``).

    from supplytrace.indexer.history_source import IndexHistorySource

    source = IndexHistorySource.open(db_url, chain_id=chain_id)  # db_url: path, sqlite:// or postgresql://
    source.item_history(item_id)       # [HistoryEvent] in chain order, the lot's events included
    source.lot(lot_id, item_limit=50)  # LotHistory | None
    source.participants(addresses)     # {address: Participant}
    source.indexed_block()             # the index's checkpoint (the page shows the lag)

Alone it answers exactly what ``ChainHistory`` answers from ``eth_getLogs`` up to the checkpoint
(``tests/indexer/test_query.py`` checks both on the same chain), in about a millisecond.

Given the page's ``ChainHistory`` (``IndexHistorySource(reader, chain)``, what
``supplytrace serve`` builds), every answer is the chain's current one: each read checks that
the index's checkpoint block is still on the node's chain and adds the registry's events after
it, read from the node (:class:`supplytrace.indexer.query.LiveView`: one filtered
``eth_getLogs`` from the checkpoint to the head, none when the index is current). When the index
cannot answer for the node's chain (its checkpoint block was replaced, or it is too far behind),
that read comes from ``ChainHistory`` instead. ``indexed_block()`` stays the checkpoint, so the
page still says how far the index lags.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from supplytrace.events import Event
from supplytrace.ids import decode_code
from supplytrace.indexer.query import IndexReader, LiveView, live_view
from supplytrace.web.sources import ChainHistory, HistoryEvent, LotHistory, LotItem, Participant


class IndexHistorySource:
    def __init__(self, reader: IndexReader, chain: ChainHistory | None = None) -> None:
        self.reader = reader
        self.chain = chain

    @classmethod
    def open(
        cls, db: str | Path | None = None, *, chain_id: int, home: Path | None = None
    ) -> IndexHistorySource:
        return cls(IndexReader.open(db, chain_id=chain_id, home=home))

    def _view(self) -> LiveView | None:
        assert self.chain is not None
        view, _reason = live_view(self.reader, self.chain.rpc, self.chain.registry)
        return view

    def item_history(self, item_id: bytes) -> list[HistoryEvent]:
        if self.chain is None:
            events = self.reader.item_events(item_id)
        else:
            view = self._view()
            if view is None:
                return self.chain.item_history(item_id)
            events = view.item_events(item_id)
        return [HistoryEvent.from_event(e, e.block_timestamp or 0) for e in events]

    def lot(self, lot_id: int, item_limit: int = 50) -> LotHistory | None:
        if self.chain is None:
            summary = self.reader.lot(lot_id)
            if summary is None:
                return None
            items = self.reader.lot_items(lot_id, limit=item_limit)
            return _lot_history(lot_id, self.reader.lot_events(lot_id), summary.item_count, items)
        for _attempt in range(3):
            view = self._view()
            if view is None:
                return self.chain.lot(lot_id, item_limit)
            found = self._live_lot(view, lot_id, item_limit)
            # The lot's rows are read after the view's checkpoint: if an indexer moved it
            # meanwhile, they may hold items the chain's tail holds too; read again.
            if self.reader.status() == view.status:
                break
        return found

    def _live_lot(self, view: LiveView, lot_id: int, item_limit: int) -> LotHistory | None:
        events = view.lot_events(lot_id)
        if not events:
            return None
        summary = self.reader.lot(lot_id)
        items = self.reader.lot_items(lot_id, limit=item_limit)
        newer = [(e.args["itemId"], decode_code(e.args["serial"])) for e in view.tail_registrations(lot_id)]
        count = (summary.item_count if summary else 0) + len(newer)
        return _lot_history(lot_id, events, count, items + newer[: max(0, item_limit - len(items))])

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        view = self._view() if self.chain is not None else None
        if self.chain is not None and view is None:
            return self.chain.participants(addresses)
        found = {
            address: Participant(address, row.verified_name, row.description)
            for address, row in self.reader.participants(addresses).items()
            if row.verified_name is not None or row.description is not None
        }
        if view is None or view.head <= view.status.block_number:
            return found
        # Names and descriptions published after the checkpoint: the chain's, over the index's.
        assert self.chain is not None
        newer = ChainHistory(self.chain.rpc, self.chain.registry, view.status.block_number + 1)
        for address, fresh in newer.participants(addresses).items():
            old = found.get(address, Participant(address))
            found[address] = Participant(
                address,
                fresh.verified_name if fresh.verified_name is not None else old.verified_name,
                fresh.description if fresh.description is not None else old.description,
            )
        return found

    def indexed_block(self) -> int | None:
        status = self.reader.status()
        if status is None:
            return None
        if self.chain is not None and status.registry.lower() != self.chain.registry.lower():
            return None  # another registry's index: every answer comes from the chain
        return status.block_number


def _lot_history(lot_id: int, events: list[Event], count: int, items: list[tuple[bytes, str]]) -> LotHistory:
    return LotHistory(
        lot_id,
        [HistoryEvent.from_event(e, e.block_timestamp or 0) for e in events],
        count,
        [LotItem(i, serial) for i, serial in items],
    )
