"""supplytrace.chain.reads: the registry's views read by raw JSON-RPC (the page's reads, async,
and the command line's, sync) agree with ape's own decoding of the same contract calls, on the
demo's story, and keep a code's raw bytes whatever they are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from supplytrace.chain.reads import AsyncRegistryReads, Read, RegistryReads
from supplytrace.chain.rpc import AsyncRpc, Rpc
from supplytrace.core.records import ItemRecord, ItemStatus, LotRecord
from supplytrace.demo import HONEY_GTIN, DemoItem
from tests.conftest import ZERO_ADDRESS, item_record, legacy_registry, lot_record, normalized
from tests.web.conftest import tell_world

T = TypeVar("T")
UNOWNED_GTIN = 4012345000009


@dataclass(frozen=True)
class ApeStory:
    """The demo's story, its registry as ape reads it (what the package's reads are checked against)."""

    registry: Any  # ape's contract instance
    lot_id: int
    recalled_lot_id: int
    items: list[DemoItem]


@pytest.fixture(scope="module")
def story(project, accounts, chain, tmp_path_factory) -> ApeStory:
    """The demo's supply chain on a fresh registry on ape's anvil."""
    world = tell_world(project.ProvenanceRegistry, accounts, chain, tmp_path_factory)
    told = world.story
    return ApeStory(world.registry, told.lot_id, told.recalled_lot_id, told.items)


def _url(chain: Any) -> str:
    return str(chain.provider.http_uri)


def _run_async(chain: Any, registry: Any, make: Callable[[AsyncRegistryReads], Read[T]]) -> T:
    """One read on the page's transport (a fresh :class:`AsyncRpc`, closed afterwards)."""

    async def read() -> T:
        rpc = AsyncRpc(_url(chain))
        try:
            reads = AsyncRegistryReads(rpc, str(registry.address))
            result: Awaitable[T] = reads.run(make(reads))
            return await result
        finally:
            await rpc.aclose()

    return asyncio.run(read())


def _address(value: str) -> str | None:
    return None if value == ZERO_ADDRESS else value


def _assert_item_as_ape(record: ItemRecord, registry: Any, item_id: bytes, case: str) -> None:
    expected = item_record(registry, item_id)
    assert record.item_id == item_id, case
    assert record.status == expected["status"], case
    assert (record.custodian, record.pending_receiver, record.brand) == (
        _address(expected["custodian"]),
        _address(expected["pendingReceiver"]),
        _address(expected["brand"]),
    ), case
    assert record.lot_id == expected["lotId"], case
    if record.registered:
        assert record.gtin == expected["gtin"] and record.gtin14 == HONEY_GTIN, case
        assert record.lot_code.raw == expected["lotCode"].rstrip(b"\0"), case
        assert record.lot_metadata_hash == expected["lotMetadataHash"], case
    assert (record.custody_nonce, record.updated_at) == (expected["custodyNonce"], expected["updatedAt"]), (
        case
    )
    assert (record.recalled, record.recalled_at, record.lot_closed) == (
        expected["recalled"],
        expected["recalledAt"],
        expected["lotClosed"],
    ), case


def test_read_item__each_demo_case__same_record_as_ape(story: ApeStory, chain) -> None:
    for demo_item in story.items:
        item_id = demo_item.key.id
        record, head, _owner = _run_async(
            chain, story.registry, lambda reads, item_id=item_id: reads.item_at_head_read(item_id)
        )
        _assert_item_as_ape(record, story.registry, demo_item.key.id, demo_item.case)
        assert head == story.registry.provider.get_block("latest").number
        sync = RegistryReads(Rpc(_url(chain)), str(story.registry.address)).item(demo_item.key.id)
        assert sync == record, demo_item.case


def test_read_item__gtin_owner_asked__owner_from_gtin_owner(story: ApeStory, chain) -> None:
    key = next(i.key for i in story.items if i.case == "unknown")
    _record, _head, owner = _run_async(
        chain, story.registry, lambda reads: reads.item_at_head_read(key.id, int(key.gtin))
    )
    assert owner == story.registry.gtinOwner(int(key.gtin))
    _record, _head, nobody = _run_async(
        chain, story.registry, lambda reads: reads.item_at_head_read(key.id, UNOWNED_GTIN)
    )
    assert nobody is None


def _assert_lot_as_ape(record: LotRecord | None, registry: Any, lot_id: int) -> None:
    expected = lot_record(registry, lot_id)
    assert record is not None
    assert record.lot_id == lot_id
    assert (record.registrar, record.gtin, record.lot_code.raw) == (
        expected["registrar"],
        expected["gtin"],
        expected["lotCode"].rstrip(b"\0"),
    )
    assert record.metadata_hash == expected["metadataHash"]
    assert (record.recalled_at, record.closed) == (expected["recalledAt"], expected["closed"])


def test_read_lot__both_demo_lots__same_record_as_ape(story: ApeStory, chain) -> None:
    for lot_id in (story.lot_id, story.recalled_lot_id):
        record, _head = _run_async(chain, story.registry, lambda reads, n=lot_id: reads.lot_at_head_read(n))
        _assert_lot_as_ape(record, story.registry, lot_id)
    assert _run_async(chain, story.registry, lambda reads: reads.lot_at_head_read(999))[0] is None


def test_read_lot__lot_code_not_utf8__raw_bytes_as_ape_reads_them(chain, accounts) -> None:
    # Only a registry of the code before issue #11 takes such a lot code; its deployments keep it.
    admin, beekeeper = accounts[0], accounts[1]
    registry = legacy_registry().deploy(admin, 0, sender=admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), beekeeper, sender=admin)
    registry.assignGtin(int(HONEY_GTIN), beekeeper, sender=admin)
    registry.registerLot(int(HONEY_GTIN), b"\xc3\x28".ljust(32, b"\0"), b"\x33" * 32, sender=beekeeper)
    lot_id = int(registry.lotCount())
    record, _head = _run_async(chain, registry, lambda reads: reads.lot_at_head_read(lot_id))
    _assert_lot_as_ape(record, registry, lot_id)
    assert record is not None and record.lot_code.raw == b"\xc3\x28" and str(record.lot_code) == "\ufffd("


def test_item_statuses__each_demo_case__same_as_ape(story: ApeStory, chain) -> None:
    ids = [item.key.id for item in story.items]
    statuses, lots = story.registry.itemStatuses(ids)
    expected = [(int(s), int(n)) for s, n in zip(statuses, lots, strict=True)]
    found = _run_async(chain, story.registry, lambda reads: reads.statuses_read(ids))
    assert found == expected
    assert all(isinstance(status, ItemStatus) for status, _lot in found)
    rpc = Rpc(_url(chain))
    assert RegistryReads(rpc, str(story.registry.address)).item_statuses(ids) == expected
    rpc.close()


def test_read_container__packed_pallet_of_a_measured_lot__records_as_ape(chain, accounts, project) -> None:
    """A measured lot's quantity and stock, an item's container and a container's record read by
    raw JSON-RPC as ape reads them; an id never packed into reads all zero."""
    from supplytrace.core.ids import container_id, encode_code, sscc_with_check_digit
    from supplytrace.core.records import QuantityUnit

    admin, brand, buyer = accounts[0], accounts[1], accounts[2]
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), brand, sender=admin)
    registry.assignCompanyPrefix(9506000, 7, brand, sender=admin)
    gtin = int(HONEY_GTIN)
    registry.registerMeasuredLot(
        gtin, encode_code("HARVEST-1", "lot"), b"\x33" * 32, 10_000, 500, int(QuantityUnit.GRAM), sender=brand
    )
    lot_id = int(registry.lotCount())
    registry.registerItems(lot_id, [encode_code("P1"), encode_code("P2")], sender=brand)
    items = [bytes(registry.itemIdOf(gtin, encode_code(s))) for s in ("P1", "P2")]
    sscc = sscc_with_check_digit("0" + "9506000" + "000000042")
    registry.pack(int(sscc), items, sender=brand)
    pallet = container_id(sscc)
    registry.offer(pallet, buyer, sender=brand)
    reads = RegistryReads(Rpc(_url(chain)), str(registry.address))

    lot = reads.lot(lot_id)
    assert lot is not None and lot.measured
    assert (lot.unit, lot.stock, lot.item_quantity) == (QuantityUnit.GRAM, 9_000, 500)
    item = reads.item(items[0])
    assert item.container == pallet and item.packed and item.custodian == brand.address
    record = reads.container(pallet)
    expected = normalized(dict(registry.getContainer(pallet).items()))
    assert record.container_id == pallet and record.sscc18 == sscc and record.exists
    assert (record.custodian, record.pending_receiver, record.container) == (
        brand.address,
        buyer.address,
        None,
    )
    assert (record.custody_nonce, record.updated_at, record.level) == (
        expected["custodyNonce"],
        expected["updatedAt"],
        expected["level"],
    )
    nothing = reads.container(container_id(sscc_with_check_digit("0" + "9506000" + "000000043")))
    assert not nothing.exists and nothing.custodian is None and nothing.container is None
