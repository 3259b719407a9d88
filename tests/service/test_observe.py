"""Registry use cases after custody: observations (a business step with a data hash), the sale,
and the live item reads a status shows."""

from __future__ import annotations

import pytest

from supplytrace.chain.history import ChainHistory
from supplytrace.core.errors import ContractRevertError, SupplytraceError
from supplytrace.core.events import ITEM_EVENTS, topic0
from supplytrace.core.hashing import keccak
from supplytrace.core.ids import IdentityError, ItemKey
from supplytrace.core.records import ItemStatus
from supplytrace.service.selection import ItemSelection
from tests.conftest import HONEY_GTIN, LOT_CODE
from tests.service.conftest import nonce


def observations(registry, item: bytes) -> list[tuple[str, bytes]]:
    """(business step, data hash) of every observation of ``item``, in chain order."""
    history = ChainHistory(registry.rpc, registry.address, 0)
    found = history.logs([topic0(*ITEM_EVENTS), "0x" + item.hex()])
    return [(str(e.event.biz_step), e.event.data_hash) for e in found if hasattr(e.event, "biz_step")]


def test_record__data_file__step_and_the_files_hash_on_chain(as_, brand, register, tmp_path):
    first, second = register("R-1", "R-2")
    report = tmp_path / "inspection.txt"
    report.write_bytes(b"seal intact\n")
    recorded = as_(brand).record([first, second], "inspecting", report)
    assert [m.items for m in recorded] == [(first,), (second,)]  # one transaction per item
    assert observations(as_(brand), first) == [("inspecting", keccak(b"seal intact\n"))]
    as_(brand).record([first], "storing", data=b"cold store 3")
    as_(brand).record([first], "shipping")
    assert observations(as_(brand), first)[1:] == [
        ("storing", keccak(b"cold store 3")),
        ("shipping", b"\0" * 32),
    ]


def test_record__invalid_step__refused_before_anything_is_sent(as_, brand, register, rpc):
    (item,) = register("R-3")
    before = nonce(rpc, brand)
    with pytest.raises(IdentityError, match="business step 'in specting' must be 1 to 20 characters"):
        as_(brand).record([item], "in specting")
    assert nonce(rpc, brand) == before


def test_record__missing_data_file__refused_with_the_fix(as_, brand, register, tmp_path, rpc):
    (item,) = register("R-4")
    before = nonce(rpc, brand)
    with pytest.raises(
        SupplytraceError, match=r"data file .*nope.txt does not exist; give the file whose hash"
    ):
        as_(brand).record([item], "inspecting", tmp_path / "nope.txt")
    assert nonce(rpc, brand) == before


def test_record__item_held_by_another__the_registrys_sentence(as_, rogue, register):
    (item,) = register("R-5")
    with pytest.raises(ContractRevertError, match="do not hold item"):
        as_(rogue).record([item], "inspecting")


def test_sell__held_items__sold_and_never_move_again(as_, brand, distributor, register):
    first, second = register("S-1", "S-2")
    sold = as_(brand).sell(ItemSelection(items=("0x" + first.hex(),), gtin=HONEY_GTIN, serial="S-2"))
    assert [m.items for m in sold] == [(first,), (second,)]
    assert [r.status for r in as_(brand).items([first, second])] == [ItemStatus.SOLD] * 2
    with pytest.raises(ContractRevertError, match="was already sold to a customer; it cannot move again"):
        as_(brand).offer([first], to=distributor.address)
    with pytest.raises(ContractRevertError, match="was already sold to a customer"):
        as_(brand).sell([first])


def test_item__registered_and_unknown__the_live_records(reader, register, brand, lot_id):
    (item,) = register("I-1")
    record = reader.item(item)
    assert (record.status, record.custodian, record.brand, record.lot_id) == (
        ItemStatus.ACTIVE, brand.address, brand.address, lot_id
    )  # fmt: skip
    assert (record.gtin14, str(record.lot_code), record.custody_nonce) == (HONEY_GTIN, LOT_CODE, 0)
    unknown = ItemKey.create(HONEY_GTIN, "NEVER").id
    assert not reader.item(unknown).registered
    assert [r.item_id for r in reader.items([unknown, item])] == [unknown, item]


def test_items__more_than_one_batch__every_record_in_order(reader, register, monkeypatch):
    import supplytrace.service.selection as selection_module

    ids = register(*(f"M-{n}" for n in range(5)))
    monkeypatch.setattr(selection_module, "ITEMS_PER_BATCH", 2)
    assert [r.item_id for r in reader.items(ids)] == ids
    assert all(r.registered for r in reader.items(ids))
