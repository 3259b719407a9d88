"""supplytrace.core.ids: GTIN normalisation, GS1 codes, item ids (checked on the contract), Digital Links."""

from __future__ import annotations

import re
import string
from urllib.parse import quote

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplytrace.core.ids import (
    IdentityError,
    ItemKey,
    check_code,
    encode_code,
    item_id,
    normalize_gtin,
    parse_item_id,
)
from supplytrace.core.text import ChainText

HONEY_GTIN = "09506000134352"
BASE = "https://id.example.com"

#: GS1 General Specifications figure 7.11-1, written out independently of the package's regex.
CSET82 = "!\"%&'()*+,-./" + string.digits + ":;<=>?" + string.ascii_uppercase + "_" + string.ascii_lowercase
#: Characters of CSET 82 that a Digital Link must percent-encode (shared/reference.md).
PERCENT_ENCODED = "/%&+,!()*':;<=>?\""


def gs1_check_digit(body: str) -> str:
    """Weights 3,1,3,1... from the rightmost digit; check = (10 - sum mod 10) mod 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin_of_length(length: int) -> st.SearchStrategy[str]:
    body = st.text(alphabet=string.digits, min_size=length - 1, max_size=length - 1)
    return body.map(lambda b: b + gs1_check_digit(b)).filter(lambda g: int(g) != 0)


gtins = st.sampled_from([8, 12, 13, 14]).flatmap(gtin_of_length)
codes = st.text(alphabet=CSET82, min_size=1, max_size=20)


def independent_item_id(gtin14: str, serial: str) -> bytes:
    return keccak(encode(["uint256", "bytes32"], [int(gtin14), serial.encode("ascii").ljust(32, b"\0")]))


# ---------------------------------------------------------------------------------------------
# GTIN
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gtin", "expected"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("614141000036", "00614141000036"),  # GTIN-12 (UPC-A)
        ("9506000134352", "09506000134352"),  # GTIN-13 (shared/reference.md example)
        ("09506000134352", "09506000134352"),  # GTIN-14
        ("10614141000033", "10614141000033"),  # GTIN-14 with indicator digit 1
        (9506000134352, "09506000134352"),  # an int loses its leading zero but is still the same GTIN
        (" 9506000134352 ", "09506000134352"),  # surrounding whitespace is tolerated
    ],
)
def test_normalize_gtin__valid_gtin_8_12_13_14__returns_14_digits(gtin, expected):
    assert normalize_gtin(gtin) == expected


@given(gtin=gtins)
def test_normalize_gtin__any_valid_gtin__zero_padded_to_14(gtin):
    assert normalize_gtin(gtin) == gtin.zfill(14)


@given(gtin=gtins, wrong=st.integers(min_value=1, max_value=9))
def test_normalize_gtin__wrong_check_digit__raises_naming_check_digit(gtin, wrong):
    bad = gtin[:-1] + str((int(gtin[-1]) + wrong) % 10)
    with pytest.raises(IdentityError, match="check digit") as info:
        normalize_gtin(bad)
    assert bad in str(info.value)


@pytest.mark.parametrize("gtin", ["950600013435X", "9506-000134352", "+9506000134352", "", "0x9506000134352"])
def test_normalize_gtin__non_digits__raises_digits_only(gtin):
    with pytest.raises(IdentityError, match="digits only"):
        normalize_gtin(gtin)


@pytest.mark.parametrize(
    "gtin",
    [
        "".join(chr(0xFF10 + int(d)) for d in "9506000134352"),  # full-width digits
        "".join(chr(0x0660 + int(d)) for d in "9506000134352"),  # Arabic-Indic digits
    ],
    ids=["fullwidth", "arabic-indic"],
)
def test_normalize_gtin__non_ascii_unicode_digits__raises(gtin):
    # str.isdigit() is True for these, so they slip through and come back as a mixed-script "GTIN-14".
    with pytest.raises(IdentityError):
        normalize_gtin(gtin)


@pytest.mark.parametrize("gtin", ["1234567", "123456789", "12345678901", "123456789012345", "0"])
def test_normalize_gtin__wrong_length__raises_naming_lengths(gtin):
    with pytest.raises(IdentityError, match=r"8, 12, 13,? or 14 digits") as info:
        normalize_gtin(gtin)
    assert gtin in str(info.value)


def test_normalize_gtin__all_zeros__raises_like_the_contract():
    # The contract reverts InvalidGtin(0) for GTIN zero (ProvenanceRegistry._checkGtin); Python must agree,
    # or the CLI computes ids and links for a GTIN that can never be registered.
    with pytest.raises(IdentityError):
        normalize_gtin("00000000000000")


# ---------------------------------------------------------------------------------------------
# Serials and lot codes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["A", "x" * 20, "JAR00001", "HONEY-2026-A", CSET82[:20], CSET82[-20:], "_./-"]
)
def test_check_code__1_to_20_cset82_chars__returned_unchanged(code):
    assert check_code(code) == code


def test_check_code__every_cset82_char__accepted():
    assert len(set(CSET82)) == 82
    for char in CSET82:
        assert check_code(char) == char


@pytest.mark.parametrize(
    "code",
    [
        "",
        "x" * 21,
        "JAR 1",
        " ",
        "caf\u00e9",
        "\u00c5",
        "JAR#1",
        "#",
        "A\tB",
        "A\x00",
        "A~B",
        "A\\B",
        "A`B",
        "A|B",
    ],
)
def test_check_code__outside_cset82_or_length__raises(code):
    with pytest.raises(IdentityError, match="1 to 20 characters"):
        check_code(code)


@pytest.mark.parametrize("code", ["ABC\n", "x" * 20 + "\n"])
def test_check_code__trailing_newline__raises(code):
    # `$` in the pattern matches before a final newline, so re.match accepts "ABC\n" (and 21 characters).
    with pytest.raises(IdentityError):
        check_code(code)


@pytest.mark.parametrize("value", [None, 12345, b"JAR1"])
def test_check_code__not_a_string__raises(value):
    with pytest.raises(IdentityError):
        check_code(value)  # type: ignore[arg-type]


def test_check_code__lot__message_names_lot_code_and_value():
    with pytest.raises(IdentityError, match=r"^lot code 'LOT#7' must be"):
        check_code("LOT#7", "lot code")


def test_check_code__default__message_names_serial():
    with pytest.raises(IdentityError, match=r"^serial '' must be"):
        check_code("")


@given(code=codes)
def test_encode_code__any_cset82_code__32_bytes_left_aligned_and_round_trips(code):
    encoded = encode_code(code)
    assert len(encoded) == 32
    assert encoded == code.encode("ascii") + b"\0" * (32 - len(code))
    assert ChainText.from_word(encoded).exact == code  # the chain's text decodes it back exactly


def test_encode_code__invalid_code__raises_with_what():
    with pytest.raises(IdentityError, match=r"^lot code"):
        encode_code("", "lot code")


# ---------------------------------------------------------------------------------------------
# Item ids
# ---------------------------------------------------------------------------------------------


def test_item_id__honey_jar__matches_hand_computed_words():
    # abi.encode(uint256, bytes32) is two 32-byte words; built here byte by byte.
    words = int(HONEY_GTIN).to_bytes(32, "big") + b"JAR00001".ljust(32, b"\0")
    assert item_id(HONEY_GTIN, "JAR00001") == keccak(words)


@given(gtin=gtins, serial=codes)
def test_item_id__any_gtin_length__equals_keccak_of_abi_encoding(gtin, serial):
    assert item_id(gtin, serial) == independent_item_id(gtin.zfill(14), serial)
    assert item_id(gtin, serial) == item_id(gtin.zfill(14), serial)


def test_item_id__invalid_serial__raises():
    with pytest.raises(IdentityError):
        item_id(HONEY_GTIN, "JAR 1")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gtin=gtins, serial=codes)
def test_item_id__sample_of_keys__equals_contract_item_id_of(registry, gtin, serial):
    expected = independent_item_id(gtin.zfill(14), serial)
    assert item_id(gtin, serial) == expected
    assert bytes(registry.itemIdOf(int(gtin), encode_code(serial))) == expected


def test_item_key__create__normalizes_and_id_matches_item_id():
    key = ItemKey.create("9506000134352", "JAR00001", "ACACIA-2026-07")
    assert key == ItemKey(gtin=HONEY_GTIN, serial="JAR00001", lot="ACACIA-2026-07")
    assert key.id == item_id(HONEY_GTIN, "JAR00001")
    assert key.id_hex == "0x" + key.id.hex()
    assert len(key.id_hex) == 66


def test_item_key__create_with_bad_lot__raises_naming_lot_code():
    with pytest.raises(IdentityError, match=r"^lot code"):
        ItemKey.create(HONEY_GTIN, "JAR00001", "LOT 1")


# ---------------------------------------------------------------------------------------------
# parse_item_id
# ---------------------------------------------------------------------------------------------


def test_parse_item_id__lower_upper_and_padded__returns_32_bytes():
    raw = bytes(range(32))
    assert parse_item_id("0x" + raw.hex()) == raw
    assert parse_item_id("0X" + raw.hex().upper()) == raw
    assert parse_item_id("  0x" + raw.hex() + "\n") == raw


@given(raw=st.binary(min_size=32, max_size=32))
def test_parse_item_id__any_32_bytes__round_trips(raw):
    assert parse_item_id("0x" + raw.hex()) == raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0x",
        "ab" * 32,
        "0x" + "ab" * 31,
        "0x" + "ab" * 33,
        "0x" + "ab" * 31 + "zz",
        "0x..bad",
        "0x" + "a" * 63,
    ],
)
def test_parse_item_id__not_0x_64_hex__raises_naming_expected_form(text):
    with pytest.raises(IdentityError, match="0x followed by 64 hex digits"):
        parse_item_id(text)


# ---------------------------------------------------------------------------------------------
# GS1 Digital Link
# ---------------------------------------------------------------------------------------------


def test_digital_link__gtin_lot_serial__qualifiers_in_gs1_order():
    key = ItemKey.create("9506000134352", "JAR00001", "ACACIA-2026-07")
    assert key.digital_link(BASE) == f"{BASE}/01/09506000134352/10/ACACIA-2026-07/21/JAR00001"


def test_digital_link__no_lot__gtin_then_serial():
    assert (
        ItemKey.create(HONEY_GTIN, "JAR00001").digital_link(BASE) == f"{BASE}/01/09506000134352/21/JAR00001"
    )


def test_digital_link__gtin_8__padded_to_14_in_uri():
    assert ItemKey.create("96385074", "S1").digital_link(BASE) == f"{BASE}/01/00000096385074/21/S1"


@pytest.mark.parametrize("char", list(PERCENT_ENCODED))
def test_digital_link__special_char_in_serial__percent_encoded(char):
    key = ItemKey.create(HONEY_GTIN, f"A{char}B")
    expected = f"A%{ord(char):02X}B"
    assert key.digital_link(BASE) == f"{BASE}/01/{HONEY_GTIN}/21/{expected}"


@pytest.mark.parametrize("char", list(PERCENT_ENCODED))
def test_digital_link__special_char_in_lot__percent_encoded(char):
    key = ItemKey.create(HONEY_GTIN, "S1", f"L{char}1")
    expected = f"L%{ord(char):02X}1"
    assert key.digital_link(BASE) == f"{BASE}/01/{HONEY_GTIN}/10/{expected}/21/S1"


def test_digital_link__parentheses_in_serial__serial_kept_whole():
    # '(' and ')' are legal in AI 21; a serial must never be truncated or split into other AIs.
    key = ItemKey.create(HONEY_GTIN, "A(21)B", "L(10)X")
    link = key.digital_link(BASE)
    assert link == f"{BASE}/01/{HONEY_GTIN}/10/L%2810%29X/21/A%2821%29B"
    assert ItemKey.from_digital_link(link) == key


def test_digital_link__unreserved_cset82_chars__left_as_is():
    key = ItemKey.create(HONEY_GTIN, "A-B.C_D", "x_y.z-1")
    assert key.digital_link(BASE) == f"{BASE}/01/{HONEY_GTIN}/10/x_y.z-1/21/A-B.C_D"


@pytest.mark.parametrize(
    ("base", "prefix"),
    [
        ("https://id.example.com/gs1", "https://id.example.com/gs1"),
        ("https://id.example.com/gs1/", "https://id.example.com/gs1"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://brand.example/a/b", "https://brand.example/a/b"),
    ],
)
def test_digital_link__base_with_path_prefix__prefix_kept(base, prefix):
    key = ItemKey.create(HONEY_GTIN, "JAR00001")
    link = key.digital_link(base)
    assert link == f"{prefix}/01/{HONEY_GTIN}/21/JAR00001"
    assert ItemKey.from_digital_link(link) == key


@pytest.mark.parametrize(
    "base",
    [
        "",
        "id.example.com",
        "ftp://id.example.com",
        "https://",
        "https:///path",
        "https://id.example.com?x=1",
        "https://id.example.com/#top",
        "javascript:alert(1)",
    ],
)
def test_digital_link__bad_base__raises_naming_the_base(base):
    with pytest.raises(IdentityError, match="resolver base") as info:
        ItemKey.create(HONEY_GTIN, "JAR00001").digital_link(base)
    assert repr(base) in str(info.value)


@given(
    gtin=gtins,
    serial=codes,
    lot=st.none() | codes,
    base=st.sampled_from([BASE, "https://id.example.com/gs1/", "http://localhost:8000"]),
)
def test_from_digital_link__any_key__round_trips(gtin, serial, lot, base):
    key = ItemKey.create(gtin, serial, lot)
    assert ItemKey.from_digital_link(key.digital_link(base)) == key


def test_from_digital_link__extra_query_attributes__ignored():
    uri = f"{BASE}/01/{HONEY_GTIN}/10/L1/21/JAR00001?17=261231&foo=bar"
    assert ItemKey.from_digital_link(uri) == ItemKey(HONEY_GTIN, "JAR00001", "L1")


def test_from_digital_link__gtin_13_in_uri__normalized_to_14():
    key = ItemKey.from_digital_link(f"{BASE}/01/9506000134352/21/JAR00001")
    assert key.gtin == HONEY_GTIN
    assert key.id == item_id(HONEY_GTIN, "JAR00001")


def test_from_digital_link__surrounding_whitespace__tolerated():
    assert ItemKey.from_digital_link(f"  {BASE}/01/{HONEY_GTIN}/21/S1\n") == ItemKey(HONEY_GTIN, "S1")


def test_from_digital_link__percent_encoded_serial__decoded():
    key = ItemKey.from_digital_link(f"{BASE}/01/{HONEY_GTIN}/21/A%2FB%21")
    assert key.serial == "A/B!"


def test_from_digital_link__no_serial__raises_needs_serial():
    with pytest.raises(IdentityError, match=r"needs a GTIN \(/01/\) and a serial \(/21/\)"):
        ItemKey.from_digital_link(f"{BASE}/01/{HONEY_GTIN}/10/L1")


def test_from_digital_link__qualifiers_out_of_order__raises():
    with pytest.raises(IdentityError, match="not a GS1 Digital Link URI"):
        ItemKey.from_digital_link(f"{BASE}/01/{HONEY_GTIN}/21/JAR00001/10/L1")


def test_from_digital_link__bad_check_digit_in_uri__raises():
    with pytest.raises(IdentityError):
        ItemKey.from_digital_link(f"{BASE}/01/09506000134353/21/JAR00001")


def test_from_digital_link__serial_outside_cset82__raises():
    with pytest.raises(IdentityError):
        ItemKey.from_digital_link(f"{BASE}/01/{HONEY_GTIN}/21/JAR%201")


@pytest.mark.parametrize(
    "text",
    [
        "hello world",
        "",
        "09506000134352",
        "https://example.com/products/42",
        "ftp://id.example.com/01/x/21/y",
    ],
)
def test_from_digital_link__not_a_digital_link__raises(text):
    with pytest.raises(IdentityError):
        ItemKey.from_digital_link(text)


def test_digital_link__many_special_chars__equal_rfc3986_quote_of_serial():
    # RFC 3986 percent-encoding of everything but unreserved characters (parentheses are tested above).
    serial = "A/%&+,!*':;<=>?\"B"
    link = ItemKey.create(HONEY_GTIN, serial).digital_link(BASE)
    assert link == f"{BASE}/01/{HONEY_GTIN}/21/{quote(serial, safe='')}"


def test_sscc_of__every_written_form__the_18_digits_items_none():
    from supplytrace.core.ids import sscc_of, sscc_with_check_digit

    code = sscc_with_check_digit("09506000000000001")
    forms = [code, f"00{code}", f"(00){code}", f"(00) {code}", f"https://id.example.com/00/{code}"]
    assert {sscc_of(form) for form in forms} == {code}
    assert sscc_of("https://id.example.com/01/09506000134352/21/1") is None
    assert sscc_of("0x" + "ab" * 32) is None


@given(
    body=st.text("0123456789", min_size=17, max_size=17).filter(lambda b: int(b) > 0),
    form=st.sampled_from(
        ["{}", "00{}", "(00){}", "(00) {}", "https://id.example.com/00/{}", "http://x/p/00/{}"]
    ),
    serial=st.text(string.ascii_letters + string.digits, min_size=1, max_size=20),
)
def test_sscc_of__any_sscc_in_any_form_and_any_item_uri__the_container_or_none(body, form, serial):
    from supplytrace.core.ids import container_id, sscc_of, sscc_with_check_digit

    code = sscc_with_check_digit(body)
    assert sscc_of(form.format(code)) == code
    assert container_id(sscc_of(form.format(code)) or "") == container_id(int(code))
    item = ItemKey.create("09506000134352", serial).digital_link("https://id.example.com")
    assert sscc_of(item) is None


@pytest.mark.parametrize(
    "line",
    [
        "(01) 09506000134352  (10) L-1  (21) JAR-1",
        "(01)09506000134352(10)L-1(21)JAR-1",
        " (01) 9506000134352 (10) L-1 (21) JAR-1 ",
    ],
)
def test_from_hri__the_label_s_line__the_item_s_key(line):
    key = ItemKey.from_hri(line)
    assert (key.gtin, key.lot, key.serial) == ("09506000134352", "L-1", "JAR-1")
    assert key.id == ItemKey.create("09506000134352", "JAR-1").id


@pytest.mark.parametrize(
    ("line", "problem"),
    [("(01) 09506000134352 (10) L-1", "needs a GTIN (01) and a serial number (21)"),
     ("(01) 09506000134353 (21) JAR-1", "not valid"), ("(99", "not a GS1 human-readable line")],
)  # fmt: skip
def test_from_hri__no_serial_or_bad_gtin_or_garbage__one_sentence(line, problem):
    with pytest.raises(IdentityError, match=re.escape(problem)):
        ItemKey.from_hri(line)


def test_container_id__sscc_as_the_chains_integer__leading_zero_restored():
    from supplytrace.core.ids import container_id, normalize_sscc, sscc_with_check_digit

    sscc = sscc_with_check_digit("09506000000000042")
    assert normalize_sscc(int(sscc)) == sscc
    assert container_id(int(sscc)) == container_id(sscc)
