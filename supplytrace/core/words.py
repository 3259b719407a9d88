"""ABI words as the package's values, leniently: the pieces :mod:`supplytrace.core.events`
builds each event's decoder from.

A log's topics and data are untrusted bytes (any contract can emit a look-alike, a node can be
wrong), so nothing here raises on them: a short word is padded, an offset or a length past the
end of the data gives what is there (an empty value, or fewer array elements), and an array's
length never makes more work than the data has words.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from supplytrace.core.hashing import checksum
from supplytrace.core.text import ChainText

Element = Callable[[bytes], Any]  # one 32-byte word -> a value
Convert = Callable[[bytes, bytes], Any]  # (data, the parameter's head word or topic) -> a value


def padded(value: bytes) -> bytes:
    """``value`` as one 32-byte word: cut, or zero-padded on the right (a short data part)."""
    return value if len(value) == 32 else bytes(value[:32]).ljust(32, b"\0")


def _address(word: bytes) -> str:
    return checksum(padded(word)[12:])


def _uint(word: bytes) -> int:
    return int.from_bytes(word, "big")


def _bytes32(word: bytes) -> bytes:
    return bytes(padded(word))


def _code(word: bytes) -> ChainText:
    return ChainText.from_word(word)


def _tail(data: bytes, offset_word: bytes) -> tuple[int, int]:
    """(where the dynamic value's content starts, its length word) for the offset ``offset_word``
    holds; lenient: an offset past the end gives an empty value."""
    offset = int.from_bytes(offset_word, "big")
    if offset > len(data):
        return len(data), 0
    return offset + 32, int.from_bytes(data[offset : offset + 32], "big")


def _string_at(data: bytes, offset_word: bytes) -> ChainText:
    """An ABI ``string`` in ``data`` at the offset ``offset_word`` holds; lenient: a length or
    offset past the end gives what is there (the raw bytes), never an error."""
    start, length = _tail(data, offset_word)
    return ChainText(bytes(data[start : start + min(length, len(data))]))


def _array_at(element: Element) -> Convert:
    """A decoder of an ABI array of static elements (``uint32[]``, ``bytes32[]``) in ``data``;
    lenient: no more elements than the data holds words after the length (a hostile length of
    2**256 costs nothing), a short last word padded, never an error."""

    def decode(data: bytes, offset_word: bytes) -> tuple[Any, ...]:
        start, length = _tail(data, offset_word)
        count = min(length, max(0, len(data) - start + 31) // 32)
        return tuple(element(padded(data[start + 32 * n : start + 32 * n + 32])) for n in range(count))

    return decode


def _static(convert: Element) -> Convert:
    return lambda _data, word: convert(word)


_ELEMENTS: dict[tuple[str, Any], Element] = {
    ("address", str): _address,
    ("bytes32", bytes): _bytes32,
    ("bytes32", ChainText): _code,
}


def _element(abi_type: str, annotation: Any) -> Element | None:
    if abi_type.startswith("uint") and annotation is int:
        return _uint
    return _ELEMENTS.get((abi_type, annotation))


def converter(abi_type: str, annotation: Any, where: str) -> Convert:
    """How to turn a parameter's head word (and, for a string or an array in data, the data it
    points into) into the field's value: ``(data, word) -> value``."""
    if abi_type == "string" and annotation is ChainText:
        return _string_at
    if abi_type.endswith("[]") and typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        element = _element(abi_type[:-2], args[0]) if len(args) == 2 and args[1] is Ellipsis else None
        if element is not None:
            return _array_at(element)
    elif (element := _element(abi_type, annotation)) is not None:
        return _static(element)
    raise TypeError(f"{where}: ABI type {abi_type} does not fit the field's type {annotation}")
