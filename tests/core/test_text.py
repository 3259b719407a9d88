"""supplytrace.core.text: chain strings kept raw, shown safely, never an error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.text import ChainText, display


def test_display__nul_inside__distinct_from_the_text_without_it():
    assert display(b"A\0B") != display(b"A")
    assert display(b"A\0B") != display(b"AB")
    assert display(b"A\0B") == "A\u2400B"


def test_display__escape_sequence__no_escape_character_reaches_a_terminal():
    shown = display(b"\x1b[31mred\x1b[0m")
    assert "\x1b" not in shown
    assert shown == "\u241b[31mred\u241b[0m"


def test_display__right_to_left_override__dropped():
    assert display("Corner \u202eyrecorG".encode()) == "Corner yrecorG"
    assert display("a\u2066b\u2069c\u200bd".encode()) == "abcd"


def test_display__invalid_utf8__replacement_characters():
    assert display(b"\xc3\x28") == "\ufffd("
    assert display(b"\xff" * 3) == "\ufffd" * 3


def test_display__limit__truncated_with_an_ellipsis():
    assert display(b"x" * 120_000, 40) == "x" * 39 + "…"
    assert display(b"short", 40) == "short"


def test_chain_text__bytes32_word__padding_dropped_interior_nul_kept():
    assert ChainText.from_word(b"A\0B".ljust(32, b"\0")).raw == b"A\0B"
    assert ChainText.from_word(b"A".ljust(32, b"\0")) != ChainText.from_word(b"A\0B".ljust(32, b"\0"))
    assert ChainText(b"HONEY-1").exact == "HONEY-1"
    assert ChainText(b"A\0B").exact is None
    assert ChainText(b"\xc3\x28").exact is None
    assert not ChainText(b"")


@given(raw=st.binary(max_size=300))
def test_display__any_bytes__never_raises_and_no_control_characters(raw):
    shown = display(raw)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 for c in shown)
    assert "\u202e" not in shown and "\u2066" not in shown
