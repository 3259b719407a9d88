"""A faulty JSON-RPC proxy on loopback for the fault tests of the indexer and of sending (not a
test module).

It forwards every request to a real node and, by plan, answers ``eth_getLogs`` like a public
RPC that caps results or block ranges, lets requests time out, drops connections without an
answer, answers HTTP 503, stops listening for a while (connections refused), or adds logs that
were not asked for (``inject``: a node that lies).

For sends, each entry of ``after_send`` is spent by one ``eth_sendRawTransaction``: ``"ok"`` (no
fault), ``"lost"`` (the connection closed before the node saw it) or, *after* the node accepted
it, ``"502"`` (the
answer lost to an HTTP 502), ``"drop"`` (the connection closed without an answer) or any other
text, answered as that JSON-RPC error (``"already known"``,
``"transaction already imported"``, ``"nonce too low"``). ``stall`` holds a method's answer back
for some seconds (a call that times out), ``delay`` slows every answer, ``nonce_lag`` makes
``eth_getTransactionCount`` answer lower (a node behind its peers). ``counts`` says what was done.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Faults:
    max_results: int | None = None  # more logs than this: -32005 "query returned more than N results"
    max_blocks: int | None = None  # a wider range: "block range too large"
    timeout_every: int = 0  # every Nth eth_getLogs sleeps `hang` seconds before answering
    drop_every: int = 0  # every Nth request: connection closed without an answer
    unavailable_every: int = 0  # every Nth request: HTTP 503
    hang: float = 1.5
    #: inject(params, logs) -> extra logs added to an eth_getLogs answer (params: the filter asked for)
    inject: Callable[[dict[str, Any], list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    after_send: list[str] = field(default_factory=list)  # one entry per send, spent after forwarding it
    stall: dict[str, float] = field(default_factory=dict)  # method -> seconds before forwarding it
    delay: float = 0.0  # seconds before every answer
    nonce_lag: int = 0  # eth_getTransactionCount answers this much lower
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "timeout",
                "drop",
                "503",
                "refused",
                "injected",
                "sent",  # eth_sendRawTransaction forwarded to the node
                "send_lost",
                "send_502",
                "send_drop",
                "send_error",
                "stalled",
                "delayed",
                "lagged",
                "posts",  # HTTP requests (a JSON-RPC batch is one)
            ),
            0,
        )
    )


class FaultyProxy:
    def __init__(self, upstream: str, faults: Faults) -> None:
        self.upstream = upstream
        self.faults = faults
        self._requests = itertools.count(1)
        self._get_logs = itertools.count(1)
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._open.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._open.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    status, answer = proxy.answer(body)
                except OSError:  # the node went away (the session ends): no answer either
                    status, answer = 0, b""
                if status == 0:  # drop: close without a word
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up waiting (a stalled call)
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening and cut every open connection."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def refuse_for(self, seconds: float) -> None:
        """Stop listening now and listen again on the same port after ``seconds``."""
        self.stop()
        self.faults.counts["refused"] += 1
        timer = threading.Timer(seconds, self._start)
        timer.daemon = True
        timer.start()

    def _forward(self, body: bytes) -> bytes:
        request = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return bytes(response.read())

    def answer(self, body: bytes) -> tuple[int, bytes]:
        f = self.faults
        f.counts["posts"] += 1
        if f.delay:
            f.counts["delayed"] += 1
            time.sleep(f.delay)
        n = next(self._requests)
        if f.drop_every and n % f.drop_every == 0:
            f.counts["drop"] += 1
            return 0, b""
        if f.unavailable_every and n % f.unavailable_every == 0:
            f.counts["503"] += 1
            return 503, b"Service Unavailable"
        message = json.loads(body)
        calls = message if isinstance(message, list) else [message]
        stalls = [
            f.stall[c.get("method")] for c in calls if isinstance(c, dict) and c.get("method") in f.stall
        ]
        if stalls:
            f.counts["stalled"] += 1
            time.sleep(max(stalls))
        if not isinstance(message, dict):
            return 200, self._forward(body)
        method = message.get("method")
        if method == "eth_sendRawTransaction":
            return self._send(message, body)
        if method == "eth_getTransactionCount" and f.nonce_lag:
            return 200, self._lagging(body)
        if method != "eth_getLogs":
            return 200, self._forward(body)
        params = message["params"][0]
        span = int(params["toBlock"], 16) - int(params["fromBlock"], 16) + 1
        if f.max_blocks is not None and span > f.max_blocks:
            return 200, _error(message, -32602, f"block range too large: up to a {f.max_blocks} block range")
        if f.timeout_every and next(self._get_logs) % f.timeout_every == 0:
            f.counts["timeout"] += 1
            time.sleep(f.hang)
        answer = self._forward(body)
        if f.max_results is not None and len(json.loads(answer).get("result") or []) > f.max_results:
            return 200, _error(message, -32005, f"query returned more than {f.max_results} results")
        if f.inject is not None:
            parsed = json.loads(answer)
            logs = parsed.get("result")
            if isinstance(logs, list):
                extra = f.inject(params, logs)
                f.counts["injected"] += len(extra)
                parsed["result"] = logs + extra
                answer = json.dumps(parsed).encode()
        return 200, answer

    def _send(self, message: dict[str, Any], body: bytes) -> tuple[int, bytes]:
        f = self.faults
        if f.after_send and f.after_send[0] == "lost":  # dropped before the node saw it
            f.after_send.pop(0)
            f.counts["send_lost"] += 1
            return 0, b""
        answer = self._forward(body)
        f.counts["sent"] += 1
        if not f.after_send:
            return 200, answer
        fault = f.after_send.pop(0)
        if fault == "ok":
            return 200, answer
        if fault == "502":
            f.counts["send_502"] += 1
            return 502, b"Bad Gateway"
        if fault == "drop":
            f.counts["send_drop"] += 1
            return 0, b""
        f.counts["send_error"] += 1
        return 200, _error(message, -32000, fault)

    def _lagging(self, body: bytes) -> bytes:
        parsed = json.loads(self._forward(body))
        count = int(parsed.get("result") or "0x0", 16)
        if count:
            self.faults.counts["lagged"] += 1
            parsed["result"] = hex(max(0, count - self.faults.nonce_lag))
        return json.dumps(parsed).encode()


def _error(message: dict[str, Any], code: int, text: str) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": message.get("id"), "error": {"code": code, "message": text}}
    ).encode()
