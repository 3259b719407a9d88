"""The index as the verification page's history source (``supplytrace.web.sources.HistorySource``).

    from supplytrace.indexer.history_source import IndexHistorySource

    source = IndexHistorySource.open(db_url, chain_id=chain_id)  # db_url: path, sqlite:// or postgresql://
    source.item_history(item_id)       # [HistoryEvent] in chain order, the lot's events included
    source.lot(lot_id, item_limit=50)  # LotHistory | None
    source.participants(addresses)     # {address: Participant}
    source.indexed_block()             # the index's checkpoint (the page shows the lag)

It answers exactly what ``ChainHistory`` answers from ``eth_getLogs`` up to the checkpoint
(``tests/indexer/test_query.py`` checks both on the same chain), in about a millisecond.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from supplytrace.indexer.query import IndexReader
from supplytrace.web.sources import HistoryEvent, LotHistory, LotItem, Participant


class IndexHistorySource:
    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader

    @classmethod
    def open(
        cls, db: str | Path | None = None, *, chain_id: int, home: Path | None = None
    ) -> IndexHistorySource:
        return cls(IndexReader.open(db, chain_id=chain_id, home=home))

    def item_history(self, item_id: bytes) -> list[HistoryEvent]:
        return [HistoryEvent.from_event(e, e.block_timestamp or 0) for e in self.reader.item_events(item_id)]

    def lot(self, lot_id: int, item_limit: int = 50) -> LotHistory | None:
        summary = self.reader.lot(lot_id)
        if summary is None:
            return None
        events = [HistoryEvent.from_event(e, e.block_timestamp or 0) for e in self.reader.lot_events(lot_id)]
        items = [LotItem(i, serial) for i, serial in self.reader.lot_items(lot_id, limit=item_limit)]
        return LotHistory(lot_id, events, summary.item_count, items)

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        return {
            address: Participant(address, row.verified_name, row.description)
            for address, row in self.reader.participants(addresses).items()
            if row.verified_name is not None or row.description is not None
        }

    def indexed_block(self) -> int | None:
        status = self.reader.status()
        return status.block_number if status else None
