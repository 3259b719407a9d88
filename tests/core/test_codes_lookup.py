"""core/codes.py: finding an item's proof among already-loaded tree documents (pure: no files)."""

from __future__ import annotations

from supplytrace.core.codes import (
    CodeTree,
    find_proof,
    leaf,
    lot_trees,
    new_code,
    process_proof,
    tree_document,
)
from supplytrace.core.ids import item_id

ITEMS = [item_id("09506000134352", f"JAR-{n}") for n in range(5)]


def _documents():
    codes = {i: new_code() for i in ITEMS}
    first = CodeTree.of(leaf(i, codes[i]) for i in ITEMS[:3])
    second = CodeTree.of(leaf(i, codes[i]) for i in ITEMS[3:])
    return codes, first, second, [tree_document(first, 7), tree_document(second, 7)]


def test_find_proof__code_of_the_item__root_and_proof_that_lead_to_it():
    codes, _first, second, documents = _documents()
    found = find_proof(lot_trees(documents, 7), ITEMS[4], codes[ITEMS[4]])
    assert found is not None
    root, proof = found
    assert root == second.root and process_proof(leaf(ITEMS[4], codes[ITEMS[4]]), proof) == root


def test_find_proof__wrong_code_or_another_items_code__none():
    codes, *_rest, documents = _documents()
    trees = lot_trees(documents, 7)
    assert find_proof(trees, ITEMS[0], new_code()) is None
    assert find_proof(trees, ITEMS[0], codes[ITEMS[1]]) is None


def test_lot_trees__other_lots_and_malformed_documents__left_out():
    _codes, first, _second, documents = _documents()
    broken = dict(documents[0], root="0x" + "11" * 32)  # leaves that do not make the root
    hostile = [None, [], "x", {"lot_id": "seven"}, {"lot_id": 7}, {"lot_id": 1e400}, broken, documents[0]]
    assert [t.root for t in lot_trees(hostile, 7)] == [first.root]
    assert lot_trees(documents, 8) == []
