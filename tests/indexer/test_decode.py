"""The hand decoder the indexer stores and reads events with, against eth_abi's encoding of random
arguments of every registry event; and how node failures are classified."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from supplytrace.events import (
    LAYOUTS,
    TOPIC0,
    decode_args,
    decode_log_raw,
    is_timeout,
    is_too_large,
    is_transient,
)
from supplytrace.indexer.rows import Col, RawLog, event_rows, raw_logs, row_to_event
from supplytrace.indexer.rpc import HttpRpc, RpcError
from supplytrace.indexer.schema import item_key

_values = {
    "address": st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b)),
    "bytes32": st.binary(min_size=32, max_size=32),
    "uint256": st.integers(min_value=0, max_value=2**256 - 1),
    "uint32": st.integers(min_value=0, max_value=2**32 - 1),
    "uint8": st.integers(min_value=0, max_value=255),
    "string": st.text(max_size=80),
}


@st.composite
def events(draw: Any) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(LAYOUTS)))
    return name, {field: draw(_values[kind]) for field, kind, _ in LAYOUTS[name]}


@settings(max_examples=300, deadline=None)
@given(event=events(), block=st.integers(min_value=0, max_value=2**40), log_index=st.integers(0, 10_000))
def test_decode_log_raw__any_registry_event__arguments_and_stored_form_round_trip(
    event: tuple[str, dict[str, Any]], block: int, log_index: int
) -> None:
    name, args = event
    indexed = [(f, k) for f, k, i in LAYOUTS[name] if i]
    data = [(f, k) for f, k, i in LAYOUTS[name] if not i]
    log = {
        "topics": [TOPIC0[name]] + ["0x" + encode([k], [args[f]]).hex() for f, k in indexed],
        "data": "0x" + encode([k for _, k in data], [args[f] for f, _ in data]).hex(),
        "blockNumber": hex(block),
        "logIndex": hex(log_index),
        "transactionHash": "0x" + "11" * 32,
        "blockHash": "0x" + "22" * 32,
        "blockTimestamp": hex(1_700_000_000),
    }
    decoded = decode_log_raw(log)
    assert decoded is not None
    ev, topics, stored_data = decoded
    assert (ev.name, ev.block_number, ev.log_index, ev.block_timestamp) == (
        name,
        block,
        log_index,
        1_700_000_000,
    )
    assert ev.args == args
    assert decode_args(name, topics, stored_data) == args  # what the index stores reads back the same
    (row,) = event_rows(raw_logs([log]))  # the indexer's own split of the log: the same event
    assert row_to_event(row) == ev
    assert (row[Col.TOPICS], row[Col.DATA]) == (topics, stored_data)
    if "itemId" in args:
        assert row[Col.ITEM_KEY] == item_key(args["itemId"])
    assert row[Col.LOT_ID] == args.get("lotId")  # lot events and registrations carry their lot


def test_decode_log_raw__foreign_malformed_or_removed_log__ignored() -> None:
    base = {"data": "0x", "blockNumber": "0x1", "logIndex": "0x0", "transactionHash": "0x", "blockHash": "0x"}
    assert decode_log_raw({**base, "topics": []}) is None
    assert decode_log_raw({**base, "topics": ["0x" + "ab" * 32]}) is None
    assert decode_log_raw({**base, "topics": [TOPIC0["ItemSold"]]}) is None  # indexed topics missing
    sold = {**base, "topics": [TOPIC0["ItemSold"], "0x" + "ab" * 32, "0x" + "00" * 32]}
    assert event_rows(raw_logs([{**base, "topics": []}, {**sold, "removed": True}])) == []
    assert len(event_rows(raw_logs([sold]))) == 1


def test_classification__node_answers__too_large_timeout_transient_or_fatal() -> None:
    assert is_too_large(RpcError(-32005, "query returned more than 10000 results"))
    alchemy = "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"
    assert is_too_large(RpcError(-32602, alchemy))
    assert is_too_large(RpcError(-32000, "HTTP 413", status=413))
    assert not is_too_large(RpcError(-32005, "daily request count exceeded, request rate limited"))
    assert is_transient(RpcError(-32005, "daily request count exceeded, request rate limited"))
    assert is_transient(RpcError(-32000, "HTTP 503 Service Unavailable", status=503))
    assert is_transient(ConnectionRefusedError()) and is_transient(http.client.RemoteDisconnected())
    assert is_timeout(TimeoutError()) and is_transient(TimeoutError())
    assert not is_transient(RpcError(-32602, "invalid argument 0: hex string without 0x prefix"))


class _Canned(BaseHTTPRequestHandler):
    """Answers every POST with the server's ``body``."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body: bytes = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@contextlib.contextmanager
def _node_answering(body: bytes) -> Iterator[HttpRpc]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    server.body = body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpRpc(f"http://127.0.0.1:{server.server_address[1]}", timeout=5)
    finally:
        server.shutdown()
        server.server_close()


def test_request_logs__typed_answer__decoded_straight_into_raw_logs() -> None:
    log = {
        "address": "0x" + "00" * 20,
        "topics": [TOPIC0["ItemSold"], "0x" + "ab" * 32, "0x" + "00" * 32],
        "data": "0x",
        "blockNumber": "0x5",
        "logIndex": "0x2",
        "transactionHash": "0x" + "11" * 32,
        "blockHash": "0x" + "22" * 32,
        "transactionIndex": "0x0",
        "removed": False,
    }
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [log]})
    with _node_answering(body) as rpc:
        (raw,) = rpc.request("eth_getLogs", [{}], result=list[RawLog])
    assert raw == raw_logs([log])[0]
    assert (raw.block_number, raw.log_index, raw.block_timestamp) == ("0x5", "0x2", None)


def test_request_logs__log_without_a_block_hash__error_names_the_answers_form() -> None:
    log = {"topics": [TOPIC0["ItemSold"]], "data": "0x", "blockNumber": "0x5", "logIndex": "0x0"}
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [log]})
    with _node_answering(body) as rpc, pytest.raises(RpcError, match=r"expected form.*blockHash"):
        rpc.request("eth_getLogs", [{}], result=list[RawLog])


def test_request_logs__truncated_answer__a_transient_incomplete_read() -> None:
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [{"topics": []}]})[:-7]
    with _node_answering(body) as rpc, pytest.raises(http.client.IncompleteRead) as caught:
        rpc.request("eth_getLogs", [{}], result=list[RawLog])
    assert is_transient(caught.value)


def test_request_logs__error_answer__raised_with_the_nodes_code() -> None:
    body = orjson.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32005, "message": "query returned more than 10000 results"},
        }
    )
    with _node_answering(body) as rpc, pytest.raises(RpcError) as caught:
        rpc.request("eth_getLogs", [{}], result=list[RawLog])
    assert caught.value.code == -32005 and is_too_large(caught.value)
