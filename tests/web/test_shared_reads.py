"""Requests for the same read at the same head block share it; never across blocks (issue #11:
"a chain read may be shared by requests for the same item at the same head block, never across
blocks")."""

from __future__ import annotations

import asyncio
from typing import Any

from supplytrace.core.records import REGISTRAR_ROLE
from supplytrace.web.deps import Page
from tests.web.conftest import World


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
