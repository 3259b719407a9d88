"""The verification page: a GS1 Digital Link resolver and the item, lot, transaction and address
pages, plus a JSON API with an OpenAPI description (``/openapi.json``).

Routes:

- ``/01/{gtin}[/10/{lot}]/21/{serial}``: what a phone opens from the QR code (query ignored);
- ``/item/{id}``, ``/lot/{id}``: the same page by item id, and a lot's page;
- ``/tx/{hash}``, ``/address/{addr}``: the devnet's stand-in for a block explorer (on public
  networks the links go to the network's explorer instead, see ``supplytrace.core.explorers``);
- ``/api/items/{id}``, ``/api/lots/{id}``: the page's data as JSON; ``/healthz``.

Every item page reads the item's record live from the chain (one batched JSON-RPC POST,
no ape); history comes from a :class:`~supplytrace.web.sources.HistorySource`. Server-rendered
HTML with one small inline stylesheet and no JavaScript.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import jinja2
from eth_utils import is_address, keccak, to_checksum_address
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from supplytrace.core.deployments import Deployment
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.events import decode_log
from supplytrace.ids import IdentityError, ItemKey, parse_item_id
from supplytrace.web import views
from supplytrace.web.lotdata import MetadataStore
from supplytrace.web.rpc import AsyncChain, ChainUnavailableError
from supplytrace.web.sources import HistoryEvent, HistorySource, Participant
from supplytrace.web.views import Context, Contract, ItemView, LotView

HERE = Path(__file__).resolve().parent
CSS = (HERE / "static" / "style.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
#: No script, no frames, no outside requests: the page needs nothing but its inline stylesheet.
CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
#: The status is read live on every request: never let a phone or proxy show a stale one.
_NO_STORE = {"Cache-Control": "no-store"}
LOT_ITEMS_SHOWN = 50
logger = logging.getLogger("supplytrace.web")


@dataclass(frozen=True)
class PageConfig:
    """What the page needs at start-up; nothing here touches ape."""

    rpc_url: str
    registry: str
    chain_id: int
    ecosystem: str
    network: str
    deployment_block: int
    resolver: str
    metadata_folder: Path
    links: ExplorerLinks
    deployment: Deployment | None = None

    @property
    def network_label(self) -> str:
        if self.network == "local":
            return "local test network"
        return f"{self.ecosystem} {self.network} network"

    @property
    def rpc_hint(self) -> str:
        return self.rpc_url if self.network == "local" else "<RPC URL>"


def _item_url(item_id: str) -> str:
    return f"/item/{item_id}"


def _lot_url(lot_id: int) -> str:
    return f"/lot/{lot_id}"


class PageError(Exception):
    """An error with a human page (and a JSON body under /api)."""

    def __init__(self, status: int, title: str, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.detail = status, title, message, detail


def create_app(config: PageConfig, source: HistorySource) -> FastAPI:
    """The ASGI app for one deployment of the registry and one history source."""
    ctx = Context(
        links=config.links,
        registry=Contract(
            address=to_checksum_address(config.registry),
            url=config.links.address(config.registry),
            chain_id=config.chain_id,
            network=config.network_label,
        ),
        item_url=_item_url,
        lot_url=_lot_url,
    )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(css=CSS, registry=ctx.registry, short=views.short_address)
    env.filters.update(
        iso=lambda ts: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
        date=views.fmt_date,
        capitalize_first=lambda text: text[:1].upper() + text[1:],
    )
    metadata = MetadataStore(config.metadata_folder)
    chain_box: dict[str, AsyncChain] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chain_box["chain"] = AsyncChain(config.rpc_url, config.registry)
        try:
            yield
        finally:
            await chain_box.pop("chain").aclose()

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

    def chain() -> AsyncChain:
        return chain_box["chain"]

    def html(template: str, status: int = 200, *, cache: bool = False, **values: Any) -> HTMLResponse:
        body = env.get_template(template).render(**values)
        headers = dict(_HEADERS)
        if not cache:
            headers.update(_NO_STORE)
        return HTMLResponse(body, status_code=status, headers=headers)

    async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(func, *args)

    async def from_source(func: Callable[..., Any], *args: Any, default: Any) -> tuple[Any, bool]:
        """Ask the history source; if it fails, the page goes on without it (the status never
        depends on it) and says so. Returns (result or ``default``, whether it answered)."""
        try:
            return await in_thread(func, *args), True
        except Exception:
            logger.exception("the history source failed; serving the live record without history")
            return default, False

    async def names_for(addresses: set[str]) -> dict[str, Participant]:
        wanted = {a for a in addresses if a}
        names, _ok = await from_source(source.participants, wanted, default={}) if wanted else ({}, True)
        return names

    # ------------------------------------------------------------------------------------------
    # Items
    # ------------------------------------------------------------------------------------------

    async def build_item(item_id: bytes, key: ItemKey | None) -> ItemView:
        gtin = int(key.gtin) if key else None
        # The live record and the history are read at the same time; the status comes from the former.
        ((history, indexed), answered), (live, head, gtin_owner) = await asyncio.gather(
            from_source(_history_and_mark, source, item_id, default=([], None)),
            chain().item(item_id, gtin=gtin),
        )
        names = await names_for(
            views.addresses_in(history)
            | {a for a in (live.brand, live.custodian, live.pending_receiver, gtin_owner) if a}
        )
        return views.item_view(
            ctx,
            item_id=item_id,
            live=live,
            head=head,
            history=history,
            names=names,
            indexed_block=indexed,
            metadata=metadata.get(live.lot_metadata_hash) if live.registered else None,
            key=key,
            resolver=config.resolver,
            rpc_hint=config.rpc_hint,
            gtin_owner=gtin_owner,
            history_available=answered,
        )

    def item_page(view: ItemView) -> HTMLResponse:
        status = 200 if view.registered else 404
        return html("item.html", status, v=view, title=view.banner.title)

    @app.api_route("/01/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def digital_link(request: Request, rest: str) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        uri = "https://resolver.invalid" + raw_path.decode("latin-1").split("?", 1)[0]
        try:
            key = ItemKey.from_digital_link(uri)
        except IdentityError as exc:
            raise PageError(
                400,
                "This is not a product code we can read",
                "The link does not hold a valid GS1 product code with a serial number, so no item can "
                "be looked up. If you scanned it from a product, the label may be damaged or fake.",
                _plain_identity_error(exc),
            ) from None
        view = await build_item(key.id, key)
        if _wants_json(request):
            return JSONResponse(view.model_dump(mode="json"), status_code=200 if view.registered else 404)
        return item_page(view)

    @app.api_route("/item/{item_id}", methods=["GET", "HEAD"], include_in_schema=False)
    async def item(item_id: str) -> HTMLResponse:
        return item_page(await build_item(_item_id(item_id), None))

    @app.get(
        "/api/items/{item_id}",
        response_model=ItemView,
        responses={404: {"model": ItemView, "description": "Not registered by any brand."}},
        summary="An item's status (read live from the chain), lot details and custody history",
        tags=["items"],
    )
    async def api_item(item_id: str) -> JSONResponse:
        view = await build_item(_item_id(item_id), None)
        return JSONResponse(
            view.model_dump(mode="json"), status_code=200 if view.registered else 404, headers=_NO_STORE
        )

    # ------------------------------------------------------------------------------------------
    # Lots
    # ------------------------------------------------------------------------------------------

    async def build_lot(lot_id: int) -> LotView:
        live, head = await chain().lot(lot_id)
        if live is None:
            raise PageError(
                404,
                "No such lot",
                f"No brand has registered a lot number {lot_id} on the {config.network_label}.",
            )
        (history, indexed), answered = await from_source(_lot_and_mark, source, lot_id, default=(None, None))
        statuses = await chain().item_statuses([i.item_id for i in history.items] if history else [])
        names = await names_for(
            views.addresses_in(history.events if history else []) | {live.registrar or ""}
        )
        return views.lot_view(
            ctx,
            live=live,
            head=head,
            history=history,
            statuses=statuses,
            names=names,
            indexed_block=indexed,
            metadata=metadata.get(live.metadata_hash),
            history_available=answered,
        )

    @app.api_route("/lot/{lot_id}", methods=["GET", "HEAD"], include_in_schema=False)
    async def lot(lot_id: str) -> HTMLResponse:
        view = await build_lot(_lot_id(lot_id))
        return html("lot.html", v=view, title=f"Lot {view.lot_code}")

    @app.get(
        "/api/lots/{lot_id}",
        response_model=LotView,
        summary="A lot's record (read live from the chain), details, recall and first items",
        tags=["lots"],
    )
    async def api_lot(lot_id: str) -> JSONResponse:
        view = await build_lot(_lot_id(lot_id))
        return JSONResponse(view.model_dump(mode="json"), headers=_NO_STORE)

    # ------------------------------------------------------------------------------------------
    # The devnet's explorer: transactions and addresses
    # ------------------------------------------------------------------------------------------

    @app.api_route("/tx/{tx_hash}", methods=["GET", "HEAD"], include_in_schema=False)
    async def tx(tx_hash: str) -> HTMLResponse:
        text = tx_hash.strip().lower()
        if len(text) != 66 or not text.startswith("0x") or not _is_hex(text[2:]):
            raise PageError(
                400,
                "This is not a transaction hash",
                "A transaction hash is 0x followed by 64 hexadecimal digits.",
            )
        found, receipt, head = await chain().transaction(text)
        if found is None:
            raise PageError(
                404,
                "No such transaction",
                f"The {config.network_label} has no transaction {text}. It may belong to another network.",
            )
        timestamp = await chain().block_time(int(receipt["blockNumber"], 16)) if receipt else None
        registry = ctx.registry.address.lower()
        events = []
        for log in (receipt or {}).get("logs", []):
            event = decode_log(log) if str(log.get("address", "")).lower() == registry else None
            if event is not None:
                events.append(HistoryEvent.from_event(event, timestamp or 0))
        addresses = views.addresses_in(events) | {to_checksum_address(found["from"])}
        if found.get("to"):
            addresses.add(to_checksum_address(found["to"]))
        view = views.tx_view(
            ctx,
            tx_hash=text,
            tx=found,
            receipt=receipt,
            timestamp=timestamp,
            events=events,
            names=await names_for(addresses),
            head=head,
        )
        return html("tx.html", v=view, title=f"Transaction {views.short_address(text)}", cache=False)

    @app.api_route("/address/{address}", methods=["GET", "HEAD"], include_in_schema=False)
    async def address(address: str) -> HTMLResponse:
        if not is_address(address):
            raise PageError(
                400, "This is not an address", "An address is 0x followed by 40 hexadecimal digits."
            )
        checked = to_checksum_address(address)
        code, registrar, head = await chain().account(checked)
        names = await names_for({checked})
        is_registry = checked == ctx.registry.address
        record = config.deployment
        matches = None
        if is_registry and record is not None:
            matches = "0x" + keccak(code).hex() == record.runtime_bytecode_keccak
        view = views.AddressView(
            address=checked,
            party=ctx.party(checked, names) or views.Party(address=checked, label=checked, verified=False),
            is_registry=is_registry,
            is_contract=bool(code),
            is_registrar=registrar,
            deployment=record.__dict__ if (is_registry and record) else None,
            code_matches_record=matches,
            registry=ctx.registry,
            head_block=head,
        )
        return html("address.html", v=view, title=f"Address {views.short_address(checked)}")

    # ------------------------------------------------------------------------------------------
    # Home, typed codes, health
    # ------------------------------------------------------------------------------------------

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def home() -> HTMLResponse:
        return html("home.html", title="Check a product", cache=True)

    @app.get("/check", include_in_schema=False)
    async def check(code: str = "") -> Response:
        text = code.strip()
        if text.lower().startswith("0x") and "/" not in text:
            return RedirectResponse(_item_url(f"0x{_item_id(text).hex()}"), status_code=303)
        marker = text.find("/01/")
        if marker < 0:
            raise PageError(
                400,
                "This is not a product code we can read",
                "Type the web address printed under the QR code (it contains /01/ and /21/), "
                "or an item id starting with 0x.",
            )
        try:
            key = ItemKey.from_digital_link("https://resolver.invalid" + text[marker:].split("?", 1)[0])
        except IdentityError as exc:
            raise PageError(
                400,
                "This is not a product code we can read",
                "The code does not hold a valid GS1 product code with a serial number.",
                _plain_identity_error(exc),
            ) from None
        return RedirectResponse(_dl_path(key), status_code=303)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        results = await chain().batch([("eth_blockNumber", [])])
        return JSONResponse({"ok": True, "registry": ctx.registry.address, "head": int(results[0], 16)})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    # ------------------------------------------------------------------------------------------
    # Errors: a human page (JSON under /api), never a stack trace
    # ------------------------------------------------------------------------------------------

    def error_response(request: Request, error: PageError) -> Response:
        if request.url.path.startswith("/api/") or _wants_json(request):
            body = {"error": error.title, "detail": error.message}
            return JSONResponse(body, status_code=error.status, headers=_NO_STORE)
        return html("error.html", error.status, e=error, title=error.title)

    @app.exception_handler(PageError)
    async def on_page_error(request: Request, exc: PageError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(ChainUnavailableError)
    async def on_chain_down(request: Request, exc: ChainUnavailableError) -> Response:
        return error_response(
            request,
            PageError(
                503,
                "Cannot check right now",
                f"The page cannot reach the {config.network_label} at the moment, so it cannot tell "
                "whether this product is genuine. Do not rely on the product's code until it can; "
                "try again in a minute.",
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            error = PageError(
                404,
                "Page not found",
                "There is no page at this address. Product codes look like /01/<GTIN>/21/<serial>.",
            )
        elif exc.status_code == 405:
            error = PageError(405, "Not allowed", "This page can only be read.")
        else:
            error = PageError(exc.status_code, "Request not understood", str(exc.detail))
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, PageError(400, "Request not understood", "The address is malformed."))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        return error_response(
            request,
            PageError(
                500,
                "Something went wrong on our side",
                "The page could not be built. Nothing is known about the product from this error; "
                "please try again.",
            ),
        )

    return app


def _history_and_mark(source: HistorySource, item_id: bytes) -> tuple[list[HistoryEvent], int | None]:
    # The index mark is read *before* the history so that the lag shown is never smaller than the truth.
    indexed = source.indexed_block()
    return source.item_history(item_id), indexed


def _lot_and_mark(source: HistorySource, lot_id: int) -> tuple[Any, int | None]:
    indexed = source.indexed_block()
    return source.lot(lot_id, LOT_ITEMS_SHOWN), indexed


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _item_id(text: str) -> bytes:
    try:
        return parse_item_id(text)
    except IdentityError:
        raise PageError(
            400,
            "This is not an item id",
            "An item id is 0x followed by 64 hexadecimal digits, e.g. as printed by `supplytrace status`.",
        ) from None


def _lot_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**32:
        raise PageError(400, "This is not a lot number", "A lot number is a whole number: 1, 2, 3, …")
    return int(text)


def _dl_path(key: ItemKey) -> str:
    path = f"/01/{key.gtin}"
    if key.lot is not None:
        path += f"/10/{quote(key.lot, safe='')}"
    return f"{path}/21/{quote(key.serial, safe='')}"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _plain_identity_error(exc: IdentityError) -> str:
    return str(exc).replace("https://resolver.invalid", "")


__all__ = ["CSP", "PageConfig", "PageError", "create_app"]
