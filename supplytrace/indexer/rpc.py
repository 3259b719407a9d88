"""A small JSON-RPC client over HTTP(S) for the indexer: keep-alive, one connection per thread,
batches, orjson, and errors that say whether to retry (see :mod:`supplytrace.events`).

The indexer does not go through ape or web3.py: their request layers cost more than the
node's answer for ``eth_getLogs`` pages of thousands of logs.
"""

from __future__ import annotations

import functools
import http.client
import itertools
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec
import orjson


class RpcError(RuntimeError):
    """The node answered with a JSON-RPC error (or an HTTP error status)."""

    def __init__(self, code: int, message: str, data: Any = None, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data
        self.status = status


class HttpRpc:
    """JSON-RPC over HTTP(S) to ``url``; thread-safe (one keep-alive connection per thread).

    Transport failures raise ``OSError`` / ``http.client.HTTPException`` (the connection is
    dropped and reopened on the next call); a request taking longer than ``timeout`` seconds
    raises ``TimeoutError``.
    """

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) JSON-RPC URL")
        self.url = url
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()
        self._ids = itertools.count(1)

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = factory(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _post(self, body: bytes, result: Any = None) -> Any:
        conn = self._connection()
        try:
            conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            content = response.read()
        except BaseException:
            self.close()
            raise
        if response.status != 200:
            self.close()
            raise RpcError(
                -32000, f"HTTP {response.status} {response.reason}: {content[:200]!r}", status=response.status
            )
        if result is not None:
            try:
                answer = _decoder(result).decode(content)
            except msgspec.ValidationError as exc:
                raise RpcError(-32000, f"the node's answer does not have the expected form: {exc}") from None
            except msgspec.DecodeError:
                self.close()
                raise http.client.IncompleteRead(content[:100]) from None
            return {"result": answer.result, "error": answer.error}
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            self.close()
            raise http.client.IncompleteRead(content[:100]) from None

    @staticmethod
    def _result(answer: Any) -> Any:
        if not isinstance(answer, dict):
            raise RpcError(-32000, f"unexpected answer {str(answer)[:200]}")
        error = answer.get("error")
        if error is not None:
            if isinstance(error, dict):
                raise RpcError(int(error.get("code", -32000)), str(error.get("message")), error.get("data"))
            raise RpcError(-32000, str(error))
        return answer.get("result")

    def request(self, method: str, params: list[Any], *, result: Any = None) -> Any:
        """The result of ``method``; with ``result`` (a type msgspec can decode into, e.g.
        ``list[RawLog]``) the answer is decoded straight into that type instead of into dicts."""
        body = orjson.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        return self._result(self._post(body, result))

    # ape-style name, so an HttpRpc can stand in wherever a provider's make_request is used.
    make_request = request

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; results in the order of ``calls`` (the first error raises)."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        body = orjson.dumps(
            [
                {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                for i, (m, p) in zip(ids, calls, strict=True)
            ]
        )
        answers = self._post(body)
        if isinstance(answers, dict):  # some nodes answer a refused batch with one error object
            return [self._result(answers)]
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        if len(by_id) != len(ids) or any(i not in by_id for i in ids):
            raise RpcError(-32000, "the node's batch answer does not match the request")
        return [self._result(by_id[i]) for i in ids]


@functools.cache
def _decoder(result: Any) -> msgspec.json.Decoder[Any]:
    """A decoder of JSON-RPC answers whose result has the type ``result``."""
    answer = msgspec.defstruct(
        "Answer", [("result", result | None, None), ("error", Any, None), ("id", Any, None)]
    )
    return msgspec.json.Decoder(answer)
