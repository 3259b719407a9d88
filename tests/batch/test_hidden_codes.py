"""batch/hidden.py: register_csv with hidden codes. Every chunk is one committed code tree, the
printer's codes file is written before anything is sent, and a rerun after an interruption
reuses exactly the same codes and trees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supplytrace.batch import (
    CODES_COLUMNS,
    OUTCOME_REGISTERED,
    OUTCOME_RESUMED,
    BatchError,
    BatchInterruptedError,
    default_codes_path,
    register_csv,
)
from supplytrace.core.codes import CodeTree, leaf, normalize, tree_from_document, tree_path
from supplytrace.core.ids import item_id
from tests.batch.conftest import RESOLVER, assert_registered_once, honey_rows, nonce, read_receipt


def _codes(path: Path) -> dict[bytes, tuple[str, bytes]]:
    """item id -> (code, root) of a codes file."""
    rows = read_receipt(path)
    assert rows and tuple(rows[0]) == CODES_COLUMNS
    out = {}
    for row in rows:
        code = normalize(row["code"])
        assert code is not None and row["code"] == "-".join(code[i : i + 4] for i in range(0, 12, 4))
        out[bytes.fromhex(row["item_id"][2:])] = (code, bytes.fromhex(row["code_root"][2:]))
    return out


def _register(path, sender, receipt, home, **kwargs):
    return register_csv(path, sender, receipt, resolver=RESOLVER, codes_home=home, **kwargs)


def test_register_csv__hidden_codes__one_committed_root_per_chunk_codes_file_and_tree_documents(
    registry, lot_id, rpc, sender, write_csv, tmp_path
):
    rows = honey_rows(23)
    path = write_csv(rows)
    receipt, home = tmp_path / "items.receipt.csv", tmp_path / "home"

    result = _register(path, sender, receipt, home, max_items_per_tx=10)

    assert [t.items for t in result.transactions] == [10, 10, 3]
    assert_registered_once(rpc, registry, lot_id, rows, receipt)
    assert result.codes_path == default_codes_path(receipt) == tmp_path / "items.codes.csv"
    codes = _codes(result.codes_path)
    ids = [item_id(g, s) for g, s, _ in rows]
    assert list(codes) == ids  # one row per item, in file order
    assert len({c for c, _ in codes.values()}) == 23
    printer = read_receipt(result.codes_path)
    receipt_rows = read_receipt(receipt)
    assert [r["digital_link"] for r in printer] == [r["digital_link"] for r in receipt_rows]
    assert [r["serial"] for r in printer] == [s for _, s, _ in rows]
    assert "code" not in receipt_rows[0]  # the receipt carries no secret
    roots = list(dict.fromkeys(root for _, root in codes.values()))
    assert len(roots) == 3
    chain_id = int(sender.chain_id)
    for root in roots:
        assert registry.codeRootLot(root) == lot_id
        document = json.loads(Path(tree_path(home, chain_id, str(registry.address), root)).read_text())
        assert set(document) == {"root", "lot_id", "leaves"}  # no codes
        doc_lot, tree = tree_from_document(document)
        members = [i for i, (_, r) in codes.items() if r == root]
        assert doc_lot == lot_id and tree == CodeTree.of(leaf(i, codes[i][0]) for i in members)
    assert set(result.trees) == {Path(tree_path(home, chain_id, str(registry.address), r)) for r in roots}


def test_register_csv__hidden_codes_interrupted_after_first_chunk__rerun_reuses_the_same_codes_and_trees(
    registry, lot_id, brand, provider, rpc, sender, write_csv, tmp_path
):
    rows = honey_rows(23)
    path = write_csv(rows)
    receipt, home = tmp_path / "items.receipt.csv", tmp_path / "home"
    codes_path = default_codes_path(receipt)
    before = nonce(provider, brand)

    def interrupt(tx) -> None:
        raise KeyboardInterrupt

    with pytest.raises(BatchInterruptedError):
        _register(path, sender, receipt, home, max_items_per_tx=10, on_chunk=interrupt)
    assert nonce(provider, brand) == before + 1
    planned = _codes(codes_path)  # every item's code and tree, written before the first send
    assert len(planned) == 23 and len({r for _, r in planned.values()}) == 3
    first_root = planned[item_id(*rows[0][:2])][1]
    first_tree = Path(tree_path(home, int(sender.chain_id), str(registry.address), first_root))
    assert first_tree.exists()
    first_tree.unlink()  # as if killed between the mined chunk and its tree document

    result = _register(path, sender, receipt, home, max_items_per_tx=10)

    assert [r.outcome for r in result.rows] == [OUTCOME_RESUMED] * 10 + [OUTCOME_REGISTERED] * 13
    assert _codes(codes_path) == planned
    for root in {r for _, r in planned.values()}:
        assert registry.codeRootLot(root) == lot_id
        assert Path(tree_path(home, int(sender.chain_id), str(registry.address), root)).exists()
    assert_registered_once(rpc, registry, lot_id, rows, receipt)


def test_register_csv__hidden_codes_stopped_before_the_first_send__rerun_sends_the_planned_trees(
    registry, lot_id, brand, provider, sender, write_csv, tmp_path
):
    path = write_csv(honey_rows(5))
    receipt, home = tmp_path / "items.receipt.csv", tmp_path / "home"

    def refuse(items: int, transactions: int) -> None:
        raise KeyboardInterrupt

    before = nonce(provider, brand)
    with pytest.raises(BatchInterruptedError):
        _register(path, sender, receipt, home, before_send=refuse)
    assert nonce(provider, brand) == before
    planned = _codes(default_codes_path(receipt))

    _register(path, sender, receipt, home)

    assert _codes(default_codes_path(receipt)) == planned
    (root,) = {r for _, r in planned.values()}
    assert registry.codeRootLot(root) == lot_id


def test_register_csv__codes_file_of_another_batch__refused_nothing_sent(
    brand, provider, sender, write_csv, tmp_path
):
    receipt, home = tmp_path / "items.receipt.csv", tmp_path / "home"
    _register(write_csv(honey_rows(2, prefix="OLD-")), sender, receipt, home)
    kept = default_codes_path(receipt).read_bytes()
    before = nonce(provider, brand)

    with pytest.raises(BatchError, match=r"holds codes of items that are not in .* move it away"):
        _register(write_csv(honey_rows(2, prefix="NEW-")), sender, receipt, home)

    assert nonce(provider, brand) == before
    assert default_codes_path(receipt).read_bytes() == kept


def test_register_csv__codes_file_edited__refused_nothing_sent(brand, provider, sender, write_csv, tmp_path):
    path = write_csv(honey_rows(3))
    receipt, home = tmp_path / "items.receipt.csv", tmp_path / "home"

    def refuse(items: int, transactions: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(BatchInterruptedError):
        _register(path, sender, receipt, home, before_send=refuse)
    codes_path = default_codes_path(receipt)
    text = codes_path.read_text()
    first_code = read_receipt(codes_path)[0]["code"]
    codes_path.write_text(text.replace(first_code, "2222-3333-4444", 1))
    before = nonce(provider, brand)

    with pytest.raises(BatchError, match="do not make its root"):
        _register(path, sender, receipt, home)
    assert nonce(provider, brand) == before


def test_register_csv__hidden_codes_serial_starting_a_formula__printer_cells_neutralised(
    sender, write_csv, tmp_path
):
    path = write_csv([(g, "-1+2", lot) for g, _, lot in honey_rows(1)])
    receipt, home = tmp_path / "items.receipt.csv", tmp_path / "home"

    result = _register(path, sender, receipt, home)

    assert result.codes_path is not None
    (row,) = read_receipt(result.codes_path)
    assert row["serial"] == "'-1+2"
    assert _codes(result.codes_path)  # the file reads back


def test_register_csv__without_hidden_codes__no_codes_file(sender, write_csv, tmp_path):
    receipt = tmp_path / "items.receipt.csv"
    result = register_csv(write_csv(honey_rows(2)), sender, receipt, resolver=RESOLVER)
    assert result.codes_path is None and not default_codes_path(receipt).exists()
