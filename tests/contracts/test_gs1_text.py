"""The registry's text checks (contracts/libraries/Gs1Text.sol: word-parallel, branch-free) agree
with a plain byte-by-byte reference on every byte value at every position and on random words;
its lot code packing (128 bits, base 83) agrees with a plain Python reference and unpacks to the
code it packed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.core.ids import CSET82, MAX_CODE_LENGTH
from tests.conftest import ROOT, compile_test_double

HARNESS = ROOT / "tests" / "contracts" / "doubles" / "Gs1TextHarness.sol"
CSET82_BYTES = frozenset(ord(character) for character in CSET82)
#: CSET 82 in ASCII order: a character's digit in a packed code is its index here plus 1.
CSET82_ORDER = "".join(sorted(CSET82))
PRINTABLE = frozenset(range(0x21, 0x7F))


def _reference(allowed: frozenset[int], longest: int) -> Callable[[bytes], bool]:
    """1 to ``longest`` bytes of ``allowed``, left-aligned, zero-padded to 32 bytes (no NUL inside)."""

    def check(word: bytes) -> bool:
        text = word.rstrip(b"\0")
        return 1 <= len(text) <= longest and all(byte in allowed for byte in text)

    return check


is_code = _reference(CSET82_BYTES, MAX_CODE_LENGTH)
is_biz_step = _reference(PRINTABLE, 32)


@pytest.fixture(scope="module")
def harness(accounts):
    return compile_test_double(HARNESS, "Gs1TextHarness").deploy(sender=accounts[0])


def _chunks(words: Sequence[bytes], size: int = 2048):
    for start in range(0, len(words), size):
        yield list(words[start : start + size])


def every_byte_at_every_position() -> list[bytes]:
    """Texts of "A"s (1, 20, 21 and 32 long), with each byte value 0-255 put at each position."""
    words = []
    for length in (1, 20, 21, 32):
        for position in range(32):
            for value in range(256):
                word = bytearray(b"A" * length + b"\0" * (32 - length))
                word[position] = value
                words.append(bytes(word))
    return words


@pytest.mark.parametrize(
    ("function", "reference"), [("areCodes", is_code), ("areBizSteps", is_biz_step)], ids=["code", "biz-step"]
)
def test_check__every_byte_value_at_every_position__matches_reference(harness, function, reference):
    words = every_byte_at_every_position()
    got = [ok for chunk in _chunks(words) for ok in getattr(harness, function)(chunk)]

    mismatches = [(w.hex(), g) for w, g in zip(words, got, strict=True) if g != reference(w)]
    assert mismatches == []
    assert sum(got) > 1000  # the valid ones pass too


_BYTE = st.one_of(
    st.sampled_from(sorted(CSET82_BYTES)), st.sampled_from(sorted(PRINTABLE)), st.integers(0, 255), st.just(0)
)
_WORDS = st.lists(
    st.lists(_BYTE, max_size=32).map(lambda b: bytes(b).ljust(32, b"\0")), min_size=1, max_size=64
)


@settings(max_examples=60, deadline=None)
@given(words=_WORDS)
def test_check__random_words__matches_reference(harness, words):
    assert list(harness.areCodes(words)) == [is_code(w) for w in words]
    assert list(harness.areBizSteps(words)) == [is_biz_step(w) for w in words]


def packed_reference(text: str) -> int:
    """The code ``text`` as a 20-digit base-83 number, first character first: a character's digit
    is its rank in CSET 82 plus 1, the padding's 0."""
    digits = [CSET82_ORDER.index(character) + 1 for character in text]
    return sum(digit * 83 ** (MAX_CODE_LENGTH - 1 - i) for i, digit in enumerate(digits))


def _word(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def every_character_at_every_position() -> list[str]:
    """Codes of "z"s and of "!"s (the highest and lowest digits; 1 and 20 long), with each
    CSET 82 character put at each position."""
    codes = []
    for filler in "z!":
        for length in (1, 20):
            for position in range(length):
                for character in CSET82_ORDER:
                    code = list(filler * length)
                    code[position] = character
                    codes.append("".join(code))
    return codes


def test_pack_code__every_character_at_every_position__matches_reference_and_unpacks(harness):
    codes = every_character_at_every_position()
    packed = [p for chunk in _chunks([_word(c) for c in codes]) for p in harness.packCodes(chunk)]
    unpacked = [bytes(w) for chunk in _chunks(packed) for w in harness.unpackCodes(chunk)]

    assert [(c, p) for c, p in zip(codes, packed, strict=True) if p != packed_reference(c)] == []
    assert unpacked == [_word(c) for c in codes]


def test_pack_code__longest_highest_code__fits_128_bits(harness):
    (packed,) = harness.packCodes([_word("z" * MAX_CODE_LENGTH)])

    assert packed == 83**MAX_CODE_LENGTH - 1 < 2**128
    assert bytes(harness.unpackCodes([packed])[0]) == _word("z" * MAX_CODE_LENGTH)


_CODES = st.lists(
    st.text(alphabet=CSET82_ORDER, min_size=1, max_size=MAX_CODE_LENGTH), min_size=1, max_size=64
)


@settings(max_examples=60, deadline=None)
@given(codes=_CODES)
def test_pack_code__random_codes__matches_reference_and_unpacks(harness, codes):
    packed = list(harness.packCodes([_word(c) for c in codes]))

    assert packed == [packed_reference(c) for c in codes]
    assert [bytes(w) for w in harness.unpackCodes(packed)] == [_word(c) for c in codes]
