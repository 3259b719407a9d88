"""Hidden codes: the secret printed inside each pack, and the Merkle tree the chain commits to.

A brand registers a batch of items with ``registerItemsWithCodes``: each item gets a code of
:data:`CODE_LENGTH` characters from :data:`ALPHABET` (no 0/O, 1/I/L: read aloud or typed from a
lid without doubt), and the chain keeps one word for the whole batch, the root of the
OpenZeppelin-style Merkle tree (sorted pairs, double-hashed leaves) of

    leaf = keccak256(keccak256(abi.encode(bytes32 itemId, bytes32 code)))

where ``code`` is the code's ASCII, left-aligned and zero-padded. ``claim(itemId, code, proof)``
recomputes the leaf and the root from the proof. The leaves stay with the brand (whoever holds
them can build proofs, and could guess codes offline at 31^12 ≈ 2^59 tries an item; see
SECURITY.md); the codes themselves go to the printer only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from supplytrace.core.hashing import keccak

#: 31 symbols: digits 2-9 and A-Z without I, L, O.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
#: How a code is printed: three groups of four (``7KQM-2XHD-9PRW``); typing accepts any grouping.
GROUP = 4
_CONFUSED = str.maketrans({"0": "O", "1": "I"})  # mapped to letters not in the alphabet: refused


def new_code() -> str:
    """A fresh random code (``secrets``: unpredictable)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def printed(code: str) -> str:
    """The code as printed: groups of :data:`GROUP` joined by hyphens."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize(text: str) -> str | None:
    """A code as typed (any case, spaces or hyphens anywhere) in its canonical form, or None
    when it cannot be a code (wrong length, a character outside the alphabet)."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    compact = "".join(text.split()).replace("-", "").upper().translate(_CONFUSED)
    if len(compact) != CODE_LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return compact


def code_word(code: str) -> bytes:
    """The code as the contract's ``bytes32``: ASCII, left-aligned, zero-padded."""
    return code.encode("ascii").ljust(32, b"\0")


def leaf(item_id: bytes, code: str) -> bytes:
    """The tree leaf of an item and its code (see the module documentation)."""
    return keccak(keccak(bytes(item_id).rjust(32, b"\0") + code_word(code)))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class CodeTree:
    """The Merkle tree of a batch's leaves: layers from the sorted leaves up to the root (a
    layer's odd last node moves up unpaired), as OpenZeppelin's ``MerkleProof`` verifies."""

    layers: tuple[tuple[bytes, ...], ...]

    @classmethod
    def of(cls, leaves: Iterable[bytes]) -> CodeTree:
        layer = tuple(sorted(set(bytes(x) for x in leaves)))
        if not layer:
            raise ValueError("a code tree needs at least one leaf.")
        layers = [layer]
        while len(layer) > 1:
            layer = tuple(
                _pair(layer[i], layer[i + 1]) if i + 1 < len(layer) else layer[i]
                for i in range(0, len(layer), 2)
            )
            layers.append(layer)
        return cls(tuple(layers))

    @property
    def root(self) -> bytes:
        return self.layers[-1][0]

    @property
    def leaves(self) -> tuple[bytes, ...]:
        return self.layers[0]

    def proof(self, leaf_: bytes) -> list[bytes] | None:
        """The sibling hashes from ``leaf_`` up to the root, or None if it is not a leaf."""
        leaves = self.layers[0]
        index = _find(leaves, bytes(leaf_))
        if index is None:
            return None
        proof = []
        for layer in self.layers[:-1]:
            sibling = index ^ 1
            if sibling < len(layer):
                proof.append(layer[sibling])
            index //= 2
        return proof


def _find(sorted_leaves: Sequence[bytes], value: bytes) -> int | None:
    lo, hi = 0, len(sorted_leaves)
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_leaves[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(sorted_leaves) and sorted_leaves[lo] == value else None


def process_proof(leaf_: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a proof leads to (``MerkleProof.processProof``), to check a proof off chain."""
    node = bytes(leaf_)
    for sibling in proof:
        node = _pair(node, bytes(sibling))
    return node


# ----------------------------------------------------------------------------------------------
# What the brand keeps: one tree document per committed root
# ----------------------------------------------------------------------------------------------

#: Where the brand's tree documents live, under ``SUPPLYTRACE_HOME`` (the page server that relays
#: claims reads the same place, or its own copy of it): ``codes/<chain id>/<registry>/<root>.json``.
TREES_DIR = "codes"


def tree_path(home: PurePath, chain_id: int, registry: str, root: bytes) -> PurePath:
    """The tree document of ``root`` under ``home`` (``registry`` in lower case, ``root`` in hex)."""
    return home / TREES_DIR / str(chain_id) / registry.lower() / f"{bytes(root).hex()}.json"


def tree_document(tree: CodeTree, lot_id: int) -> dict[str, Any]:
    """The JSON document of a committed tree: its root, its lot and its sorted leaves (no codes)."""
    return {
        "root": "0x" + tree.root.hex(),
        "lot_id": lot_id,
        "leaves": ["0x" + x.hex() for x in tree.leaves],
    }


def tree_from_document(document: Any) -> tuple[int, CodeTree]:
    """(lot id, tree) of a tree document; ValueError when it is malformed or its leaves do not
    make its root."""
    try:
        lot_id = int(document["lot_id"])
        leaves = [bytes.fromhex(str(x).removeprefix("0x")) for x in document["leaves"]]
        root = bytes.fromhex(str(document["root"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a code tree document: {exc}") from None
    if any(len(x) != 32 for x in leaves):
        raise ValueError("not a code tree document: a leaf is not 32 bytes.")
    tree = CodeTree.of(leaves)
    if tree.root != root:
        raise ValueError("the code tree document's leaves do not make its root.")
    return lot_id, tree


def lot_trees(documents: Iterable[Any], lot_id: int) -> list[CodeTree]:
    """The trees of lot ``lot_id`` among tree ``documents`` (as loaded from their JSON files);
    malformed documents are skipped (a document is hostile bytes like any file)."""
    trees = []
    for document in documents:
        try:
            if not isinstance(document, dict) or int(document.get("lot_id", -1)) != lot_id:
                continue
            _lot, tree = tree_from_document(document)
        except (TypeError, ValueError, OverflowError):
            continue
        trees.append(tree)
    return trees


def find_proof(trees: Iterable[CodeTree], item_id: bytes, code: str) -> tuple[bytes, list[bytes]] | None:
    """(root, proof) of the item's ``code`` in the first of ``trees`` holding its leaf, or None when
    no tree does (a wrong code, or an item without hidden codes here). ``trees`` are one lot's
    (:func:`lot_trees`): a claim's proof must lead to a root committed for the item's lot."""
    wanted = leaf(item_id, code)
    for tree in trees:
        proof = tree.proof(wanted)
        if proof is not None:
            return tree.root, proof
    return None
