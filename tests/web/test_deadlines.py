"""Every chain call of a request has a deadline: a node that stalls gets 'cannot check' pages in
bounded time, never a pile of waiting threads, and the page recovers at once when the node does
(issue #11: with a node answering in 25 s, 60 requests all got 503 and the first request after
it recovered took 18.6 s)."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from supplytrace.core.config import load_settings
from supplytrace.core.deployments import save
from supplytrace.service.page import build_page
from supplytrace.web.deps import LIVE_READ_TIMEOUT
from tests.web.conftest import TestClient, World

STALL = 25.0


class StallingNode:
    """A JSON-RPC proxy to a real node that, while stalled, answers each request after 25 s."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.stalled = threading.Event()
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if node.stalled.is_set():
                    time.sleep(STALL)
                request = urllib.request.Request(node.upstream, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = response.read()
                with contextlib.suppress(OSError):  # the page gave up on a stalled answer: fine
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node(world: World) -> Iterator[StallingNode]:
    proxy = StallingNode(world.rpc_url)
    yield proxy
    proxy.close()


def test_item_page__node_stalls_then_recovers__every_answer_within_the_deadline_and_recovery_at_once(
    world: World, node: StallingNode, tmp_path: Path
) -> None:
    settings = replace(load_settings(), home=world.home, deployments=tmp_path / "deployments")
    save(settings.deployments, world.deployment, force=True)
    app, _note = build_page(settings, "ethereum:local", node.url)  # no index: history from the chain
    path = f"/item/{world.key('genuine').id_hex}"
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(path).status_code == 200
        node.stalled.set()

        def timed(_n: int) -> tuple[int, float]:
            started = time.monotonic()
            status = client.get(path).status_code
            return status, time.monotonic() - started

        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(timed, range(40)))
        assert {status for status, _ in answers} == {503}
        slowest = max(seconds for _, seconds in answers)
        assert slowest < LIVE_READ_TIMEOUT + 2.0, slowest

        node.stalled.clear()
        started = time.monotonic()
        recovered = client.get(path)
        assert recovered.status_code == 200
        assert "history cannot be read" not in recovered.text
        assert time.monotonic() - started < 2.0
