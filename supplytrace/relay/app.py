"""The relayer over HTTP (FastAPI), apart from the verification page.

- ``POST /actions``: one request (:mod:`.request`, at most :data:`MAX_BODY` bytes of JSON);
  answers 200 ``{"kind", "item", "signer", "tx_hash", "block", "status", "gas_used", "fee_wei",
  "explorer"}`` once the transaction is mined, or ``{"error": sentence}``: 400 a malformed
  request, 409 an action the registry would refuse (simulated; nothing sent), 413 too large,
  429 a cap reached (nothing sent), 502 the node failed.
- ``GET /actions/{tx_hash}``: what the relayer recorded of one of its transactions (404 if none).
- ``GET /health``: the relayer's account, chain, registry and caps.

No answer carries a traceback: an unexpected failure is a 500 with one sentence.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from supplytrace.chain.rpc import RpcError
from supplytrace.core.errors import ChainError, SupplytraceError
from supplytrace.relay.caps import CapExceededError
from supplytrace.relay.relayer import RefusedError, Relayer
from supplytrace.relay.request import RequestError

#: The largest request body taken (bytes): a request is a few hundred.
MAX_BODY = 16 * 1024
_TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


def _error(status: int, sentence: str) -> JSONResponse:
    return JSONResponse({"error": sentence}, status_code=status)


def status_of(exc: SupplytraceError) -> int:
    """The HTTP status of a refusal."""
    if isinstance(exc, RequestError):
        return 400
    if isinstance(exc, RefusedError):
        return 409
    if isinstance(exc, CapExceededError):
        return 429
    if isinstance(exc, ChainError | RpcError):
        return 502
    return 400


def relay_app(relayer: Relayer, *, max_body: int = MAX_BODY) -> FastAPI:
    """The HTTP app of ``relayer``."""
    app = FastAPI(title="supplytrace relayer", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/actions")
    async def post_action(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body:
            return _error(413, f"the request is larger than {max_body:,} bytes; send one action at a time.")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return _error(
                    413, f"the request is larger than {max_body:,} bytes; send one action at a time."
                )
        try:
            parsed = json.loads(bytes(body))
        except (ValueError, RecursionError):
            return _error(400, "the request is not JSON; send one JSON object (kind, item, nonce, ...).")
        try:
            relayed = await run_in_threadpool(relayer.relay, parsed)
        except SupplytraceError as exc:
            return _error(status_of(exc), str(exc))
        return JSONResponse(relayed.to_json())

    @app.get("/actions/{tx_hash}")
    def get_action(tx_hash: str) -> JSONResponse:
        if not _TX_HASH.fullmatch(tx_hash):
            return _error(400, "give a transaction hash: 0x and 64 hex digits.")
        found = relayer.usage.lookup(tx_hash.lower())
        if found is None:
            return _error(404, f"this relayer sent no transaction {tx_hash.lower()}.")
        return JSONResponse({**found, "explorer": relayer.tx_link(found["tx_hash"])})

    @app.get("/health")
    def health() -> dict[str, Any]:
        caps = relayer.caps
        return {
            "status": "ok",
            "relayer": relayer.address,
            "chain_id": relayer.chain_id,
            "registry": relayer.registry,
            "caps": {
                "actions_per_signer_per_day": caps.actions_per_signer,
                "gas_per_signer_per_day": caps.gas_per_signer,
                "gas_per_day": caps.gas_per_day,
            },
        }

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return _error(500, "the relayer failed unexpectedly; nothing more is known here. Try again later.")

    return app


def serve(app: Any, host: str, port: int) -> None:
    """Serve ``app`` until interrupted (SIGINT/SIGTERM)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    )
    server.run()
    if not server.started:
        raise SupplytraceError(f"the relayer could not listen on {host}:{port} (is the port taken?).")
