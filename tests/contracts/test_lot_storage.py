"""A lot's code and metadata hash read back exactly from its packed storage (issue #14): its second
word (contracts/types/LotDetails.sol) holds the code in 128 bits (base 83) and the hash's low 32
bits next to the stock and item quantity; the word its key maps to (contracts/types/LotIndex.sol)
holds its id and the hash's high 224 bits. getLot, getItem and lotIdOf give back what was
registered, at the edges of each field and at random."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.core.ids import CSET82, MAX_CODE_LENGTH, encode_code, item_id
from tests.conftest import item_record, lot_record, normalized, with_check_digit

GRAM = 2  # IProvenanceRegistry.QuantityUnit
#: The brand owns this GS1 company prefix: every GTIN it starts is the brand's (one per test lot).
PREFIX = "9506000"
#: CSET 82 in ASCII order (its characters' ranks, the digits of a packed code less 1).
CSET82_ORDER = "".join(sorted(CSET82))
#: 20-character codes together using every character of CSET 82, then the shortest and the
#: longest codes of the lowest and the highest digit.
CODES = [
    CSET82_ORDER[start : start + MAX_CODE_LENGTH] for start in range(0, len(CSET82_ORDER), MAX_CODE_LENGTH)
]
CODES += ["!", "z", "!" * MAX_CODE_LENGTH, "z" * MAX_CODE_LENGTH]
ALL_BITS = b"\xff" * 32
#: Hashes at the split between the two words (the low 32 bits in one, the high 224 in the other).
HASHES = {
    "all-bits": ALL_BITS,
    "low-32-bits": b"\0" * 28 + b"\xff" * 4,
    "high-32-bits": b"\xff" * 4 + b"\0" * 28,
    "high-224-bits": b"\xff" * 28 + b"\0" * 4,
    "bits-31-and-32": (2**31 + 2**32).to_bytes(32, "big"),
    "zero": b"\0" * 32,
}

_item_references = itertools.count(1)


def fresh_gtin() -> str:
    """A GTIN-14 of the brand's prefix no test lot has used yet."""
    return f"{with_check_digit('0' + PREFIX + f'{next(_item_references):05d}'):014d}"


@pytest.fixture(scope="module")
def prefix_brand(registry, registrar_role, admin, brand):
    registry.grantRole(registrar_role, brand, sender=admin)
    registry.assignCompanyPrefix(int(PREFIX), len(PREFIX), brand, sender=admin)
    return brand


def registered_and_read(registry, brand, code: str, metadata_hash: bytes) -> tuple[list, list]:
    """Registers a lot with ``code`` and ``metadata_hash`` under a fresh GTIN and an item into it
    (the code as its serial); returns what getLot, getItem and lotIdOf give back and what they
    should: [lot code, hash, item's lot code, item's lot hash, lotIdOf]."""
    gtin, word = fresh_gtin(), encode_code(code, "lot code")
    registry.registerLot(int(gtin), word, metadata_hash, sender=brand)
    lot = registry.lotCount()
    registry.registerItem(lot, word, sender=brand)
    got_lot, got_item = lot_record(registry, lot), item_record(registry, item_id(gtin, code))
    got = [got_lot["lotCode"], got_lot["metadataHash"], got_item["lotCode"], got_item["lotMetadataHash"]]
    got.append(registry.lotIdOf(int(gtin), word))
    return got, [word, metadata_hash, word, metadata_hash, lot]


@pytest.mark.parametrize("code", CODES)
def test_lot_reads__code_at_the_edges_of_cset_82__exact_code_and_hash(registry, prefix_brand, code):
    got, expected = registered_and_read(registry, prefix_brand, code, ALL_BITS)

    assert got == expected


@pytest.mark.parametrize("metadata_hash", list(HASHES.values()), ids=list(HASHES))
def test_lot_reads__hash_at_the_split__exact_code_and_hash(registry, prefix_brand, metadata_hash):
    got, expected = registered_and_read(registry, prefix_brand, "z" * MAX_CODE_LENGTH, metadata_hash)

    assert got == expected


def test_get_lot__every_field_at_its_maximum__full_record_then_draws_only_stock(registry, prefix_brand):
    gtin, code = fresh_gtin(), encode_code("z" * MAX_CODE_LENGTH, "lot code")
    stock, item_quantity = 2**64 - 1, 2**32 - 1
    registry.registerMeasuredLot(int(gtin), code, ALL_BITS, stock, item_quantity, GRAM, sender=prefix_brand)
    lot = registry.lotCount()
    expected = normalized(
        {
            "registrar": prefix_brand,
            "gtin": int(gtin),
            "lotCode": code,
            "metadataHash": ALL_BITS,
            "recalledAt": 0,
            "closed": False,
            "unit": GRAM,
            "stock": stock,
            "itemQuantity": item_quantity,
        }
    )
    assert lot_record(registry, lot) == expected

    registry.registerItems(lot, [encode_code("MAX-1"), encode_code("MAX-2")], sender=prefix_brand)

    assert lot_record(registry, lot) == expected | {"stock": stock - 2 * item_quantity}


def test_register_transformed_lot__input_drawn_to_zero__input_keeps_code_and_hash(registry, prefix_brand):
    gtin, code = fresh_gtin(), encode_code("!" * MAX_CODE_LENGTH, "lot code")
    registry.registerMeasuredLot(int(gtin), code, ALL_BITS, 1_000, 2**32 - 1, GRAM, sender=prefix_brand)
    harvest = registry.lotCount()

    registry.registerTransformedLot(
        int(fresh_gtin()),
        encode_code("BLEND"),
        b"\x44" * 32,
        [harvest],
        [1_000],
        1_000,
        500,
        sender=prefix_brand,
    )

    record = lot_record(registry, harvest)
    assert (record["lotCode"], record["metadataHash"], record["stock"], record["itemQuantity"]) == (
        code,
        ALL_BITS,
        0,
        2**32 - 1,
    )
    assert registry.lotIdOf(int(gtin), code) == harvest


@settings(max_examples=30, deadline=None)
@given(
    code=st.text(alphabet=CSET82_ORDER, min_size=1, max_size=MAX_CODE_LENGTH),
    metadata_hash=st.binary(min_size=32, max_size=32),
)
def test_lot_reads__random_code_and_hash__exact_code_and_hash(registry, prefix_brand, code, metadata_hash):
    got, expected = registered_and_read(registry, prefix_brand, code, metadata_hash)

    assert got == expected
