"""The verification page: a GS1 Digital Link resolver and the item, lot, transaction and address
pages, plus a JSON API with an OpenAPI description (``/openapi.json``).

Routes (``web.routes``):

- ``/01/{gtin}[/10/{lot}]/21/{serial}``: what a phone opens from the QR code, answered as a
  GS1-Conformant Resolver (``web.routes.resolver``: link types, linksets, ``/.well-known/gs1resolver``);
- ``/item/{id}``, ``/lot/{id}``: the same page by item id, and a lot's page;
- ``/00/{sscc}``: a case's or pallet's page (GS1 SSCC): its custodian, what it holds, its journey;
- ``POST /item/{id}/claim``: the code inside the lid, from the item page's form (``web.claims``);
- ``/tx/{hash}``, ``/address/{addr}``: the devnet's stand-in for a block explorer (on public
  networks the links go to the network's explorer instead, see ``supplytrace.core.explorers``);
- ``/api/items/{id}``, ``/api/lots/{id}``, ``/api/containers/{sscc}``: the page's data as JSON;
  ``/healthz``.

Every item page reads the item's record live from the chain (one batched JSON-RPC POST, no
ape); history comes from a :class:`~supplytrace.chain.history.HistorySource`. Server-rendered
HTML with one small inline stylesheet and no JavaScript. Whatever fails, the reader gets a human
page (JSON under ``/api``), never a stack trace; a page that cannot reach the chain says it cannot
check, never that a product is genuine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supplytrace.chain.codec import CodecError
from supplytrace.chain.history import HistorySource
from supplytrace.core.errors import ChainError, ContractRevertError
from supplytrace.core.text import Msg
from supplytrace.web.claims import Claims
from supplytrace.web.deps import Page, PageConfig
from supplytrace.web.errors import PageError, wants_json
from supplytrace.web.follow import Follow, Follower
from supplytrace.web.i18n import Languages, say, speaking_as_asked
from supplytrace.web.i18n import current as current_language
from supplytrace.web.render import CSP, SECURITY_HEADERS, json_answer
from supplytrace.web.resolver import CORS_HEADERS, RESOLVER_PATHS
from supplytrace.web.routes import claim, containers, explorer, home, items, lots, resolver

#: Failures of a live read: the node is down, timed out, or answered what is not the registry's.
CHAIN_FAILURES = (ChainError, CodecError, ContractRevertError)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every answer that does not carry them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ResolverCors:
    """CORS on the resolver's paths (GS1 Conformant Resolver: "SHALL support CORS"): every
    answer there, errors included, may be read by any site's script, and ``OPTIONS`` answers
    which methods the resolver takes (a preflight too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(RESOLVER_PATHS):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            headers = {
                **CORS_HEADERS,
                **SECURITY_HEADERS,
                "Allow": "GET, HEAD, OPTIONS",
                "Access-Control-Max-Age": "86400",
            }
            await Response(status_code=204, headers=headers)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CORS_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)


def create_app(
    config: PageConfig, source: HistorySource, follow: Follow | None = None, claims: Claims | None = None
) -> FastAPI:
    """The ASGI app for one deployment of the registry and one history source; with ``follow``,
    it follows the network's deployment record to a new deployment (``web.follow``); with
    ``claims``, it takes hidden codes and counts checks (``web.claims``)."""
    page = Page(config, source, claims)
    follower = Follower(page, follow) if follow is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        page.open()
        try:
            yield
        finally:
            await (follower.close() if follower is not None else page.close())

    app = FastAPI(
        title="supplytrace verification page",
        version="1",
        description=(
            "Whether an item is genuine, where it came from, who held it, and whether it is "
            "recalled or already sold. Every status is read live from the chain; history comes "
            "from the event index."
        ),
        docs_url=None,  # Swagger UI loads JavaScript from a CDN; the description is /openapi.json
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.page = page
    app.state.follower = follower
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ResolverCors)
    app.add_middleware(Languages)  # each request's language (web.i18n), before any route runs
    # The resolver last: its one-segment route (a compressed link) must not hide another page's.
    for module in (items, claim, lots, containers, explorer, home, resolver):
        app.include_router(module.router)
    _handle_errors(app, lambda: follower.page if follower is not None else page)
    return app


def _handle_errors(app: FastAPI, current: Callable[[], Page]) -> None:
    """A human page (JSON under /api) for every failure, never a stack trace."""

    def answer(request: Request, error: PageError) -> Response:
        page = current()
        if request.url.path.startswith("/api/") or wants_json(request):
            return json_answer({"error": error.title, "detail": error.message}, error.status)
        return page.templates.html("error.html", error.status, e=error, title=say(error.title))

    @app.exception_handler(PageError)
    async def on_page_error(request: Request, exc: PageError) -> Response:
        return answer(request, exc)

    async def on_chain_down(request: Request, exc: Exception) -> Response:
        page = current()
        return answer(
            request,
            PageError(
                503,
                Msg("Cannot check right now"),
                Msg(
                    "The page cannot reach the %(network)s at the moment, so it cannot tell whether "
                    "this product is genuine. Do not rely on the product's code until it can; try again "
                    "in a minute.",
                    network=page.config.network_label,
                ),
            ),
        )

    for failure in CHAIN_FAILURES:
        app.add_exception_handler(failure, on_chain_down)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            error = PageError(
                404,
                Msg("Page not found"),
                Msg("There is no page at this address. Product codes look like /01/<GTIN>/21/<serial>."),
            )
        elif exc.status_code == 405:
            error = PageError(405, Msg("Not allowed"), Msg("This page can only be read."))

        else:
            error = PageError(exc.status_code, Msg("Request not understood"), str(exc.detail))
        return answer(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_bad_request(request: Request, exc: RequestValidationError) -> Response:
        return answer(
            request, PageError(400, Msg("Request not understood"), Msg("The address is malformed."))
        )

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        # Starlette answers a crash from its outermost middleware, outside Languages.
        error = PageError(
            500,
            Msg("Something went wrong on our side"),
            Msg(
                "The page could not be built. Nothing is known about the product from this error; "
                "please try again."
            ),
        )
        with speaking_as_asked(request.scope):
            response = answer(request, error)
            response.headers["Content-Language"] = current_language().tag
        response.headers.append("Vary", "Accept-Language")
        return response


__all__ = ["CSP", "PageConfig", "PageError", "create_app"]
