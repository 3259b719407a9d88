"""Reading logs from a node (``chain.logs``): answers decoded straight into typed logs, node
failures classified (ask for less, try again, or give up), and logs the node was not asked for
refused."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from supplytrace.chain.logs import RawLog, fetch_logs, raw_logs
from supplytrace.chain.rpc import (
    FetchStats,
    Rpc,
    RpcError,
    RpcValidationError,
    is_timeout,
    is_too_large,
    is_transient,
)
from supplytrace.core.events import SPECS

SOLD = next(s.topic0 for s in SPECS.values() if s.name == "ItemSold")
REGISTRY = "0x" + "00" * 19 + "01"


def test_classification__node_answers__too_large_timeout_transient_or_fatal() -> None:
    assert is_too_large(RpcError(-32005, "query returned more than 10000 results"))
    alchemy = "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"
    assert is_too_large(RpcError(-32602, alchemy))
    assert is_too_large(RpcError(-32000, "HTTP 413", status=413))
    assert not is_too_large(RpcError(-32005, "daily request count exceeded, request rate limited"))
    assert is_transient(RpcError(-32005, "daily request count exceeded, request rate limited"))
    assert is_transient(RpcError(-32000, "HTTP 503 Service Unavailable", status=503))
    assert is_transient(RpcError(None, "HTTP 503 Service Unavailable", status=503, transport=True))
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
def _node_answering(body: bytes) -> Iterator[Rpc]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    server.body = body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Rpc(f"http://127.0.0.1:{server.server_address[1]}", timeout=5)
    finally:
        server.shutdown()
        server.server_close()


def _log(**changes: Any) -> dict[str, Any]:
    log = {
        "address": REGISTRY,
        "topics": [SOLD, "0x" + "ab" * 32, "0x" + "00" * 32],
        "data": "0x",
        "blockNumber": "0x5",
        "logIndex": "0x2",
        "transactionHash": "0x" + "11" * 32,
        "blockHash": "0x" + "22" * 32,
        "transactionIndex": "0x0",
        "removed": False,
    }
    return {**log, **changes}


def test_request_logs__typed_answer__decoded_straight_into_raw_logs() -> None:
    log = _log()
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [log]})
    with _node_answering(body) as rpc:
        (raw,) = rpc.request("eth_getLogs", [{}], result=list[RawLog])
    assert raw == raw_logs([log])[0]
    assert (raw.block_number, raw.log_index, raw.block_timestamp, raw.address) == (
        "0x5",
        "0x2",
        None,
        REGISTRY,
    )


def test_request_logs__log_without_a_block_hash__error_names_the_answers_form() -> None:
    log = {"topics": [SOLD], "data": "0x", "blockNumber": "0x5", "logIndex": "0x0"}
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [log]})
    with _node_answering(body) as rpc, pytest.raises(RpcError, match=r"expected form.*blockHash") as caught:
        rpc.request("eth_getLogs", [{}], result=list[RawLog])
    assert isinstance(caught.value, RpcValidationError) and not is_transient(caught.value)


def test_request_logs__truncated_answer__a_transient_incomplete_read() -> None:
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [{"topics": []}]})[:-7]
    with _node_answering(body) as rpc, pytest.raises(RpcError, match="incomplete answer") as caught:
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


def test_fetch_logs__node_answers_logs_not_asked_for__refused_and_counted() -> None:
    asked = _log(blockNumber="0x5")
    foreign = _log(address="0x" + "ab" * 20)
    before, after = _log(blockNumber="0x3"), _log(blockNumber="0x8")
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [asked, foreign, before, after]})
    stats = FetchStats()
    with _node_answering(body) as rpc:
        typed = fetch_logs(
            lambda m, p: rpc.request(m, p, result=list[RawLog]), REGISTRY, [], 4, 6, stats=stats
        )
        assert [log.block_number for log in typed] == ["0x5"] and stats.refused_logs == 3
        plain = fetch_logs(rpc.request, REGISTRY.upper().replace("0X", "0x"), [], 4, 6)
    assert plain == [asked]
