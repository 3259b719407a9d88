"""What the page says of a lineage it cannot follow whole (``web.views.lineage``): a graph a
hostile or broken index makes cyclic is one sentence, not a crash; a lineage wider than the page
follows shows no origin label (it would be wrong) and says why; recalls read live only."""

from __future__ import annotations

from supplytrace.core.explorers import ExplorerLinks
from supplytrace.core.lineage import LotInput, Transformation
from supplytrace.core.records import LotRecord, QuantityUnit
from supplytrace.core.text import ChainText
from supplytrace.web.lineage import LineageRead, LotFacts
from supplytrace.web.lotdata import LotMetadata
from supplytrace.web.views.common import Context, Contract
from supplytrace.web.views.lineage import INCOMPLETE, lineage_view

CTX = Context(
    links=ExplorerLinks.for_network("ethereum", "local", resolver="http://x", overrides={}),
    registry=Contract(address="0x" + "00" * 20, url=None, chain_id=31337, network="local test network"),
    item_url=lambda i: f"/item/{i}",
    lot_url=lambda n: f"/lot/{n}",
)


def _made(lot: int, *inputs: int) -> LotFacts:
    used = tuple(LotInput(n, 100) for n in inputs)
    return LotFacts(lot, Transformation(lot, used, 100 * len(inputs), "gram"), 100, QuantityUnit.GRAM)


def _record(lot: int, recalled_at: int = 0) -> LotRecord:
    return LotRecord(
        lot, "0x" + "22" * 20, 9506000134352, ChainText(f"L{lot}".encode()), bytes([lot]) * 32, recalled_at,
        False, QuantityUnit.GRAM, 0, 1,
    )  # fmt: skip


def _missing(_hash: bytes) -> LotMetadata:
    return LotMetadata("missing", None)


def test_lineage_view__cycle_from_a_broken_index__a_sentence_no_label() -> None:
    read = LineageRead(1, {1: _made(1, 2), 2: _made(2, 1)})

    view = lineage_view(CTX, read, {1: _record(1), 2: _record(2)}, _missing)

    assert view.origin_label is None and view.note is not None and "cycle" in view.note


def test_lineage_view__more_lots_than_the_page_follows__no_label_and_says_so() -> None:
    read = LineageRead(1, {1: _made(1, 2, 3), 2: LotFacts(2), 3: LotFacts(3)}, complete=False)

    view = lineage_view(CTX, read, {n: _record(n) for n in (1, 2, 3)}, _missing)

    assert view.origin_label is None and view.note == INCOMPLETE
    assert [i.lot_id for i in view.made_from] == [2, 3]


def test_lineage_view__recall_in_the_history_but_not_live__not_recalled() -> None:
    facts = LotFacts(2, recall_reason=ChainText(b"an index that lies"))
    read = LineageRead(1, {1: _made(1, 2), 2: facts})

    view = lineage_view(CTX, read, {1: _record(1), 2: _record(2)}, _missing)

    assert view.recalls == []
    assert view.origin_label == "Honey from unknown origin"  # metadata not held: unknown, not guessed


def test_lineage_view__hostile_reason__shown_safely_in_the_sentence() -> None:
    facts = LotFacts(2, recall_reason=ChainText("residue\u202e<script>\x07".encode()))
    read = LineageRead(1, {1: _made(1, 2), 2: facts})

    view = lineage_view(CTX, read, {1: _record(1), 2: _record(2, recalled_at=5)}, _missing)

    (cause,) = view.recalls
    assert "\u202e" not in cause.sentence and "\x07" not in cause.sentence
    assert cause.sentence.startswith(
        "Recalled because ingredient lot 2 (GTIN 09506000134352, lot L2) was recalled: "
    )
