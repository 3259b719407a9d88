"""The page's hand-made ABI calls agree with ape's decoding of the same contract calls."""

from __future__ import annotations

import asyncio

from supplytrace.registry import item_state, lot_state
from supplytrace.web.rpc import AsyncChain, LiveItem, SyncRpc, decode_statuses, encode_statuses_call
from tests.web.conftest import World


def _live_item(world: World, item_id: bytes, gtin: int | None = None) -> tuple[LiveItem, int, str | None]:
    async def read() -> tuple[LiveItem, int, str | None]:
        chain = AsyncChain(world.rpc_url, str(world.registry.address))
        try:
            return await chain.item(item_id, gtin=gtin)
        finally:
            await chain.aclose()

    return asyncio.run(read())


def test_read_item__each_demo_case__same_record_as_ape(world: World) -> None:
    for demo_item in world.story.items:
        live, head, _owner = _live_item(world, demo_item.key.id)
        expected = item_state(world.registry, demo_item.key.id)
        assert live.status == int(expected.status), demo_item.case
        assert (live.custodian, live.pending_receiver, live.brand) == (
            expected.custodian,
            expected.pending_receiver,
            expected.brand,
        )
        assert live.lot_id == expected.lot_id
        if expected.registered:
            assert f"{live.gtin:014d}" == expected.gtin
            assert live.lot_code == expected.lot_code
            assert "0x" + live.lot_metadata_hash.hex() == expected.lot_metadata_hash
        assert (live.custody_nonce, live.updated_at) == (expected.custody_nonce, expected.updated_at)
        assert (live.recalled, live.recalled_at, live.lot_closed) == (
            expected.recalled,
            expected.recalled_at,
            expected.lot_closed,
        )
        assert head == world.registry.provider.get_block("latest").number


def test_read_item__gtin_owner_asked__owner_from_gtin_owner(world: World) -> None:
    key = world.key("unknown")
    _live, _head, owner = _live_item(world, key.id, int(key.gtin))
    assert owner == world.registry.gtinOwner(int(key.gtin))
    _live, _head, nobody = _live_item(world, key.id, 4012345000009)
    assert nobody is None


def test_read_lot__both_demo_lots__same_record_as_ape(world: World) -> None:
    async def read(lot_id: int):  # type: ignore[no-untyped-def]
        chain = AsyncChain(world.rpc_url, str(world.registry.address))
        try:
            return await chain.lot(lot_id)
        finally:
            await chain.aclose()

    for lot_id in (world.story.lot_id, world.story.recalled_lot_id):
        live, _head = asyncio.run(read(lot_id))
        expected = lot_state(world.registry, lot_id)
        assert live is not None
        assert (live.registrar, f"{live.gtin:014d}", live.lot_code) == (
            expected.registrar,
            expected.gtin,
            expected.lot_code,
        )
        assert "0x" + live.metadata_hash.hex() == expected.metadata_hash
        assert (live.recalled_at, live.closed) == (expected.recalled_at, expected.closed)
    assert asyncio.run(read(999))[0] is None


def test_item_statuses__encoded_by_hand__same_as_ape(world: World) -> None:
    ids = [item.key.id for item in world.story.items]
    rpc = SyncRpc(world.rpc_url)
    data = "0x" + encode_statuses_call(ids).hex()
    raw = rpc.make_request("eth_call", [{"to": str(world.registry.address), "data": data}, "latest"])
    statuses, lots = world.registry.itemStatuses(ids)
    assert decode_statuses(bytes.fromhex(raw[2:])) == [
        (int(s), int(n)) for s, n in zip(statuses, lots, strict=True)
    ]
    rpc.close()
