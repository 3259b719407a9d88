"""supplytrace.core.events: one type per contract event, decoded from raw logs as the ABI says."""

from __future__ import annotations

import dataclasses
import json

import eth_abi
import pytest
from eth_utils import event_abi_to_log_topic, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.core import abi, events
from supplytrace.core.text import ChainText
from tests.conftest import ROOT

#: OpenZeppelin events no reader needs (admin transfers, EIP-712 domain changes).
IGNORED = {
    "DefaultAdminDelayChangeCanceled",
    "DefaultAdminDelayChangeScheduled",
    "DefaultAdminTransferCanceled",
    "DefaultAdminTransferScheduled",
    "EIP712DomainChanged",
    "RoleAdminChanged",
}


def test_event_types__every_event_of_the_interface__one_type_each():
    build = json.loads((ROOT / ".build" / "__local__.json").read_text())
    interface = {
        e["name"] for e in build["contractTypes"]["IProvenanceRegistry"]["abi"] if e["type"] == "event"
    }
    declared = {t.__name__ for t in events.EVENT_TYPES}
    assert interface <= declared
    assert declared | IGNORED == set(abi.entries("event"))


@pytest.mark.parametrize("event_type", events.EVENT_TYPES, ids=lambda t: t.__name__)
def test_spec__topic0_and_shape__as_the_abi_says(event_type):
    entry = abi.entries("event")[event_type.__name__]
    spec = events.SPECS[event_type]
    assert spec.topic0 == "0x" + event_abi_to_log_topic(entry).hex()
    assert spec.topics == sum(1 for p in entry["inputs"] if p["indexed"])
    assert dataclasses.is_dataclass(event_type) and event_type.__dataclass_params__.frozen


def _value(kind: str, annotation, data):
    if kind.endswith("[]"):
        return [_value(kind[:-2], None, data) for _ in range(data.draw(st.integers(0, 5)))]
    if kind == "address":
        return data.draw(st.binary(min_size=20, max_size=20).map(to_checksum_address))
    if kind.startswith("uint"):
        return data.draw(st.integers(0, 2 ** int(kind[4:]) - 1))
    if kind == "bytes32":
        return data.draw(st.binary(min_size=32, max_size=32))
    if kind == "string":
        return data.draw(st.binary(max_size=100))
    raise AssertionError(kind)


@pytest.mark.parametrize("event_type", events.EVENT_TYPES, ids=lambda t: t.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_decode_log__random_arguments__the_values_eth_abi_encoded(event_type, data):
    entry = abi.entries("event")[event_type.__name__]
    values = [_value(p["type"], None, data) for p in entry["inputs"]]
    topics = ["0x" + event_abi_to_log_topic(entry).hex()]
    data_types, data_values = [], []
    for param, value in zip(entry["inputs"], values, strict=True):
        if param["indexed"]:
            topics.append("0x" + eth_abi.encode([param["type"]], [value]).hex())
        else:
            data_types.append("bytes" if param["type"] == "string" else param["type"])  # any bytes
            data_values.append(value)
    raw = {
        "topics": topics,
        "data": "0x" + eth_abi.encode(data_types, data_values).hex(),
        "blockNumber": "0x10",
        "logIndex": "0x2",
        "transactionHash": "0x" + "ab" * 32,
        "blockHash": "0x" + "cd" * 32,
    }
    logged = events.decode_log(raw)
    assert logged is not None and type(logged.event) is event_type
    assert (logged.block_number, logged.log_index, logged.timestamp) == (16, 2, None)
    for field, param, value in zip(dataclasses.fields(event_type), entry["inputs"], values, strict=True):
        got = getattr(logged.event, field.name)
        if isinstance(got, ChainText):
            expected = value.rstrip(b"\0") if param["type"] == "bytes32" else value
            assert got.raw == expected
        elif isinstance(got, tuple):
            assert got == tuple(value)
        else:
            assert got == value


@given(topics=st.lists(st.binary(min_size=32, max_size=32), max_size=4), data=st.binary(max_size=200))
def test_decode_log__hostile_data__never_raises(topics, data):
    for spec in events.SPECS.values():
        raw = {
            "topics": [spec.topic0] + ["0x" + t.hex() for t in topics],
            "data": "0x" + data.hex(),
            "blockNumber": "0x1",
            "logIndex": "0x0",
            "transactionHash": "0x" + "00" * 32,
            "blockHash": "0x" + "00" * 32,
        }
        decoded = events.decode_log(raw)
        assert decoded is None or type(decoded.event) is spec.type


def test_decode_log__another_contracts_event__none():
    raw = {
        "topics": ["0x" + "12" * 32],
        "data": "0x",
        "blockNumber": "0x1",
        "logIndex": "0x0",
        "transactionHash": "0x" + "00" * 32,
        "blockHash": "0x" + "00" * 32,
    }
    assert events.decode_log(raw) is None


def test_derived_sets__subjects__from_the_abi():
    assert events.REGISTRATION in events.ITEM_EVENTS
    assert events.LOT_REGISTRATION in events.LOT_EVENTS
    assert not set(events.ITEM_EVENTS) & set(events.LOT_EVENTS)
    assert all(events.SPECS[t].subject == "other" for t in events.NAMING_EVENTS)


def test_naming_events__names_descriptions_and_withdrawn_names__nothing_else():
    assert set(events.NAMING_EVENTS) == {events.BrandNamed, events.BrandUnnamed, events.ParticipantDescribed}


def _array_log(spec, topics: list[bytes], data: bytes) -> dict:
    return {
        "topics": [spec.topic0] + ["0x" + t.hex() for t in topics],
        "data": "0x" + data.hex(),
        "blockNumber": "0x1",
        "logIndex": "0x0",
        "transactionHash": "0x" + "00" * 32,
        "blockHash": "0x" + "00" * 32,
    }


def test_decode_log__container_packed__contents_a_tuple_of_ids():
    spec = events.SPECS[events.ContainerPacked]
    contents = [b"\x01" * 32, b"\x02" * 32, b"\x03" * 32]
    owner = "0x" + "11" * 20
    raw = _array_log(
        spec,
        [b"\xcc" * 32, eth_abi.encode(["address"], [owner])],
        eth_abi.encode(["bytes32[]"], [contents]),
    )
    event = events.decode_log(raw).event
    assert event == events.ContainerPacked(b"\xcc" * 32, to_checksum_address(owner), tuple(contents))


def test_decode_log__lot_transformed__inputs_and_quantities_as_tuples():
    spec = events.SPECS[events.LotTransformed]
    data = eth_abi.encode(
        ["uint32[]", "uint64[]", "uint64", "uint32", "uint8"], [[3, 4], [600, 400], 900, 500, 2]
    )
    event = events.decode_log(_array_log(spec, [(9).to_bytes(32, "big")], data)).event
    assert event == events.LotTransformed(9, (3, 4), (600, 400), 900, 500, 2)


def test_decode_log__array_length_beyond_the_data__only_the_elements_there():
    """A hostile length (2**256 - 1) costs no more than the words the data holds."""
    spec = events.SPECS[events.ContainerUnpacked]
    data = (32).to_bytes(32, "big") + b"\xff" * 32 + b"\x07" * 32 + b"\x08" * 5
    raw = _array_log(spec, [b"\xcc" * 32, b"\0" * 32], data)
    event = events.decode_log(raw).event
    assert event.contents == (b"\x07" * 32, b"\x08" * 5 + b"\0" * 27)


def test_decode_log__array_offset_beyond_the_data__empty():
    spec = events.SPECS[events.ContainerPacked]
    raw = _array_log(spec, [b"\xcc" * 32, b"\0" * 32], (10**30).to_bytes(32, "big"))
    assert events.decode_log(raw).event.contents == ()


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=300),
    head=st.sampled_from([0, 32, 64, 2**255, 2**256 - 1]),
    length=st.sampled_from([0, 1, 3, 2**64, 2**256 - 1]),
)
def test_decode_log__hostile_arrays__never_raises_and_bounded(data, head, length):
    for event_type in (events.ContainerPacked, events.LotTransformed):
        spec = events.SPECS[event_type]
        body = head.to_bytes(32, "big") * 2 + length.to_bytes(32, "big") + data
        topics = [b"\xcc" * 32, b"\0" * 32][: spec.topics]
        event = events.decode_log(_array_log(spec, topics, body)).event
        for value in dataclasses.astuple(event):
            if isinstance(value, tuple):
                assert len(value) <= len(body) // 32 + 1


def test_subjects__container_events__keyed_by_their_container():
    for event_type in (events.ContainerCreated, events.ContainerPacked, events.ContainerUnpacked):
        assert events.SPECS[event_type].subject == "container"
    assert events.SPECS[events.LotTransformed].subject == "lot"
    packed = events.ContainerPacked(b"\xcc" * 32, "0x" + "11" * 20, (b"\x01" * 32,))
    assert events.subject_ids(packed) == (b"\xcc" * 32, None)


def test_spec__an_array_field_of_the_wrong_element_type__refused_at_import():
    @dataclasses.dataclass(frozen=True)
    class ContainerPacked:
        container_id: bytes
        custodian: str
        contents: tuple[int, ...]

    with pytest.raises(TypeError, match="does not fit"):
        events._spec(ContainerPacked, abi.entries("event")["ContainerPacked"])
