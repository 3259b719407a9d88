"""supplytrace.chain.codec: the registry's calls and answers, checked against eth_abi."""

from __future__ import annotations

import eth_abi
import pytest
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.chain import codec
from supplytrace.core import abi
from supplytrace.core.errors import ContractRevertError

addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))
words = st.binary(min_size=32, max_size=32)


def _strategy(param):
    kind = param["type"]
    if kind.endswith("[]"):
        return st.lists(_strategy({**param, "type": kind[:-2]}), max_size=5)
    if kind.startswith("uint"):
        return st.integers(0, 2 ** int(kind[4:] or 256) - 1)
    if kind == "address":
        return addresses
    if kind == "bool":
        return st.booleans()
    if kind.startswith("bytes") and kind != "bytes":
        return st.binary(min_size=int(kind[5:]), max_size=int(kind[5:]))
    if kind in ("bytes", "string"):
        return st.binary(max_size=80) if kind == "bytes" else st.text(max_size=40)
    if kind == "tuple":
        return st.tuples(*(_strategy(c) for c in param["components"]))
    raise AssertionError(kind)


FUNCTIONS = sorted(abi.entries("function"))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function__selector__matches_eth_utils(name):
    entry = abi.entries("function")[name]
    assert codec.function(name).selector == function_signature_to_4byte_selector(abi.signature(entry))


@pytest.mark.parametrize("name", FUNCTIONS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_calldata__random_arguments__equals_eth_abi(name, data):
    entry = abi.entries("function")[name]
    args = [data.draw(_strategy(p)) for p in entry["inputs"]]
    types = [abi.canonical_type(p) for p in entry["inputs"]]
    expected = eth_abi.encode(types, args)
    assert codec.function(name).calldata(*args)[4:] == expected


@pytest.mark.parametrize("name", FUNCTIONS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_result__random_answers__decodes_what_eth_abi_encodes(name, data):
    entry = abi.entries("function")[name]
    if not entry["outputs"]:
        return
    values = [data.draw(_strategy(p)) for p in entry["outputs"]]
    encoded = eth_abi.encode([abi.canonical_type(p) for p in entry["outputs"]], values)
    decoded = codec.decode(entry["outputs"], encoded)
    assert _plain(decoded) == _plain(values)


def _plain(value):
    if isinstance(value, dict):
        return [_plain(v) for v in value.values()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    return value


def test_decode__truncated_answer__codec_error():
    outputs = abi.entries("function")["getItem"]["outputs"]
    with pytest.raises(codec.CodecError):
        codec.decode(outputs, b"\0" * 64)


def test_revert_error__registry_error__decoded_with_its_sentence():
    entry = abi.entries("error")["NotCustodian"]
    data = function_signature_to_4byte_selector(abi.signature(entry)) + eth_abi.encode(
        ["bytes32", "address", "address"], [b"\1" * 32, "0x" + "11" * 20, "0x" + "22" * 20]
    )
    error = codec.revert_error("0x" + data.hex())
    assert isinstance(error, ContractRevertError)
    assert error.name == "NotCustodian"
    assert "do not hold item 0x0101" in str(error)


def test_revert_error__unknown_or_garbage__none():
    assert codec.revert_error(None) is None
    assert codec.revert_error("0x") is None
    assert codec.revert_error("0xdeadbeef") is None
    assert codec.revert_error("not hex") is None
