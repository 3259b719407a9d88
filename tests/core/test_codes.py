"""supplytrace.core.codes: hidden codes, the Merkle tree the chain commits to, and the brand's
tree document (the contract's own check of the proofs is in tests/contracts/test_claim.py)."""

from __future__ import annotations

from pathlib import PurePath

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.codes import (
    ALPHABET,
    CODE_LENGTH,
    CodeTree,
    code_word,
    leaf,
    new_code,
    normalize,
    printed,
    process_proof,
    tree_document,
    tree_from_document,
    tree_path,
)

ITEM = keccak(b"item")
leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True)


def test_new_code__many__alphabet_length_and_no_repeats():
    codes = [new_code() for _ in range(2000)]
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert len(set(codes)) == len(codes)
    assert not set("01ILO") & set(ALPHABET) and len(ALPHABET) == 31


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7KQM-2XHD-9PRW", "7KQM2XHD9PRW"),
        ("7kqm 2xhd 9prw", "7KQM2XHD9PRW"),
        (" 7KQM2XHD9PRW\n", "7KQM2XHD9PRW"),
        ("7KQM-2XHD-9PR", None),  # too short
        ("7KQM-2XHD-9PRWX", None),  # too long
        ("7KQM-2XHD-9PR0", None),  # 0 is not in the alphabet (it would read as O, also absent)
        ("7KQM-2XHD-9PR1", None),
        ("7KQM-2XHD-9PRé", None),
        ("x" * 10_000, None),
        ("", None),
    ],
)
def test_normalize__typed_forms__canonical_or_none(typed, expected):
    assert normalize(typed) == expected


def test_printed__code__groups_of_four_normalize_back():
    code = new_code()
    assert printed(code).count("-") == 2 and normalize(printed(code)) == code


def test_leaf__item_and_code__double_hash_of_the_abi_words():
    code = "7KQM2XHD9PRW"
    assert code_word(code) == b"7KQM2XHD9PRW" + b"\0" * 20
    assert leaf(ITEM, code) == keccak(keccak(ITEM + code_word(code)))
    assert leaf(ITEM, code) != leaf(ITEM, "7KQM2XHD9PRX") != leaf(keccak(b"other"), code)


@given(leaves)
def test_code_tree__any_leaves__every_proof_leads_to_the_root(values):
    tree = CodeTree.of(values)
    for value in values:
        proof = tree.proof(value)
        assert proof is not None and process_proof(value, proof) == tree.root
    assert tree.proof(b"\x00" * 31 + b"\x01") is None or b"\x00" * 31 + b"\x01" in values


@given(leaves)
def test_code_tree__order_and_duplicates__same_root(values):
    assert CodeTree.of(values).root == CodeTree.of(list(reversed(values)) + values[:1]).root


def test_code_tree__no_leaves__refused():
    with pytest.raises(ValueError, match="at least one leaf"):
        CodeTree.of([])


@given(leaves, st.integers(min_value=1, max_value=2**32 - 1))
def test_tree_document__round_trip__same_tree_and_lot(values, lot_id):
    tree = CodeTree.of(values)
    assert tree_from_document(tree_document(tree, lot_id)) == (lot_id, tree)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d.pop("leaves"),
        lambda d: d.update(root="0xzz"),
        lambda d: d.update(lot_id="many"),
        lambda d: d["leaves"].append("0x1234"),  # not 32 bytes
        lambda d: d["leaves"].append("0x" + "ab" * 32),  # does not make the root
        lambda d: d.update(leaves="0x" + "ab" * 32),  # not a list of leaves
    ],
)
def test_tree_from_document__malformed__value_error(spoil):
    document = tree_document(CodeTree.of([keccak(b"a"), keccak(b"b")]), 1)
    spoil(document)
    with pytest.raises(ValueError):
        tree_from_document(document)


def test_tree_path__root__under_home_by_chain_and_registry():
    root = bytes(range(32))
    path = tree_path(PurePath("/home/x"), 31337, "0xABCDEF0000000000000000000000000000000001", root)
    assert path == PurePath(
        f"/home/x/codes/31337/0xabcdef0000000000000000000000000000000001/{root.hex()}.json"
    )
