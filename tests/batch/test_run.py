"""Running a batch: gas-sized chunks, every item registered once, a complete receipt."""

from __future__ import annotations

import json

import pytest

from supplytrace.batch import (
    OUTCOME_REGISTERED,
    OUTCOME_RESUMED,
    PER_ITEM_GAS,
    TX_GAS_CAP,
    chunk_size,
    plan_batch,
    read_rows,
    register_csv,
    run_batch,
)
from supplytrace.core.ids import ItemKey, encode_code, item_id
from tests.batch.conftest import RESOLVER, assert_registered_once, honey_rows, nonce, read_receipt
from tests.conftest import HONEY_GTIN, LOT_CODE


def test_register_csv__max_items_per_tx_small__several_txs_each_item_once_receipt_matches_chain(
    registry, lot_id, brand, provider, rpc, sender, write_csv, tmp_path
):
    rows = honey_rows(25)
    path = write_csv(rows)
    receipt = tmp_path / "out" / "receipt.csv"
    before = nonce(provider, brand)
    result = register_csv(path, sender, receipt, max_items_per_tx=10, resolver=RESOLVER)
    assert [t.items for t in result.transactions] == [10, 10, 5]
    assert nonce(provider, brand) == before + 3
    assert result.registered == 25 and result.resumed == 0
    assert result.receipt_path == receipt
    assert_registered_once(rpc, registry, lot_id, rows, receipt)
    assert "registered 25 items in 3 transactions" in result.summary()
    assert not [p for p in receipt.parent.iterdir() if p.name != "receipt.csv"], "temporary file left behind"


def test_register_csv__extra_columns_and_tx_link__kept_in_the_receipt_and_jsonl(
    registry, lot_id, sender, write_csv, tmp_path
):
    rows = [(HONEY_GTIN, "x(1)/2", LOT_CODE, "250 g", "acacia"), (HONEY_GTIN, "JAR-2", LOT_CODE, "500 g", "")]
    path = write_csv(rows, header=("GTIN", "Serial", "Lot", "weight", "item_id"))
    receipt = tmp_path / "receipt.csv"
    register_csv(
        path,
        sender,
        receipt,
        resolver=RESOLVER,
        tx_link=lambda h: f"https://explorer.example/tx/{h}",
        jsonl=True,
    )
    written = read_receipt(receipt)
    first = written[0]
    assert first["line"] == "2" and first["serial"] == "x(1)/2" and first["lot"] == LOT_CODE
    assert first["weight"] == "250 g" and first["csv_item_id"] == "acacia"  # a clash gets a prefix
    assert first["item_id"] == "0x" + item_id(HONEY_GTIN, "x(1)/2").hex()
    assert first["digital_link"] == f"{RESOLVER}/01/{HONEY_GTIN}/10/{LOT_CODE}/21/x%281%29%2F2"
    assert first["outcome"] == OUTCOME_REGISTERED
    assert first["explorer_link"] == f"https://explorer.example/tx/{first['tx_hash']}"
    lines = (tmp_path / "receipt.csv.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["metadata"] == {"weight": "500 g", "item_id": ""}
    assert json.loads(lines[0])["tx_hash"] == first["tx_hash"]


def test_digital_link__plain_and_special_characters__what_biip_parses_back():
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    for serial, lot in [("JAR-1", LOT_CODE), ("x(1)/2", "L(7)"), ("%&'\"?<>", "a+b,c")]:
        key = ItemKey.create(HONEY_GTIN, serial, lot)
        uri = key.digital_link(RESOLVER + "/")
        values = {es.ai.ai: es.value for es in GS1DigitalLinkURI.parse(uri).element_strings}
        assert values == {"01": HONEY_GTIN, "10": lot, "21": serial}
        assert uri == key.digital_link(RESOLVER)


def test_chunk_size__default__fits_the_tx_cap_with_margin(rpc):
    sizing = chunk_size(rpc)
    assert sizing.gas_cap == TX_GAS_CAP  # anvil's block gas limit (30M) is above the EIP-7825 cap
    assert 500 <= sizing.items_per_tx <= TX_GAS_CAP // PER_ITEM_GAS
    assert chunk_size(rpc, 7).items_per_tx == 7


def test_register_csv__full_size_chunk_of_longest_serials__gas_stays_under_the_tx_cap(
    registry, lot_id, rpc, sender, write_csv, tmp_path
):
    count = chunk_size(rpc).items_per_tx
    rows = [(HONEY_GTIN, f"{n:020d}", LOT_CODE) for n in range(count)]
    result = register_csv(write_csv(rows), sender, tmp_path / "r.csv", resolver=RESOLVER)
    (tx,) = result.transactions
    assert tx.items == count
    assert tx.gas_used < TX_GAS_CAP * 0.95
    assert tx.gas_limit <= TX_GAS_CAP


def test_register_csv__block_gas_limit_below_the_tx_cap__chunks_fit_the_block(
    registry, lot_id, rpc, sender, write_csv, tmp_path, block_gas_limit
):
    block_gas_limit(3_000_000)
    sizing = chunk_size(rpc)
    assert sizing.gas_cap == 3_000_000
    rows = honey_rows(2 * sizing.items_per_tx + 1)
    result = register_csv(write_csv(rows), sender, tmp_path / "r.csv", resolver=RESOLVER)
    assert len(result.transactions) == 3
    assert all(t.gas_limit <= 3_000_000 and t.gas_used <= 3_000_000 * 0.9 for t in result.transactions)
    assert_registered_once(rpc, registry, lot_id, rows, tmp_path / "r.csv")


def test_register_csv__two_lots_and_progress_callback__each_lot_gets_its_own_txs(
    registry, lot_id, other_lot_id, sender, write_csv, tmp_path
):
    rows = [*honey_rows(3), *honey_rows(2, prefix="B-", lot="HONEY-2026-B"), *honey_rows(2, prefix="C-")]
    progress: list[tuple[int, int]] = []
    result = register_csv(
        write_csv(rows),
        sender,
        tmp_path / "r.csv",
        resolver=RESOLVER,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert progress[0] == (0, 7) and progress[-1] == (7, 7)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert sorted((t.lot_id, t.items) for t in result.transactions) == [(lot_id, 5), (other_lot_id, 2)]
    assert [r.lot_id for r in result.rows] == [lot_id] * 3 + [other_lot_id] * 2 + [lot_id] * 2
    assert [r.line for r in result.rows] == list(range(2, 9))


def test_run_batch__item_registered_by_someone_else_mid_run__retries_and_finishes(
    registry, lot_id, sender, write_csv, register
):
    """The contract rejects the whole chunk (ItemAlreadyRegistered); the run re-reads the chain."""
    rows = honey_rows(12)
    plan = plan_batch(read_rows(write_csv(rows)))
    raced = [False]

    def other_process(tx) -> None:
        if not raced[0]:
            raced[0] = True
            register(rows[-1][1])  # an item of the last chunk, into the same lot

    result = run_batch(plan, sender, resolver=RESOLVER, max_items_per_tx=5, on_chunk=other_process)
    assert sum(t.items for t in result.transactions) == 11
    assert [r.outcome for r in result.rows] == [OUTCOME_REGISTERED] * 11 + [OUTCOME_RESUMED]
    assert result.rows[-1].tx_hash is not None  # found in the logs
    statuses = registry.itemStatuses([item_id(g, s) for g, s, _ in rows])
    assert list(statuses[0]) == [1] * 12


def test_run_batch__chunk_reverts_because_of_a_race__the_revert_is_absorbed(
    registry, lot_id, brand, sender, write_csv, monkeypatch
):
    """The estimate passes but the mined transaction reverts (someone registered an item in
    between): the run re-reads the chain and sends the rest."""
    rows = honey_rows(6)
    plan = plan_batch(read_rows(write_csv(rows)))
    real_send = sender.send
    raced = [False]

    def send_after_race(data, *, to, gas_limit):
        if not raced[0]:
            raced[0] = True
            registry.registerItem(lot_id, encode_code(rows[0][1]), sender=brand)
        return real_send(data, to=to, gas_limit=gas_limit)

    monkeypatch.setattr(sender, "send", send_after_race)
    result = run_batch(plan, sender, resolver=RESOLVER)
    assert [r.outcome for r in result.rows] == [OUTCOME_RESUMED] + [OUTCOME_REGISTERED] * 5
    assert sum(t.items for t in result.transactions) == 5


def test_run_batch__lot_closed_after_the_checks__stops_with_the_contracts_sentence(
    registry, lot_id, brand, provider, sender, write_csv
):
    from supplytrace.batch import BatchError, validate_csv

    plan, check = validate_csv(write_csv(honey_rows(3)), sender)
    registry.closeLot(lot_id, sender=brand)
    before = nonce(provider, brand)
    with pytest.raises(BatchError, match=f"lot {lot_id} is closed; register new items into a new lot"):
        run_batch(plan, sender, resolver=RESOLVER, check=check)
    assert nonce(provider, brand) == before


def test_revert_error__node_message__the_registrys_custom_error(registry):
    """What the batch reads a refused chunk with: the registry's custom error, decoded from the
    packaged ABI (chain.codec)."""
    from supplytrace.chain.codec import revert_error

    def decoded(data):
        error = revert_error(data)
        return None if error is None else (error.name, error.arguments)

    item = "0085b5c32d0461427d2f04a75684cd505f8dd07dc87d240cb3c29f0a3dbd0ed5"
    assert decoded("0xfdec5929" + item) == (
        "ItemAlreadyRegistered",
        {"itemId": bytes.fromhex(item)},
    )
    assert decoded("0x6adb7ada" + "00" * 31 + "07") == ("LotIsClosed", {"lotId": 7})
    assert decoded("0x12345678") is None
    assert decoded(None) is None


def test_register_csv__before_send__called_once_with_the_plan_and_can_cancel_everything(
    registry, lot_id, brand, provider, sender, write_csv, tmp_path
):
    path = write_csv(honey_rows(25))
    calls = []

    def refuse(items: int, transactions: int) -> None:
        calls.append((items, transactions))
        raise RuntimeError("declined")

    before = nonce(provider, brand)
    with pytest.raises(RuntimeError, match="declined"):
        register_csv(path, sender, max_items_per_tx=10, resolver=RESOLVER, before_send=refuse)
    assert calls == [(25, 3)]
    assert nonce(provider, brand) == before

    result = register_csv(
        path,
        sender,
        max_items_per_tx=10,
        resolver=RESOLVER,
        before_send=lambda *a: calls.append(a),
    )
    assert calls[1:] == [(25, 3)] and len(result.transactions) == 3
    assert result.receipt_path == tmp_path / "items.receipt.csv"
    assert oct(result.receipt_path.stat().st_mode & 0o777) != oct(0o600)
