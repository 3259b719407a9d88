"""Registry use cases of a brand: lots (create, show, resolve, close, recall) and registration
(one item, a list of serials, a CSV file)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest

from supplytrace.batch import BatchValidationError
from supplytrace.chain.history import LotItem
from supplytrace.core.errors import ChainError, ContractRevertError, SupplytraceError
from supplytrace.core.ids import IdentityError, ItemKey, item_id
from supplytrace.core.metadata import MetadataError, canonical_json, metadata_hash
from supplytrace.core.records import ItemStatus
from supplytrace.core.text import ChainText
from tests.conftest import HONEY_GTIN, LOT_CODE, METADATA_HASH, OTHER_GTIN, OTHER_LOT_CODE
from tests.service.conftest import RESOLVER, nonce

METADATA = {"product": "Acacia honey 500 g", "origin": {"country": "RO"}, "harvestDate": "2026-07-14"}


# ----------------------------------------------------------------------------------------------
# Lots
# ----------------------------------------------------------------------------------------------


def test_create_lot__brand__lot_id_from_the_event_and_metadata_kept_canonically(
    as_, brand, settings, registry
):
    created = as_(brand).create_lot(HONEY_GTIN[1:], "HONEY-NEW", METADATA)
    assert created.lot_id == registry.lotCount()
    assert created.metadata_path == settings.home / "metadata" / f"0x{metadata_hash(METADATA).hex()}.json"
    assert created.metadata_path.read_bytes() == canonical_json(METADATA)
    lot = as_(brand).lot(created.lot_id)
    assert (lot.gtin14, str(lot.lot_code), lot.registrar) == (HONEY_GTIN, "HONEY-NEW", brand.address)
    assert lot.metadata_hash == metadata_hash(METADATA)
    assert created.sent.success and created.sent.block > 0


def test_create_lot__gtin_of_another_brand__the_registrys_sentence(as_, brand, rogue):
    with pytest.raises(
        ContractRevertError, match=f"GTIN {OTHER_GTIN} is not yours .* it belongs to {rogue.address}"
    ):
        as_(brand).create_lot(OTHER_GTIN, "X", METADATA)


def test_create_lot__existing_code__the_registrys_sentence(as_, brand, lot_id):
    with pytest.raises(ContractRevertError, match=f"lot '{LOT_CODE}' of GTIN {HONEY_GTIN} already exists"):
        as_(brand).create_lot(HONEY_GTIN, LOT_CODE, METADATA)


@pytest.mark.parametrize(
    ("gtin", "code", "metadata", "error", "sentence"),
    [
        (HONEY_GTIN, "HONEY 1", METADATA, IdentityError, "lot code 'HONEY 1' must be 1 to 20 characters"),
        ("12345", "H-1", METADATA, IdentityError, "GTIN '12345' is not valid"),
        (HONEY_GTIN, "H-1", ["not", "an", "object"], MetadataError, "must be a JSON object"),
    ],
)
def test_create_lot__bad_input__refused_before_anything_is_sent(
    as_, brand, rpc, gtin, code, metadata, error, sentence
):
    before = nonce(rpc, brand)
    with pytest.raises(error, match=sentence):
        as_(brand).create_lot(gtin, code, metadata)
    assert nonce(rpc, brand) == before


def test_resolve_lot__id_and_gtin_lotcode__the_same_lot(reader, lot_id, other_lot_id):
    assert reader.resolve_lot(lot_id) == reader.resolve_lot(str(lot_id)) == lot_id
    assert reader.resolve_lot(f"{HONEY_GTIN}:{LOT_CODE}") == lot_id
    assert reader.resolve_lot(f"{HONEY_GTIN[1:]}:{OTHER_LOT_CODE}") == other_lot_id  # a GTIN-13


@pytest.mark.parametrize(
    ("ref", "error", "sentence"),
    [
        (
            "99",
            SupplytraceError,
            r"lot 99 does not exist on this registry \(it has 2 lots\); check the lot id",
        ),
        ("0", SupplytraceError, "lot 0 does not exist on this registry"),
        ("HONEY-A", SupplytraceError, "'HONEY-A' is not a lot: give a lot id .* or GTIN:LOTCODE"),
        (
            f"{HONEY_GTIN}:NOPE",
            SupplytraceError,
            f"GTIN {HONEY_GTIN} has no lot 'NOPE'; create it with `supplytrace lot create`",
        ),
        ("09506000134353:X", IdentityError, "is not valid"),
        (f"{HONEY_GTIN}:BAD CODE", IdentityError, "lot code 'BAD CODE' must be 1 to 20 characters"),
    ],
)
def test_resolve_lot__unknown_or_malformed__one_sentence_with_the_fix(
    reader, other_lot_id, ref, error, sentence
):
    with pytest.raises(error, match=sentence):
        reader.resolve_lot(ref)


def test_lot__existing__its_record(reader, lot_id, brand):
    lot = reader.lot(f"{HONEY_GTIN}:{LOT_CODE}")
    assert (lot.lot_id, lot.registrar, lot.metadata_hash, lot.closed, lot.recalled) == (
        lot_id, brand.address, METADATA_HASH, False, False
    )  # fmt: skip


def test_close_lot__brand__closed_and_no_more_items(as_, brand, lot_id):
    closed = as_(brand).close_lot(f"{HONEY_GTIN}:{LOT_CODE}")
    assert closed.lot_id == lot_id and as_(brand).lot(lot_id).closed
    with pytest.raises(
        ContractRevertError, match=f"lot {lot_id} is closed; register new items into a new lot"
    ):
        as_(brand).register_item(HONEY_GTIN, "LATE", LOT_CODE)


def test_close_lot__another_brand__the_registrys_sentence(as_, rogue, lot_id, brand):
    with pytest.raises(
        ContractRevertError, match=f"lot {lot_id} belongs to {brand.address}, not to {rogue.address}"
    ):
        as_(rogue).close_lot(lot_id)


def test_recall__brand_with_reason__lot_recalled_and_items_say_so(as_, brand, lot_id, register):
    (item,) = register("R-1")
    recalled = as_(brand).recall(lot_id, "Residues found; return it for a refund.")
    assert recalled.lot_id == lot_id and recalled.sent.success
    assert as_(brand).lot(lot_id).recalled
    assert as_(brand).item(item).recalled


def test_recall__empty_reason__refused_before_anything_is_sent(as_, brand, lot_id, rpc):
    before = nonce(rpc, brand)
    with pytest.raises(
        SupplytraceError, match="give the recall's reason: what is wrong and what consumers should do"
    ):
        as_(brand).recall(lot_id, "  ")
    assert nonce(rpc, brand) == before


def test_lot_items_and_keys__registered_items__in_registration_order(reader, register, lot_id):
    ids = register("K-2", "K-1")
    assert [i.item_id for i in reader.lot_items(lot_id)] == ids
    lot, keys = reader.lot_keys(f"{HONEY_GTIN}:{LOT_CODE}")
    assert lot.lot_id == lot_id
    assert keys == [ItemKey(HONEY_GTIN, "K-2", LOT_CODE), ItemKey(HONEY_GTIN, "K-1", LOT_CODE)]
    assert reader.lot_keys(reader.resolve_lot(f"{HONEY_GTIN}:{OTHER_LOT_CODE}"))[1] == []


# ----------------------------------------------------------------------------------------------
# Registration
# ----------------------------------------------------------------------------------------------


def test_register_item__brand__registered_in_its_lot_with_the_brand_as_custodian(as_, brand, lot_id):
    done = as_(brand).register_item(HONEY_GTIN[1:], "ONE-1", LOT_CODE)
    assert done.key == ItemKey(HONEY_GTIN, "ONE-1", LOT_CODE) and done.lot_id == lot_id
    record = as_(brand).item(done.key.id)
    assert (record.status, record.custodian, record.lot_id) == (ItemStatus.ACTIVE, brand.address, lot_id)


def test_register_item__twice__the_registrys_sentence(as_, brand, lot_id):
    as_(brand).register_item(HONEY_GTIN, "TWICE", LOT_CODE)
    with pytest.raises(
        ContractRevertError, match="is already registered; each GTIN \\+ serial can be registered once"
    ):
        as_(brand).register_item(HONEY_GTIN, "TWICE", LOT_CODE)


def test_register_item__lot_code_not_created__says_create_it(as_, brand, lot_id):
    with pytest.raises(SupplytraceError, match="has no lot 'NEVER'; create it with `supplytrace lot create`"):
        as_(brand).register_item(HONEY_GTIN, "S-1", "NEVER")


def test_register_items__list_of_serials__registered_in_chunks_once_each(as_, brand, lot_id, rpc):
    serials = [f"L-{n:03d}" for n in range(7)]
    before = nonce(rpc, brand)
    result = as_(brand).register_items(HONEY_GTIN, LOT_CODE, serials, max_items_per_tx=3)
    assert [t.items for t in result.transactions] == [3, 3, 1]
    assert nonce(rpc, brand) == before + 3
    assert [r.item_id for r in result.rows] == ["0x" + item_id(HONEY_GTIN, s).hex() for s in serials]
    assert result.rows[0].digital_link == ItemKey(HONEY_GTIN, "L-000", LOT_CODE).digital_link(RESOLVER)
    again = as_(brand).register_items(HONEY_GTIN, LOT_CODE, serials)
    assert again.transactions == () and again.resumed == len(serials)


def test_register_items__bad_serial__every_problem_by_its_place_and_nothing_sent(as_, brand, lot_id, rpc):
    before = nonce(rpc, brand)
    with pytest.raises(BatchValidationError) as caught:
        as_(brand).register_items(HONEY_GTIN, LOT_CODE, ["OK-1", "BAD 2", "OK-1"])
    assert {(e.line, e.column) for e in caught.value.errors} == {(1, "serial"), (2, "serial"), (3, "serial")}
    assert nonce(rpc, brand) == before


def test_register_csv__brand__receipt_with_the_resolvers_links_and_the_networks_explorer(
    as_, brand, lot_id, tmp_path, settings
):
    source = tmp_path / "jars.csv"
    source.write_text(
        "gtin,serial,lot,weight\n" + "".join(f"{HONEY_GTIN},C-{n},{LOT_CODE},500\n" for n in range(3))
    )
    registry = as_(brand)
    plan, check = registry.validate_csv(source)
    assert plan.size == check.remaining_count == 3
    asked = []
    result = registry.register_csv(source, before_send=lambda items, txs: asked.append((items, txs)))
    assert asked == [(3, 1)]
    assert result.receipt_path == tmp_path / "jars.receipt.csv"
    rows = list(csv.DictReader(result.receipt_path.open()))
    assert [r["outcome"] for r in rows] == ["registered"] * 3 and rows[0]["weight"] == "500"
    assert rows[0]["digital_link"] == ItemKey(HONEY_GTIN, "C-0", LOT_CODE).digital_link(RESOLVER)
    assert rows[0]["explorer_link"] == f"{settings.resolver}/tx/{rows[0]['tx_hash']}"  # a devnet: the page


def test_register_csv__bad_rows__every_problem_reported_and_nothing_sent(as_, brand, lot_id, tmp_path, rpc):
    source = tmp_path / "jars.csv"
    source.write_text(f"gtin,serial,lot\n{HONEY_GTIN},C 1,{LOT_CODE}\n{OTHER_GTIN},C-2,{LOT_CODE}\n")
    before = nonce(rpc, brand)
    with pytest.raises(BatchValidationError) as caught:
        as_(brand).register_csv(source, tmp_path / "receipt.csv")
    assert caught.value.bad_lines == [2, 3] and "nothing was sent" in str(caught.value)
    assert nonce(rpc, brand) == before and not (tmp_path / "receipt.csv").exists()


def test_register_csv__no_account__says_give_account(reader, tmp_path):
    with pytest.raises(SupplytraceError, match="needs an account to sign with"):
        reader.register_csv(tmp_path / "jars.csv")


def test_lot_metadata__stored_file__hash_matches_the_chain(as_, brand, settings):
    created = as_(brand).create_lot(HONEY_GTIN, "HASHED", METADATA)
    stored = json.loads(created.metadata_path.read_text())
    assert metadata_hash(stored) == as_(brand).lot(created.lot_id).metadata_hash


def test_lot__record_gone_between_the_reads__says_try_again(reader, lot_id, monkeypatch):
    monkeypatch.setattr(reader.reads, "lot", lambda _lot_id: None)
    with pytest.raises(
        ChainError, match=f"lot {lot_id} vanished from the registry while it was read; try again"
    ):
        reader.lot(lot_id)


def test_create_lot__receipt_without_the_lot_event__says_check_the_node(as_, brand, monkeypatch):
    registry = as_(brand)
    real_call = registry.sender.call
    monkeypatch.setattr(registry.sender, "call", lambda *args: replace(real_call(*args), events=[]))
    with pytest.raises(ChainError, match=r"registered no lot .* check the RPC URL and the deployment"):
        registry.create_lot(HONEY_GTIN, "NO-EVENT", METADATA)


def test_lot_keys__code_or_serial_gs1_does_not_allow__no_label_for_it(reader, lot_id, monkeypatch):
    """A registry deployed before codes were checked on chain may hold any bytes a brand sent; a
    label carries only a valid GS1 key."""
    real = reader.lot(lot_id)
    hostile_lot = replace(real, lot_code=ChainText(b"BAD\x07CODE"))
    monkeypatch.setattr(reader.reads, "lot", lambda _lot_id: hostile_lot)
    with pytest.raises(
        SupplytraceError, match=rf"lot {lot_id}'s code 'BAD.*' is not printable; no label can carry it"
    ):
        reader.lot_keys(lot_id)

    class Items:
        def lot_items(self, _lot_id):
            return [LotItem(b"\1" * 32, ChainText(b"ok-1")), LotItem(b"\2" * 32, ChainText(b"bad\x1b[31m"))]

    monkeypatch.setattr(reader.reads, "lot", lambda _lot_id: real)
    monkeypatch.setattr(reader, "_history", Items())
    with pytest.raises(
        SupplytraceError, match=f"an item of lot {lot_id} has the serial .*which GS1 does not allow"
    ):
        reader.lot_keys(lot_id)
