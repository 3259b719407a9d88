"""The indexer's split of raw logs into the events table's rows (``rows.event_rows``), against
eth_abi's encoding of random arguments of every registry event: a stored row decodes back to
the event the one decoder reads from the log, keyed by its item and lot."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.chain.logs import raw_logs
from supplytrace.core import abi
from supplytrace.core.events import EVENT_TYPES, SPECS, decode, decode_log, split_log, subject_ids
from supplytrace.indexer.rows import Col, event_rows, row_logged
from supplytrace.indexer.schema import item_key

_values = {
    "address": st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b)),
    "bytes32": st.binary(min_size=32, max_size=32),
    "uint256": st.integers(min_value=0, max_value=2**256 - 1),
    "uint64": st.integers(min_value=0, max_value=2**64 - 1),
    "uint32": st.integers(min_value=0, max_value=2**32 - 1),
    "uint8": st.integers(min_value=0, max_value=255),
    "string": st.binary(max_size=80),  # any bytes: the chain does not check a string is UTF-8
}
for _kind in ("bytes32", "uint64", "uint32"):  # blends' inputs, containers' contents
    _values[f"{_kind}[]"] = st.lists(_values[_kind], max_size=6)


@st.composite
def events(draw: Any) -> tuple[type, list[tuple[dict[str, Any], Any]]]:
    event_type = draw(st.sampled_from(EVENT_TYPES))
    inputs = abi.entries("event")[event_type.__name__]["inputs"]
    return event_type, [(param, draw(_values[param["type"]])) for param in inputs]


@settings(max_examples=300, deadline=None)
@given(event=events(), block=st.integers(min_value=0, max_value=2**40), log_index=st.integers(0, 10_000))
def test_event_rows__any_registry_event__stored_form_decodes_to_the_decoders_event(
    event: tuple[type, list[tuple[dict[str, Any], Any]]], block: int, log_index: int
) -> None:
    event_type, values = event
    indexed = [(p["type"], v) for p, v in values if p["indexed"]]
    data = [("bytes" if p["type"] == "string" else p["type"], v) for p, v in values if not p["indexed"]]
    log = {
        "address": "0x" + "00" * 20,
        "topics": [SPECS[event_type].topic0] + ["0x" + encode([k], [v]).hex() for k, v in indexed],
        "data": "0x" + encode([k for k, _ in data], [v for _, v in data]).hex(),
        "blockNumber": hex(block),
        "logIndex": hex(log_index),
        "transactionHash": "0x" + "11" * 32,
        "blockHash": "0x" + "22" * 32,
        "blockTimestamp": hex(1_700_000_000),
    }
    logged = decode_log(log)
    assert logged is not None and type(logged.event) is event_type
    assert (logged.block_number, logged.log_index, logged.timestamp) == (block, log_index, 1_700_000_000)
    parts = split_log(log["topics"], log["data"])
    assert parts is not None
    _spec, topics, stored_data = parts
    assert (
        decode(event_type.__name__, topics, stored_data) == logged.event
    )  # what the index stores reads back
    (row,) = event_rows(raw_logs([log]))  # the indexer's own split of the log: the same event
    assert row_logged(row) == logged
    assert (row[Col.TOPICS], row[Col.DATA]) == (topics, stored_data)
    item, lot = subject_ids(logged.event)
    if item is not None:
        assert row[Col.ITEM_KEY] == item_key(item)
    assert row[Col.LOT_ID] == lot  # lot events and registrations carry their lot


def test_event_rows__foreign_malformed_or_removed_log__ignored() -> None:
    base = {"data": "0x", "blockNumber": "0x1", "logIndex": "0x0", "transactionHash": "0x", "blockHash": "0x"}
    sold_topic = next(s.topic0 for s in SPECS.values() if s.name == "ItemSold")
    assert decode_log({**base, "topics": []}) is None
    assert decode_log({**base, "topics": ["0x" + "ab" * 32]}) is None
    assert decode_log({**base, "topics": [sold_topic]}) is None  # indexed topics missing
    sold = {**base, "topics": [sold_topic, "0x" + "ab" * 32, "0x" + "00" * 32]}
    assert event_rows(raw_logs([{**base, "topics": []}, {**sold, "removed": True}])) == []
    assert event_rows(raw_logs([{**base, "topics": ["0x" + "ab" * 32]}])) == []
    assert event_rows(raw_logs([{**base, "topics": [sold_topic]}])) == []
    assert len(event_rows(raw_logs([sold]))) == 1
