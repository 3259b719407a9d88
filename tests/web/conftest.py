"""Fixtures for the verification page: the demo's story on ape's test network (anvil), and the
page's ASGI app over it, reading the chain by raw JSON-RPC exactly as `supplytrace serve` does.

``build_index`` builds a real event index of that chain (``supplytrace.indexer``), the source
``supplytrace serve`` reads history from; ``served`` opens a history as `supplytrace serve` does
(``supplytrace.service.history.open_history``). The index stand-ins below (stale, tampered,
broken, failing) wrap the real chain-backed history: they are the failures of a history source
the page must survive whatever its source.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import re
import socket
import warnings
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from starlette.exceptions import StarletteDeprecationWarning

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.history import ChainHistory, HistorySource, LotHistory, LotItem, NodeLook, Participant
from supplytrace.chain.rpc import Rpc
from supplytrace.core.config import load_settings
from supplytrace.core.deployments import Deployment
from supplytrace.core.events import ItemSold, Logged
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.demo import Story, tell_claim, tell_story
from supplytrace.indexer.run import Indexer, IndexerConfig
from supplytrace.indexer.store import Header, IndexStore, make_engine
from supplytrace.service.history import open_history
from supplytrace.service.registry import Registry
from supplytrace.web.app import create_app
from supplytrace.web.deps import PageConfig

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 fork for its test client; httpx (the page's own RPC client) works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

#: TestClient's host: explorer links on the local network point at the page itself.
BASE = "http://testserver"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"


def free_port() -> int:
    """A TCP port nothing listens on now; never 8545 or 8000, which the demo uses."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in (8545, 8000):
            return port


def text_of(page: str) -> str:
    """The visible text of an HTML page (tags dropped, whitespace collapsed)."""
    page = re.sub(r'<span class="vh">.*?</span>', " ", page, flags=re.S)
    page = re.sub(r"<(style|head)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def banner_of(page: str) -> tuple[str, str]:
    """(data-status, text) of the page's status banner."""
    match = re.search(
        r'<section class="banner[^"]*"[^>]*data-status="([^"]+)"[^>]*>(.*?)</section>', page, re.S
    )
    assert match, "the page has no status banner"
    return match.group(1), text_of(match.group(2))


CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium's own connections are refused on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 360


@dataclass
class World:
    registry: Any
    story: Story
    home: Path
    from_block: int
    rpc_url: str
    chain_id: int
    deployment: Deployment

    def key(self, case: str) -> Any:
        return next(i.key for i in self.story.items if i.case == case)

    def config(self, **changes: Any) -> PageConfig:
        config = PageConfig.of(
            self.deployment,
            rpc_url=self.rpc_url,
            resolver=BASE,
            metadata_folder=self.home / "metadata",
            links=ExplorerLinks.for_network("ethereum", "local", resolver=BASE, overrides={}),
        )
        return replace(config, **changes)

    def history(self) -> ChainHistory:
        return ChainHistory(Rpc(self.rpc_url), str(self.registry.address), self.from_block)

    def served(self, db: str | None, home: Path | None = None) -> tuple[HistorySource, str]:
        """The history `supplytrace serve` reads: the index at ``db`` if it fits, else the chain's."""
        return open_history(Rpc(self.rpc_url), self.deployment, db=db, home=home or self.home)


@pytest.fixture(scope="module")
def world(project, accounts, chain, tmp_path_factory) -> World:
    """The demo's supply chain (tell_story) on a fresh registry on ape's anvil."""
    return tell_world(project.ProvenanceRegistry, accounts, chain, tmp_path_factory)


def deployment_of(registry: Any, chain: Any, admin: Any, block: int) -> Deployment:
    """The deployment record of ``registry`` (deployed by ``admin`` at ``block``) on ape's anvil."""
    code = bytes(chain.provider.get_code(registry.address))
    return Deployment(
        ecosystem="ethereum",
        network="local",
        chain_id=int(chain.chain_id),
        address=str(registry.address),
        tx_hash=str(registry.txn_hash),
        block=block,
        deployer=str(admin.address),
        admin=str(admin.address),
        compiler="solc (tests)",
        runtime_bytecode_keccak="0x" + keccak(code).hex(),
        deployed_at="2026-01-01T00:00:00Z",
    )


def tell_world(container: Any, accounts: Any, chain: Any, tmp_path_factory: Any) -> World:
    """The demo's supply chain on a fresh registry deployed from ``container``."""
    admin = accounts[0]
    registry = container.deploy(admin, 0, sender=admin)
    from_block = int(chain.blocks.head.number)
    home = tmp_path_factory.mktemp("web-home")
    deployment = deployment_of(registry, chain, admin, from_block)
    rpc_url = str(chain.provider.http_uri)
    service = Registry(Rpc(rpc_url), deployment, replace(load_settings(), home=home))
    cast = tuple(service.acting_as(ApeSigner(accounts[n])) for n in range(4))  # admin, beekeeper, ...
    story = tell_story(cast, lambda _line: None)
    if "registerItemsWithCodes" in registry.contract_type.methods:  # not in a legacy registry
        story = tell_claim(story, cast, home / "demo", lambda _line: None)
    return World(registry, story, home, from_block, rpc_url, int(chain.chain_id), deployment)


@pytest.fixture(scope="module")
def make_client(world: World) -> Iterator[Callable[..., TestClient]]:
    """make_client(source=None, **config changes) -> a started TestClient of the page."""
    clients: list[TestClient] = []

    def _make(source: HistorySource | None = None, **changes: Any) -> TestClient:
        app = create_app(world.config(**changes), source or world.history())
        client = TestClient(app, base_url=BASE, raise_server_exceptions=False, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium (Debian's, driven by Playwright) at a phone's width, 360 px."""
    from playwright.sync_api import sync_playwright  # only the tests that lay pages out need it

    assert CHROMIUM.exists(), (
        "the browser test needs Debian's chromium: `apt-get install chromium` (.ci/run does)"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a new, empty user data dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": WIDTH, "height": 740},
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()


# ----------------------------------------------------------------------------------------------
# The event index
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def build_index(world: World, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """build_index(registry=None, deployment_block=None, confirmations=0) -> the URL of a new
    SQLite index of the world's chain (the world's registry unless another is named), built by
    the real indexer up to the head minus ``confirmations``."""
    engines: list[Any] = []
    numbers = itertools.count()

    def _build(
        *, registry: str | None = None, deployment_block: int | None = None, confirmations: int = 0
    ) -> str:
        url = f"sqlite:///{tmp_path / f'index-{next(numbers)}.db'}"
        engine = make_engine(url)
        engines.append(engine)
        Indexer(
            IndexStore(engine, world.chain_id),
            Rpc(world.rpc_url, timeout=10),
            registry or str(world.registry.address),
            world.from_block if deployment_block is None else deployment_block,
            IndexerConfig(confirmations=confirmations),
        ).catch_up()
        return url

    yield _build
    for engine in engines:
        engine.dispose()


def forget_chain(url: str, world: World, *, registry: str | None = None) -> None:
    """Turn the index at ``url`` into one an earlier devnet left: the world's registry address
    (a devnet's deployer and nonce repeat) or ``registry``, nothing indexed, and a checkpoint at
    the head whose block this chain does not have."""
    engine = make_engine(url)
    try:
        store = IndexStore(engine, world.chain_id)
        store.reset()
        head = int(Rpc(world.rpc_url).request("eth_blockNumber", []), 16)
        elsewhere = Header(head, b"\x0e" * 32, b"\x0d" * 32, 0)
        store.start(registry or str(world.registry.address), world.from_block, elsewhere)
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------------------------
# Index stand-ins
# ----------------------------------------------------------------------------------------------

SECRET_FAILURE = "database file is locked: /secret/path/index.sqlite"


class StaleIndex:
    """An index that stopped at block ``mark``: it holds no newer event and says so."""

    def __init__(self, inner: HistorySource, mark: int) -> None:
        self.inner, self.mark = inner, mark

    def item_history(self, item_id: bytes) -> list[Logged]:
        return [e for e in self.inner.item_history(item_id) if e.block_number <= self.mark]

    def items_events(self, item_ids: Collection[bytes]) -> list[Logged]:
        return [e for e in self.inner.items_events(item_ids) if e.block_number <= self.mark]

    def lot(
        self, lot_id: int, item_limit: int = 50, offset: int = 0, *, bounded: bool = False
    ) -> LotHistory | None:
        found = self.inner.lot(lot_id, item_limit, offset, bounded=bounded)
        if found is None:
            return None
        return replace(found, events=[e for e in found.events if e.block_number <= self.mark])

    def lot_items(self, lot_id: int) -> list[LotItem]:
        return self.inner.lot_items(lot_id)

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        return self.inner.participants(addresses)

    def indexed_block(self) -> int | None:
        return self.mark

    def checkpoint(self) -> tuple[int, str] | None:
        return None  # its mark is no block the node could be asked about

    def pinned(
        self, look: NodeLook | None = None, *, local: bool = False
    ) -> contextlib.AbstractContextManager[None]:
        return self.inner.pinned(local=local)


class TamperedIndex(StaleIndex):
    """An index whose rows were altered: every item in it reads as sold."""

    def __init__(self, inner: HistorySource) -> None:
        super().__init__(inner, 2**62)

    def item_history(self, item_id: bytes) -> list[Logged]:
        events = self.inner.item_history(item_id)
        if not events:
            return events
        last = events[-1]
        seller = getattr(events[0].event, "registrar", None) or "0x" + "00" * 20
        fake = Logged(
            ItemSold(item_id, seller),
            last.block_number,
            last.log_index + 1,
            last.tx_hash,
            last.block_hash,
            last.timestamp,
        )
        return [*events, fake]

    def indexed_block(self) -> int | None:
        return None


class BrokenIndex(StaleIndex):
    """An index whose database is gone: every query fails."""

    def __init__(self, inner: HistorySource) -> None:
        super().__init__(inner, 0)

    def item_history(self, item_id: bytes) -> list[Logged]:
        raise RuntimeError(SECRET_FAILURE)

    def items_events(self, item_ids: Collection[bytes]) -> list[Logged]:
        raise RuntimeError(SECRET_FAILURE)

    def lot(
        self, lot_id: int, item_limit: int = 50, offset: int = 0, *, bounded: bool = False
    ) -> LotHistory | None:
        raise RuntimeError(SECRET_FAILURE)

    def lot_items(self, lot_id: int) -> list[LotItem]:
        raise RuntimeError(SECRET_FAILURE)

    def participants(self, addresses: Collection[str]) -> dict[str, Participant]:
        raise RuntimeError(SECRET_FAILURE)


class FailingSource(BrokenIndex):
    """A history source that fails whatever it is asked, even where its index stands."""

    def indexed_block(self) -> int | None:
        raise RuntimeError(SECRET_FAILURE)


class MalformedIndex(StaleIndex):
    """An index that answers with rows the page cannot read (a row that is no registry event)."""

    def __init__(self, inner: HistorySource) -> None:
        super().__init__(inner, 2**62)

    def item_history(self, item_id: bytes) -> list[Logged]:
        row: Any = {"itemId": item_id}
        return [Logged(row, 1, 0, "0x" + "00" * 32, "0x" + "00" * 32, 0)]


# ----------------------------------------------------------------------------------------------
# Hidden codes: items registered with codes, the brand's tree documents, a page that takes codes
# ----------------------------------------------------------------------------------------------

#: The relayer's account (ape test account): none of the story's cast.
RELAYER = 6
_coded_serials = itertools.count(1)


@dataclass
class Coded:
    """Items registered with hidden codes into the world's open lot."""

    keys: list[Any]
    codes: dict[bytes, str]  # item id -> code

    def code(self, n: int = 0) -> str:
        return self.codes[self.keys[n].id]


@pytest.fixture(scope="module")
def codes_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the page reads the brand's tree documents (``serve --codes-dir``)."""
    return tmp_path_factory.mktemp("codes")


@pytest.fixture(scope="module")
def register_coded(world: World, accounts: Any, codes_folder: Path) -> Callable[[int], Coded]:
    """register_coded(n) -> n new items of the world's lot with hidden codes, committed as one
    root, and the tree document written where the page reads it."""
    from supplytrace.core.codes import CodeTree, leaf, new_code, tree_document
    from supplytrace.core.ids import ItemKey, encode_code
    from supplytrace.demo import HONEY_GTIN, LOT_CODE
    from supplytrace.web.claims import CodeTrees

    def _register(n: int) -> Coded:
        serials = [f"CODED{next(_coded_serials):04d}" for _ in range(n)]
        keys = [ItemKey.create(HONEY_GTIN, s, LOT_CODE) for s in serials]
        codes = {k.id: new_code() for k in keys}
        tree = CodeTree.of(leaf(i, c) for i, c in codes.items())
        world.registry.registerItemsWithCodes(
            world.story.lot_id, [encode_code(s) for s in serials], tree.root, sender=accounts[1]
        )
        path = CodeTrees(codes_folder).path(world.chain_id, str(world.registry.address), tree.root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(tree_document(tree, world.story.lot_id)))
        return Coded(keys, codes)

    return _register


@pytest.fixture(scope="module")
def relayer(world: World, accounts: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The page's relayer: a Sender of an ape test account that none of the story uses."""
    from supplytrace.chain.send import Sender

    return Sender(
        Rpc(world.rpc_url, timeout=10),
        ApeSigner(accounts[RELAYER]),
        chain_id=world.chain_id,
        lock_dir=tmp_path_factory.mktemp("locks"),
        mining_timeout=30,
    )


SECRET = b"a test secret of the page, 32 b."


@pytest.fixture
def claims_of(codes_folder: Path, relayer: Any, world: World) -> Iterator[Callable[..., Any]]:
    """claims_of(db=None, relay=True) -> the page's Claims: its book in the database at ``db``
    (each call its own engine, as each page process has) or in memory."""
    from supplytrace.indexer.scans import PageBook
    from supplytrace.web.claims import Claims, ClientKeys, CodeTrees

    books: list[Any] = []

    def _claims(db: str | None = None, relay: bool = True) -> Any:
        book = PageBook.open(db, world.chain_id) if db else PageBook.in_memory(world.chain_id)
        books.append(book)
        return Claims(book, CodeTrees(codes_folder), relayer if relay else None, ClientKeys(SECRET))

    yield _claims
    for book in books:
        book.close()


@pytest.fixture
def claim_client(world: World, claims_of: Callable[..., Any]) -> Iterator[Callable[..., TestClient]]:
    """claim_client(claims=None) -> a started TestClient of a page that takes codes (its clock
    is ``client.app.state.page.clock``, for tests to move)."""
    clients: list[TestClient] = []

    def _make(claims: Any = None) -> TestClient:
        app = create_app(world.config(), world.history(), claims=claims or claims_of())
        client = TestClient(
            app,
            base_url=BASE,
            raise_server_exceptions=False,
            follow_redirects=False,
            headers={"Origin": BASE},
        )
        client.__enter__()
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.__exit__(None, None, None)


def head_block(world: World) -> int:
    return int(Rpc(world.rpc_url).request("eth_blockNumber", []), 16)
