"""Lot pages page through their items, and never read more than one page of them from the chain
per request, with or without an index (issue #11, bounded work per request)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from supplytrace.chain.history import ChainHistory
from supplytrace.chain.rpc import Rpc
from supplytrace.core.hashing import keccak
from supplytrace.core.ids import encode_code
from supplytrace.demo import HONEY_GTIN
from tests.web.conftest import TestClient, World, text_of

BLOCKS = 4
PER_BLOCK = 40
PAGE = 50


@pytest.fixture(scope="module")
def big_lot(world: World, accounts: Any) -> int:
    """A lot of BLOCKS x PER_BLOCK items, one registration transaction (block) each."""
    brand = accounts[1]
    code = encode_code("LOT-PAGES", "lot")
    world.registry.registerLot(int(HONEY_GTIN), code, keccak(b"pages"), sender=brand)
    lot_id = int(world.registry.lotCount())
    for block in range(BLOCKS):
        serials = [encode_code(f"PG{block}-{n:03d}") for n in range(PER_BLOCK)]
        world.registry.registerItems(lot_id, serials, sender=brand)
    return lot_id


class CountingRpc(Rpc):
    """An Rpc that counts the logs the node answered."""

    logs = 0

    def request(self, method: str, params: list[Any], *, result: Any = None) -> Any:
        answer = super().request(method, params, result=result)
        if method == "eth_getLogs":
            self.logs += len(answer)
        return answer

    make_request = request


def _serials(page: str) -> list[str]:
    return re.findall(r"PG\d-\d{3}", page)


def test_lot_from_chain__many_items__reads_at_most_a_page_plus_one_block_of_registrations(
    world: World, big_lot: int
) -> None:
    rpc = CountingRpc(world.rpc_url)
    history = ChainHistory(rpc, str(world.registry.address), world.from_block)
    found = history.lot(big_lot, PAGE, bounded=True)
    assert found is not None
    first_two_blocks = [f"PG{b}-{n:03d}" for b in range(2) for n in range(PER_BLOCK)]
    assert [str(i.serial) for i in found.items] == first_two_blocks[:PAGE]
    assert found.more is True
    # The lot's own events (1) and registrations up to the page's last block: never the whole lot.
    assert rpc.logs <= 1 + PAGE + PER_BLOCK < 1 + BLOCKS * PER_BLOCK


def test_lot_from_chain__deeper_page__lists_nothing_and_says_the_index_lists_it(
    make_client: Callable[..., TestClient], world: World, big_lot: int
) -> None:
    client = make_client()
    first = client.get(f"/lot/{big_lot}")
    assert first.status_code == 200
    assert _serials(first.text)[:PAGE] == [f"PG{b}-{n:03d}" for b in range(2) for n in range(40)][:PAGE]
    assert f'href="/lot/{big_lot}?page=2"' in first.text
    second = client.get(f"/lot/{big_lot}?page=2")
    assert second.status_code == 200
    assert _serials(second.text) == []
    assert "supplytrace index" in text_of(second.text)


def test_lot_from_index__second_page__items_51_to_100_with_links_both_ways(
    make_client: Callable[..., TestClient], world: World, big_lot: int, build_index: Callable[..., str]
) -> None:
    source, _reason = world.served(build_index())
    client = make_client(source)
    everything = [f"PG{b}-{n:03d}" for b in range(BLOCKS) for n in range(PER_BLOCK)]
    second = client.get(f"/lot/{big_lot}?page=2")
    assert second.status_code == 200
    assert _serials(second.text) == everything[PAGE : 2 * PAGE]
    assert f'href="/lot/{big_lot}?page=1"' in second.text
    assert f'href="/lot/{big_lot}?page=3"' in second.text
    last = client.get(f"/lot/{big_lot}?page=4")
    assert _serials(last.text) == everything[3 * PAGE :]
    assert "?page=5" not in last.text
    api = client.get(f"/api/lots/{big_lot}?page=2").json()
    assert [i["serial"] for i in api["items"]] == everything[PAGE : 2 * PAGE]
    assert api["item_count"] == BLOCKS * PER_BLOCK


def test_lot_page__malformed_page_number__400(client: TestClient, big_lot: int) -> None:
    for bad in ("0", "-1", "x", "1" * 40):
        response = client.get(f"/lot/{big_lot}?page={bad}")
        assert response.status_code == 400, bad
