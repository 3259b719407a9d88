"""Calls to the registry encoded from its ABI, and their answers and reverts decoded: no selector
or layout written by hand, and no web3/ape in the path (a read command starts in a fraction of
a second; ``eth_abi`` alone takes longer to import than a whole ``status``).

The codec covers the ABI types the registry uses: ``uint<N>``, ``int<N>``, ``address``, ``bool``,
``bytes<N>``, ``bytes``, ``string``, arrays ``T[]`` and tuples (structs). Values: ints, ``0x``
addresses (decoded checksummed), bytes (``bytes32`` decoded as 32 bytes), strings; a struct
decodes to a dict by component name. ``tests/chain/test_codec.py`` checks it against ``eth_abi``
on random values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from supplytrace.core import abi
from supplytrace.core.errors import ContractRevertError
from supplytrace.core.hashing import checksum, keccak_text

Param = dict[str, Any]


class CodecError(ValueError):
    """The data does not have the form the ABI gives it (a node that answered garbage)."""


def _is_dynamic(param: Param) -> bool:
    kind = param["type"]
    if kind in ("bytes", "string") or kind.endswith("[]"):
        return True
    if kind == "tuple":
        return any(_is_dynamic(c) for c in param["components"])
    return False


def _element(param: Param) -> Param:
    return {**param, "type": param["type"][:-2]}


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=False)


def _encode_static(param: Param, value: Any) -> bytes:
    kind = param["type"]
    if kind.startswith("uint"):
        number = int(value)
        if not 0 <= number < 2 ** int(kind[4:] or 256):
            raise ValueError(f"{number} does not fit {kind}")
        return _word(number)
    if kind.startswith("int"):
        return int(value).to_bytes(32, "big", signed=True)
    if kind == "address":
        text = str(getattr(value, "address", value))
        raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
        if len(raw) != 20:
            raise ValueError(f"{value!r} is not an address")
        return raw.rjust(32, b"\0")
    if kind == "bool":
        return _word(1 if value else 0)
    if kind.startswith("bytes"):
        raw = bytes(value)
        if len(raw) > int(kind[5:]):
            raise ValueError(f"{len(raw)} bytes do not fit {kind}")
        return raw.ljust(32, b"\0")
    if kind == "tuple":
        return encode(param["components"], _tuple_values(param, value))
    raise TypeError(f"ABI type {kind} is not supported")


def _tuple_values(param: Param, value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[c["name"]] for c in param["components"]]
    return list(value)


def _encode_dynamic(param: Param, value: Any) -> bytes:
    kind = param["type"]
    if kind in ("bytes", "string"):
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return _word(len(raw)) + raw + b"\0" * (-len(raw) % 32)
    if kind.endswith("[]"):
        items = list(value)
        return _word(len(items)) + encode([_element(param)] * len(items), items)
    return encode(param["components"], _tuple_values(param, value))


def encode(params: Sequence[Param], values: Sequence[Any]) -> bytes:
    """The ABI encoding of ``values`` as the types ``params`` (a function's inputs)."""
    if len(params) != len(values):
        raise ValueError(f"{len(values)} values for {len(params)} parameters")
    heads: list[bytes | None] = []
    tails: list[bytes] = []
    for param, value in zip(params, values, strict=True):
        if _is_dynamic(param):
            heads.append(None)
            tails.append(_encode_dynamic(param, value))
        else:
            heads.append(_encode_static(param, value))
            tails.append(b"")
    offset = sum(32 if h is None else len(h) for h in heads)
    out = bytearray()
    for head, tail in zip(heads, tails, strict=True):
        if head is None:
            out += _word(offset)
            offset += len(tail)
        else:
            out += head
    for tail in tails:
        out += tail
    return bytes(out)


def _static_size(param: Param) -> int:
    if param["type"] == "tuple" and not _is_dynamic(param):
        return sum(_static_size(c) for c in param["components"])
    return 32


def _read(data: bytes, start: int, size: int = 32) -> bytes:
    if start < 0 or start + size > len(data):
        raise CodecError(f"the data ends at byte {len(data)}, before byte {start + size}")
    return data[start : start + size]


def _decode_one(param: Param, data: bytes, start: int) -> Any:
    kind = param["type"]
    if _is_dynamic(param):
        at = int.from_bytes(_read(data, start), "big")
        return _decode_dynamic(param, data, at)
    if kind == "tuple":
        return decode(param["components"], data, start, as_dict=True)
    word = _read(data, start)
    if kind.startswith("uint"):
        return int.from_bytes(word, "big")
    if kind.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    if kind == "address":
        return checksum(word[12:])
    if kind == "bool":
        return word[-1] != 0
    if kind.startswith("bytes"):
        return bytes(word[: int(kind[5:])])
    raise TypeError(f"ABI type {kind} is not supported")


def _decode_dynamic(param: Param, data: bytes, at: int) -> Any:
    kind = param["type"]
    if kind in ("bytes", "string"):
        length = int.from_bytes(_read(data, at), "big")
        raw = _read(data, at + 32, length)
        return raw.decode("utf-8", errors="replace") if kind == "string" else bytes(raw)
    if kind.endswith("[]"):
        count = int.from_bytes(_read(data, at), "big")
        element = _element(param)
        size = _static_size(element) if not _is_dynamic(element) else 32
        if count * size > len(data):
            raise CodecError(f"an array of {count} elements does not fit {len(data)} bytes")
        base = at + 32
        return [_decode_one_in(element, data, base, base + n * size) for n in range(count)]
    return decode(param["components"], data, at, as_dict=True)


def _decode_one_in(param: Param, data: bytes, base: int, start: int) -> Any:
    """An element of an array (or tuple) whose dynamic offsets count from ``base``."""
    if _is_dynamic(param):
        at = base + int.from_bytes(_read(data, start), "big")
        return _decode_dynamic(param, data, at)
    return _decode_one(param, data, start)


def decode(params: Sequence[Param], data: bytes, start: int = 0, *, as_dict: bool = False) -> Any:
    """``data`` decoded as the types ``params`` (a list, or a dict by name with ``as_dict``)."""
    values = []
    offset = start
    for param in params:
        values.append(_decode_one_in(param, data, start, offset))
        offset += _static_size(param) if not _is_dynamic(param) else 32
    if as_dict:
        return {p["name"]: v for p, v in zip(params, values, strict=True)}
    return values


@dataclass(frozen=True)
class Function:
    """One function of the registry's ABI: calldata in, decoded answer out."""

    name: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    selector: bytes

    def calldata(self, *args: Any) -> bytes:
        return self.selector + encode(self.inputs, args)

    def result(self, data: bytes) -> Any:
        """The decoded answer: one value, or a list for several outputs."""
        values = decode(self.outputs, data)
        return values[0] if len(values) == 1 else values


@cache
def function(name: str, contract: str = abi.REGISTRY) -> Function:
    entry = abi.entries("function", contract)[name]
    return Function(
        name,
        tuple(entry["inputs"]),
        tuple(entry["outputs"]),
        keccak_text(abi.signature(entry))[:4],
    )


def constructor_args(*args: Any, contract: str = abi.REGISTRY) -> bytes:
    entry = next(e for e in abi.abi(contract) if e.get("type") == "constructor")
    return encode(entry["inputs"], args)


@cache
def _errors(contract: str) -> dict[bytes, dict[str, Any]]:
    return {keccak_text(abi.signature(e))[:4]: e for e in abi.entries("error", contract).values()}


def revert_error(data: bytes | str | None, contract: str = abi.REGISTRY) -> ContractRevertError | None:
    """The registry's custom error in revert ``data`` (hex text or bytes), or None when the
    data is not one of its errors (an empty revert, a panic, another contract's error)."""
    if data is None:
        return None
    try:
        raw = (
            bytes(data)
            if isinstance(data, bytes | bytearray)
            else bytes.fromhex(str(data).removeprefix("0x"))
        )
    except ValueError:
        return None
    entry = _errors(contract).get(raw[:4]) if len(raw) >= 4 else None
    if entry is None:
        return None
    try:
        args = decode(entry["inputs"], raw[4:], as_dict=True)
    except (CodecError, TypeError):
        return None
    return ContractRevertError(entry["name"], args)
