"""supplytrace.core.metadata: RFC 8785 canonical JSON, the metadata hash and reading metadata files."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.metadata import (
    MetadataError,
    canonical_json,
    load_metadata,
    metadata_hash,
    parse_metadata,
)

MAX_SAFE_INTEGER = 2**53 - 1

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    # Integral doubles in [2**53, 1e21) print as integer digits, which Python's json reads back as an int
    # outside rfc8785's safe-integer domain; keep them out of the round-trip properties.
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: abs(x) < 2**53 or abs(x) >= 1e21)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)


def reordered(value, rng: random.Random):
    """The same JSON value with every object's keys in a shuffled insertion order."""
    if isinstance(value, dict):
        items = [(k, reordered(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [reordered(v, rng) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# canonical_json (RFC 8785)
# ---------------------------------------------------------------------------------------------


def test_canonical_json__rfc8785_section_3_2_2_example__byte_exact():
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(json.loads(source)) == expected


def test_canonical_json__keys__sorted_by_utf16_code_units():
    # RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike code point order.
    metadata = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001f600": 5, "\x80": 6, "\u00f6": 7}
    keys = list(json.loads(canonical_json(metadata)))
    assert keys == ["\r", "1", "\x80", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_canonical_json__nested_object__sorted_keys_and_no_whitespace():
    metadata = {
        "origin": {"region": "Banat", "country": "RO"},
        "brand": "Hillside",
        "certificates": [{"z": 1, "a": 2}],
    }
    assert canonical_json(metadata) == (
        b'{"brand":"Hillside","certificates":[{"a":2,"z":1}],"origin":{"country":"RO","region":"Banat"}}'
    )


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (4.50, "4.5"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (5e-324, "5e-324"),
        (-1.5, "-1.5"),
        (MAX_SAFE_INTEGER, "9007199254740991"),
        (333333333.33333329, "333333333.3333333"),
    ],
)
def test_canonical_json__number__ecmascript_formatting(number, text):
    assert canonical_json({"n": number}) == b'{"n":' + text.encode() + b"}"


def test_canonical_json__non_ascii_and_control_chars__utf8_with_lowercase_escapes():
    assert canonical_json({"s": "caf\u00e9\x1f\u2028"}) == '{"s":"caf\u00e9\\u001f\u2028"}'.encode()


@pytest.mark.parametrize("value", [[1, 2], "honey", 42, None, 1.5, True, ({"a": 1},)])
def test_canonical_json__not_an_object__raises_metadata_error(value):
    with pytest.raises(MetadataError, match="must be a JSON object"):
        canonical_json(value)


@pytest.mark.parametrize(
    "metadata",
    [
        {"a": float("nan")},
        {"a": float("inf")},
        {"a": 2**53},
        {1: "integer key"},
        {"a": object()},
        {"a": b"bytes"},
    ],
)
def test_canonical_json__value_outside_i_json__raises_metadata_error(metadata):
    with pytest.raises(MetadataError, match="cannot be canonicalised"):
        canonical_json(metadata)


@given(metadata=json_objects)
def test_canonical_json__any_object__is_valid_json_without_insignificant_whitespace(metadata):
    text = canonical_json(metadata)
    assert canonical_json(json.loads(text)) == text  # idempotent through a parse
    assert json.loads(text) == json.loads(json.dumps(metadata))


# ---------------------------------------------------------------------------------------------
# metadata_hash
# ---------------------------------------------------------------------------------------------


def test_metadata_hash__simple_object__keccak_of_canonical_bytes():
    assert metadata_hash({"b": 1, "a": [True, None]}) == keccak(b'{"a":[true,null],"b":1}')


@given(metadata=json_objects, seed=st.integers())
def test_metadata_hash__keys_reordered__hash_unchanged(metadata, seed):
    shuffled = reordered(metadata, random.Random(seed))
    assert metadata_hash(shuffled) == metadata_hash(metadata)
    assert len(metadata_hash(metadata)) == 32


@given(metadata=json_objects)
def test_metadata_hash__round_trip_through_pretty_json__hash_unchanged(metadata):
    pretty = json.dumps(metadata, indent=4, sort_keys=False, ensure_ascii=True)
    assert metadata_hash(json.loads(pretty)) == metadata_hash(metadata)


def test_metadata_hash__one_value_changed__hash_changes():
    assert metadata_hash({"harvest": "2026-07-14"}) != metadata_hash({"harvest": "2026-07-15"})


def test_metadata_hash__not_an_object__raises_metadata_error():
    with pytest.raises(MetadataError):
        metadata_hash(["not", "an", "object"])


# ---------------------------------------------------------------------------------------------
# load_metadata
# ---------------------------------------------------------------------------------------------


def test_load_metadata__valid_file__returns_object(tmp_path):
    path = tmp_path / "lot.json"
    path.write_text('{"product": "Acacia honey", "origin": {"country": "RO"}}', encoding="utf-8")
    assert load_metadata(path) == {"product": "Acacia honey", "origin": {"country": "RO"}}


def test_load_metadata__missing_file__raises_does_not_exist(tmp_path):
    path = tmp_path / "missing.json"
    with pytest.raises(MetadataError, match="does not exist") as info:
        load_metadata(path)
    assert str(path) in str(info.value)


def test_load_metadata__malformed_json__raises_naming_the_line(tmp_path):
    path = tmp_path / "lot.json"
    path.write_text('{\n  "product": "honey",\n  "origin": }\n', encoding="utf-8")
    with pytest.raises(MetadataError, match=r"is not valid JSON \(line 3: ") as info:
        load_metadata(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content", ["[1, 2]", '"honey"', "42", "null"])
def test_load_metadata__json_not_an_object__raises_must_hold_object(tmp_path, content):
    path = tmp_path / "lot.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MetadataError, match="must hold a JSON object"):
        load_metadata(path)


def test_load_metadata__not_utf8__raises_metadata_error(tmp_path):
    # A Latin-1 file (common from spreadsheet exports) must give the one-sentence error, not a traceback.
    path = tmp_path / "lot.json"
    path.write_bytes('{"product": "Caf\u00e9 honey"}'.encode("latin-1"))
    with pytest.raises(MetadataError):
        load_metadata(path)


# ---------------------------------------------------------------------------------------------
# Strict reading (issue #11): what JSON parsers disagree on is refused, never guessed
# ---------------------------------------------------------------------------------------------


def test_load_metadata__duplicate_key__refused_naming_the_key(tmp_path):
    path = tmp_path / "lot.json"
    path.write_text('{"product": "Acacia honey", "origin": "RO", "product": "Fake honey"}')
    with pytest.raises(MetadataError, match="'product' twice"):
        load_metadata(path)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_load_metadata__non_finite_number__refused(tmp_path, number):
    path = tmp_path / "lot.json"
    path.write_text(f'{{"product": "honey", "weight": {number}}}')
    with pytest.raises(MetadataError, match=f"{number}.*not a JSON number"):
        load_metadata(path)


def test_load_metadata__nested_deeper_than_32__refused_without_recursion_error(tmp_path):
    path = tmp_path / "lot.json"
    path.write_text('{"a": ' + "[" * 900 + "]" * 900 + "}")
    with pytest.raises(MetadataError, match="more than 32 levels"):
        load_metadata(path)


def test_load_metadata__32_levels__accepted(tmp_path):
    path = tmp_path / "lot.json"
    path.write_text('{"a": ' + "[" * 31 + "]" * 31 + "}")
    assert load_metadata(path) == {"a": json.loads("[" * 31 + "]" * 31)}


def test_parse_metadata__200k_levels_with_a_raised_recursion_limit__a_sentence_not_a_crash():
    """json's C parser recurses once per level: with a recursion limit raised (as some libraries
    do) a deeply nested file overflowed the C stack and killed the process (SIGSEGV) before any
    RecursionError. The depth is counted before parsing."""
    program = (
        "import sys\n"
        "from supplytrace.core.metadata import MetadataError, parse_metadata\n"
        "sys.setrecursionlimit(1_000_000)\n"
        "try:\n"
        "    parse_metadata('{\"a\": ' + '[' * 200_000 + '\"x\"' + ']' * 200_000 + '}')\n"
        "except MetadataError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "nests more than 32 levels deep; flatten it.")


@pytest.mark.parametrize(
    "text",
    ['{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', '{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'],
)
def test_parse_metadata__brackets_inside_strings__not_counted_as_levels(text):
    assert parse_metadata(text) == json.loads(text)
