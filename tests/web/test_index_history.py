"""The page on the real event index, opened as `supplytrace serve` opens it
(``supplytrace.service.history.open_history``, through ``supplytrace.service.page.build_page``):
it shows the chain's history, the blocks after the index's checkpoint included, says how far the
index lags, and sets aside an index that does not belong to this registry or this chain. Also the
demo's index step (``index_story``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from supplytrace.chain.history import ChainHistory, HistorySource
from supplytrace.chain.rpc import Rpc
from supplytrace.core.config import load_settings
from supplytrace.demo import CASES, index_story
from supplytrace.indexer.history import IndexHistory
from tests.web.conftest import BASE, TestClient, World, forget_chain, text_of


def _served(world: World, db: str | None, home: Path | None = None) -> tuple[HistorySource, str]:
    """The history the page reads, and the line `supplytrace serve` prints about it."""
    source, reason = world.served(db, home)
    return source, f"history: {reason}"


def _item(client: TestClient, world: World, case: str) -> dict[str, Any]:
    return dict(client.get(f"/api/items/{world.key(case).id_hex}").json())


def _lot(client: TestClient, lot_id: int) -> dict[str, Any]:
    found = dict(client.get(f"/api/lots/{lot_id}").json())
    found.pop("index")
    return found


def _head(chain: Any) -> int:
    return int(chain.blocks.head.number)


def _assert_same_history(page: TestClient, client: TestClient, world: World) -> None:
    """Every case's status and timeline, and both lots, as the chain's logs give them."""
    for case in CASES:
        got, expected = _item(page, world, case), _item(client, world, case)
        assert got["status"] == expected["status"] == case
        assert got["timeline"] == expected["timeline"], case
        assert got["warnings"] == expected["warnings"] == [] or case == "unknown", got["warnings"]
    for lot_id in (world.story.lot_id, world.story.recalled_lot_id):
        assert _lot(page, lot_id) == _lot(client, lot_id)


def test_open_each_case__index_current__history_from_the_index_as_on_chain(
    make_client: Callable[..., TestClient], client: TestClient, world: World, build_index, chain
) -> None:
    source, note = _served(world, build_index())
    assert isinstance(source, IndexHistory), note
    assert (
        note.startswith("history: the event index sqlite:///") and f"(index at block {_head(chain)})" in note
    )
    page = make_client(source)
    _assert_same_history(page, client, world)
    head = _head(chain)
    assert _item(page, world, "sold")["index"] == {
        "source": "index",
        "head_block": head,
        "indexed_block": head,
        "lag_blocks": 0,
        "notes": [],
    }
    text = text_of(page.get(world.key("sold").digital_link(BASE)[len(BASE) :]).text)
    assert "the journey comes from the event index." in text
    assert "sold it to a customer" in text


def test_open_each_case__index_checkpoint_before_the_sale__newer_steps_from_the_chain_and_the_lag_shown(
    make_client: Callable[..., TestClient], client: TestClient, world: World, build_index, chain
) -> None:
    head = _head(chain)
    sale = max(e.block_number for e in world.history().item_history(world.key("sold").id))
    # The index stops before the sale; the recalled lot (registered after it) is only on chain.
    source, note = _served(world, build_index(confirmations=head - sale + 1))
    mark = sale - 1
    assert isinstance(source, IndexHistory) and source.indexed_block() == mark
    assert f"(index at block {mark} + chain to block {head})" in note
    page = make_client(source)
    _assert_same_history(page, client, world)
    lag = head - mark
    index = _item(page, world, "sold")["index"]
    assert (index["source"], index["indexed_block"], index["lag_blocks"]) == ("index", mark, lag)
    text = text_of(page.get(world.key("sold").digital_link(BASE)[len(BASE) :]).text)
    lag_note = (
        f"The history index is {lag} blocks behind the chain "
        f"(indexed to block {mark}, the chain is at {head})"
    )
    assert lag_note in text
    assert "sold it to a customer" in text
    assert "The history below is behind the chain" not in text
    assert f"from the event index up to block {mark} and from the chain's event logs after it" in text
    recalled = _item(page, world, "recalled")
    assert recalled["recall_reason"] and recalled["timeline"][0]["event"] == "LotRegistered"


def test_serve__index_of_another_registry__history_from_the_chain_s_logs(
    make_client: Callable[..., TestClient],
    client: TestClient,
    world: World,
    build_index,
    project,
    accounts,
    chain,
) -> None:
    other = project.ProvenanceRegistry.deploy(accounts[0], 0, sender=accounts[0])
    url = build_index(registry=str(other.address), deployment_block=_head(chain))
    source, note = _served(world, url)
    assert isinstance(source, ChainHistory)
    assert f"history: the chain's logs (the index holds another registry ({other.address}))" == note
    page = make_client(source)
    assert _item(page, world, "sold")["index"]["source"] == "chain"
    _assert_same_history(page, client, world)


def test_serve__index_of_an_earlier_devnet__history_from_the_chain_s_logs(
    world: World, build_index, chain
) -> None:
    url = build_index()
    forget_chain(url, world)
    source, note = _served(world, url)
    assert isinstance(source, ChainHistory)
    assert f"the index's block {_head(chain)} is no longer on the chain" in note


def test_serve__no_index__history_from_the_chain_s_logs(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPLYTRACE_INDEX_DB", raising=False)
    source, note = _served(world, None, home=tmp_path)
    assert isinstance(source, ChainHistory)
    assert note == "history: the chain's logs (no index (build one with `supplytrace index`))"


def test_open_item__index_replaced_by_an_earlier_devnet_s_while_serving__that_read_from_the_chain(
    make_client: Callable[..., TestClient], client: TestClient, world: World, build_index
) -> None:
    url = build_index()
    source, _ = _served(world, url)
    assert isinstance(source, IndexHistory)
    forget_chain(url, world)  # the index now holds nothing, at a block this chain does not have
    page = make_client(source)
    _assert_same_history(page, client, world)


@pytest.mark.parametrize("left_behind", ["same registry address", "another registry"])
def test_index_story__index_left_by_an_earlier_devnet__rebuilt_and_read_by_the_page(
    make_client: Callable[..., TestClient],
    client: TestClient,
    world: World,
    chain,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    left_behind: str,
) -> None:
    monkeypatch.delenv("SUPPLYTRACE_INDEX_DB", raising=False)
    settings = replace(load_settings(), home=tmp_path / "home")
    default = f"sqlite:///{settings.home / 'index.db'}"
    forget_chain(default, world, registry="0x" + "ab" * 20 if left_behind == "another registry" else None)
    line = index_story(settings, Rpc(world.rpc_url), world.deployment)
    assert re.fullmatch(r"event index: [\d,]+ events in [\d,]+ blocks \(\d+-\d+\) indexed into \S+; .*", line)
    assert f"indexed into {default};" in line
    source, note = _served(world, None, home=settings.home)
    assert isinstance(source, IndexHistory), note
    assert source.indexed_block() == _head(chain)
    _assert_same_history(make_client(source), client, world)
