"""Requests for the same read at the same head block share it; never across blocks (issue #11:
"a chain read may be shared by requests for the same item at the same head block, never across
blocks")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from supplytrace.chain.rpc import Rpc
from supplytrace.core.records import REGISTRAR_ROLE
from supplytrace.indexer.history import IndexHistory
from supplytrace.service.history import open_history
from supplytrace.web.app import create_app
from supplytrace.web.deps import Page
from tests.faults import Faults, FaultyProxy
from tests.web.conftest import BASE, TestClient, World, text_of


def test_holds_role__many_requests_at_one_block__one_read_and_a_new_block_reads_again(
    world: World, accounts: Any
) -> None:
    page = Page(world.config(), world.history())
    brand, nobody = str(accounts[1].address), str(accounts[9].address)
    asked: list[Any] = []

    async def run() -> None:
        page.open()
        inner = page.reads.run

        async def counting(read: Any) -> Any:
            asked.append(read)
            return await inner(read)

        page.reads.run = counting  # type: ignore[method-assign]
        try:
            head = int(await page.rpc.request("eth_blockNumber", []), 16)
            answers = await asyncio.gather(*(page.holds_role(brand, REGISTRAR_ROLE, head) for _ in range(20)))
            assert answers == [True] * 20 and len(asked) == 1
            assert await page.holds_role(nobody, REGISTRAR_ROLE, head) is False and len(asked) == 2
            assert await page.holds_role(brand, REGISTRAR_ROLE, head - 1) is True and len(asked) == 3
            assert await page.holds_role(brand, REGISTRAR_ROLE, head) is True and len(asked) == 4
        finally:
            await page.close()

    asyncio.run(run())


def test_item_page__index_at_the_head__one_round_trip_to_the_node(
    world: World, build_index: Callable[..., str], make_client: Callable[..., TestClient]
) -> None:
    """The index's check against the node (its head, and whether the checkpoint's block is still
    the chain's) rides in the page's live read: one JSON-RPC batch per item page, and the history
    is read up to the head that batch saw."""
    proxy = FaultyProxy(world.rpc_url, Faults())
    try:
        source, _reason = open_history(Rpc(proxy.url), world.deployment, db=build_index(), home=world.home)
        assert isinstance(source, IndexHistory)
        page = make_client(source, rpc_url=proxy.url)
        path = world.key("sold").digital_link(BASE)[len(BASE) :]
        assert page.get(path).status_code == 200  # the first read learns the index's checkpoint
        for _ in range(3):
            before = proxy.faults.counts["posts"]
            answer = page.get(path)
            assert answer.status_code == 200 and "data-status=" in answer.text
            assert proxy.faults.counts["posts"] - before == 1
        found = page.get(f"/api/items/{world.key('sold').id_hex}").json()
        assert found["index"]["source"] == "index" and found["index"]["lag_blocks"] == 0
    finally:
        proxy.stop()


def test_item_page__sqlite_index_at_the_head__history_and_check_count_read_without_a_thread(
    world: World,
    build_index: Callable[..., str],
    claims_of: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thread hand-off costs more than the page's whole read of a SQLite index (and under load,
    the threads' turns at the GIL cost more still): with the index at the node's head, the item
    page reads its history and counts its check on its event loop. A read that would wait (the
    index behind the head: the chain after it is read) still goes to a thread, and says the same."""
    import anyio.to_thread

    handed: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    db = build_index()
    source, _reason = open_history(Rpc(world.rpc_url), world.deployment, db=db, home=world.home)
    assert isinstance(source, IndexHistory)
    client = TestClient(
        create_app(world.config(), source, claims=claims_of(db)), base_url=BASE, raise_server_exceptions=False
    )
    with client:
        path = world.key("sold").digital_link(BASE)[len(BASE) :]
        assert client.get(path).status_code == 200  # the first read learns the index's checkpoint
        handed.clear()
        pages = [text_of(client.get(path).text) for _ in range(3)]
        assert handed == []
        assert "Checked 4 times since" in pages[-1]
        Rpc(world.rpc_url).request("evm_mine", [])  # the index is one block behind the head now
        behind = text_of(client.get(path).text)
        assert len(handed) >= 1
        assert "Checked 5 times since" in behind
        assert "The history index is 1 block behind the chain" in behind

        def journey(text: str) -> str:
            return text.split(" Journey ", 1)[1].split(" Check it yourself ", 1)[0]

        assert journey(behind) == journey(pages[-1])
