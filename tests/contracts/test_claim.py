"""Hidden codes: one Merkle root per registration batch, and claims of an item with its code."""

from __future__ import annotations

from supplytrace.core.codes import CodeTree, leaf, new_code
from supplytrace.core.ids import encode_code
from tests.conftest import ZERO_ADDRESS, assert_emitted, custody, item_record, reverts_with

CLAIMED = 3


def _claim(registry, tree, item, code, sender):
    proof = tree.proof(leaf(item, code)) or []
    return registry.claim(item, code.encode().ljust(32, b"\0"), proof, sender=sender)


def test_register_with_codes__batch__root_committed_to_its_lot(registry, register_with_codes, lot_id, brand):
    ids, _codes, tree = register_with_codes("JAR-1", "JAR-2", "JAR-3")

    assert registry.codeRootLot(tree.root) == lot_id
    assert [custody(registry, i)[0] for i in ids] == [brand.address] * 3


def test_register_with_codes__root_reused_or_zero__reverts(registry, register_with_codes, lot_id, brand):
    _ids, _codes, tree = register_with_codes("JAR-1")
    with reverts_with(registry.InvalidCodeRoot, root=tree.root):
        registry.registerItemsWithCodes(lot_id, [encode_code("JAR-2")], tree.root, sender=brand)
    with reverts_with(registry.InvalidCodeRoot, root=b"\0" * 32):
        registry.registerItemsWithCodes(lot_id, [encode_code("JAR-2")], b"\0" * 32, sender=brand)


def test_register_with_codes__not_the_lot_registrar__reverts(registry, lot_id, rogue, brand):
    with reverts_with(registry.NotLotRegistrar, lotId=lot_id, account=rogue, registrar=brand):
        registry.registerItemsWithCodes(lot_id, [encode_code("JAR-1")], b"\x01" * 32, sender=rogue)


def test_claim__right_code__item_claimed_by_anyone(registry, register_with_codes, stranger, brand):
    ids, codes, tree = register_with_codes("JAR-1", "JAR-2", "JAR-3")

    tx = _claim(registry, tree, ids[1], codes[ids[1]], stranger)

    assert_emitted(tx, registry.ItemClaimed(ids[1], brand))
    record = item_record(registry, ids[1])
    assert record["status"] == CLAIMED and record["updatedAt"] == tx.timestamp
    assert item_record(registry, ids[0])["status"] == 1


def test_claim__twice__reverts_already_claimed(registry, register_with_codes, stranger):
    ids, codes, tree = register_with_codes("JAR-1", "JAR-2")
    _claim(registry, tree, ids[0], codes[ids[0]], stranger)

    with reverts_with(registry.ItemAlreadyClaimed, itemId=ids[0]):
        _claim(registry, tree, ids[0], codes[ids[0]], stranger)


def test_claim__wrong_code__reverts_invalid_code(registry, register_with_codes, stranger):
    ids, codes, tree = register_with_codes("JAR-1", "JAR-2")
    proof = tree.proof(leaf(ids[0], codes[ids[0]]))

    with reverts_with(registry.InvalidCode, itemId=ids[0]):
        registry.claim(ids[0], new_code().encode().ljust(32, b"\0"), proof, sender=stranger)


def test_claim__code_of_another_item__reverts_invalid_code(registry, register_with_codes, stranger):
    ids, codes, tree = register_with_codes("JAR-1", "JAR-2")

    with reverts_with(registry.InvalidCode, itemId=ids[0]):
        # the second item's code and proof, presented for the first item
        registry.claim(
            ids[0],
            codes[ids[1]].encode().ljust(32, b"\0"),
            tree.proof(leaf(ids[1], codes[ids[1]])),
            sender=stranger,
        )


def test_claim__root_of_another_lot__reverts_invalid_code(
    registry, register_with_codes, register, other_lot_id, brand, stranger
):
    """A root committed for another lot does not open this lot's items, even with a matching leaf."""
    (item,) = register("JAR-9")
    code = new_code()
    lone = CodeTree.of([leaf(item, code)])  # a one-leaf tree: its root is the leaf
    registry.registerItemsWithCodes(other_lot_id, [encode_code("JAR-2")], lone.root, sender=brand)

    with reverts_with(registry.InvalidCode, itemId=item):
        registry.claim(item, code.encode().ljust(32, b"\0"), [], sender=stranger)


def test_claim__claimed_item__cannot_move_or_be_sold(
    registry, register_with_codes, brand, distributor, stranger
):
    ids, codes, tree = register_with_codes("JAR-1", "JAR-2")
    registry.offer(ids[1], distributor, sender=brand)
    _claim(registry, tree, ids[0], codes[ids[0]], stranger)
    _claim(registry, tree, ids[1], codes[ids[1]], stranger)

    with reverts_with(registry.ItemAlreadyClaimed, itemId=ids[0]):
        registry.offer(ids[0], distributor, sender=brand)
    with reverts_with(registry.ItemAlreadyClaimed, itemId=ids[0]):
        registry.sell(ids[0], sender=brand)
    with reverts_with(registry.ItemAlreadyClaimed, itemId=ids[1]):  # offered before the claim
        registry.accept(ids[1], sender=distributor)


def test_claim__sold_item__claimed(registry, register_with_codes, brand, stranger):
    ids, codes, tree = register_with_codes("JAR-1")
    registry.sell(ids[0], sender=brand)

    tx = _claim(registry, tree, ids[0], codes[ids[0]], stranger)

    assert_emitted(tx, registry.ItemClaimed(ids[0], brand))
    assert item_record(registry, ids[0])["status"] == CLAIMED


def test_claim__unknown_item__reverts(registry, stranger):
    unknown = b"\x42" * 32
    with reverts_with(registry.UnknownItem, itemId=unknown):
        registry.claim(unknown, b"\0" * 32, [], sender=stranger)


def test_claim__item_without_codes__reverts_invalid_code(registry, register, stranger):
    (item,) = register("JAR-1")
    with reverts_with(registry.InvalidCode, itemId=item):
        registry.claim(item, new_code().encode().ljust(32, b"\0"), [], sender=stranger)
    assert custody(registry, item)[1] == ZERO_ADDRESS
