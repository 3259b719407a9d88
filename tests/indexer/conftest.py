"""Fixtures for the indexer: index databases (SQLite and a real PostgreSQL server), indexers on
ape's anvil, a workload that drives the registry, and the three-way check index == fresh
rebuild == the contract's own views.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import random
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc
from supplytrace.chain.send import Sent
from supplytrace.core.ids import encode_code, item_id
from supplytrace.core.reducer import container_record_of
from supplytrace.indexer.database import make_engine, resolve_url
from supplytrace.indexer.fetch import FetchConfig
from supplytrace.indexer.reader import IndexReader
from supplytrace.indexer.run import Indexer, IndexerConfig
from supplytrace.indexer.store import IndexStore
from tests.cli.conftest import cli, deployed  # noqa: F401  (the CLI tests' devnet fixtures)
from tests.conftest import HONEY_GTIN
from tests.indexer.postgres import URL_ENV, create_database, temporary_server

BACKENDS = ["sqlite", "postgres"]
_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server: $SUPPLYTRACE_TEST_POSTGRES_URL, else a throwaway one started here."""
    given = os.environ.get(URL_ENV)
    if given:
        yield resolve_url(given, Path("."))
        return
    with temporary_server() as url:
        yield url


def new_db_url(kind: str, request: pytest.FixtureRequest, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'index-{next(_databases)}.db'}"
    server = request.getfixturevalue("pg_server")
    return create_database(server, f"supplytrace_{os.getpid()}_{next(_databases)}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """make_db() -> the URL of a new, empty database of the test's backend."""
    return lambda: new_db_url(backend, request, tmp_path)


@pytest.fixture
def db_url(make_db: Callable[[], str]) -> str:
    return make_db()


@pytest.fixture
def rpc_url(chain: Any) -> str:
    return str(chain.provider.uri)


@pytest.fixture
def deployment_block(registry: Any, chain: Any) -> int:
    return int(chain.provider.get_receipt(registry.txn_hash).block_number)


@pytest.fixture
def chain_id(chain: Any) -> int:
    return int(chain.provider.make_request("eth_chainId", []), 16)


SMALL_CHUNKS = FetchConfig(initial_span=3, max_span=64, target_logs=40)


@pytest.fixture
def make_indexer(registry: Any, deployment_block: int, chain_id: int, rpc_url: str) -> Callable[..., Indexer]:
    """make_indexer(db_url, url=None, **config) -> an Indexer of the module's registry."""
    engines: list[Any] = []

    def _make(db: str, url: str | None = None, fetch: FetchConfig = SMALL_CHUNKS, **config: Any) -> Indexer:
        engine = make_engine(db)
        engines.append(engine)
        store = IndexStore(engine, chain_id)
        settings = IndexerConfig(fetch=fetch, **({"confirmations": 0} | config))
        return Indexer(
            store, Rpc(url or rpc_url, timeout=10), str(registry.address), deployment_block, settings
        )

    yield _make
    for engine in engines:
        engine.dispose()


def full_index(db: str, make_indexer: Callable[..., Indexer]) -> Indexer:
    """A fresh index of the whole chain, in one catch-up."""
    indexer = make_indexer(db, fetch=FetchConfig())
    indexer.catch_up()
    return indexer


def dump(indexer: Indexer) -> dict[str, list[tuple[Any, ...]]]:
    return indexer.store.dump()


def assert_matches_contract(
    indexer: Indexer,
    registry: Any,
    item_ids: set[bytes],
    lot_ids: set[int],
    *,
    legacy: bool = False,
    boxes: Collection[bytes] = (),
) -> None:
    """Every item and lot the index holds reads exactly as the contract's getItem / getLot.

    ``legacy``: the registry as deployed before issue #13 counted only moves in ``custodyNonce``;
    the index counts every step the current contract counts (moves, ended offers, records), so
    there its nonce is at least the chain's and every other field is equal."""
    reader = IndexReader(indexer.store.engine, indexer.store.chain_id)
    reads = RegistryReads(indexer.rpc, str(registry.address))
    for item in sorted(item_ids):
        indexed = reader.item_record(item)
        onchain = reads.item(item)
        if not onchain.registered:
            assert indexed is None, f"0x{item.hex()} is in the index but not registered"
        else:
            if legacy and indexed is not None:
                assert indexed.custody_nonce >= onchain.custody_nonce, f"0x{item.hex()}: nonce"
                indexed = dataclasses.replace(indexed, custody_nonce=onchain.custody_nonce)
            assert indexed == onchain, f"0x{item.hex()}: index {indexed} != chain {onchain}"
    for lot in sorted(lot_ids):
        summary = reader.lot(lot)
        assert summary is not None
        assert summary.record == reads.lot(lot)
    for box in sorted(boxes):
        with reader.engine.connect() as conn:
            rows = reader.container_rows(conn, box)
        indexed_box = container_record_of(rows[box], rows) if box in rows else None
        onchain_box = reads.container(box)
        assert indexed_box == (onchain_box if onchain_box.exists else None), f"container 0x{box.hex()}"


@pytest.fixture
def send_raw(registry: Any, chain_id: int, rpc_url: str) -> Callable[..., Sent]:
    """send_raw(account, function, *args) -> the mined transaction: the registry's ``function``
    called with any bytes for its bytes32 and string arguments (``chain.send``, not ape's
    encoder, which refuses bytes that are not UTF-8 for a string), as a hostile registrar or
    participant would."""
    from supplytrace.chain.ape import ApeSigner
    from supplytrace.chain.send import Sender

    def _send(account: Any, function: str, *args: Any) -> Sent:
        sender = Sender(Rpc(rpc_url), ApeSigner(account), chain_id=chain_id, registry=str(registry.address))
        return sender.call(function, *args)

    return _send


# ----------------------------------------------------------------------------------------------
# A workload: random registry operations through ape (each a transaction, each a block)
# ----------------------------------------------------------------------------------------------


@dataclass
class Workload:
    registry: Any
    admin: Any
    brand: Any
    others: list[Any]
    lots: list[int]
    rng: random.Random
    items: list[bytes] = field(default_factory=list)
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    boxes: list[bytes] = field(default_factory=list)  # containers (issue #14), packed by the brand first
    ssccs: dict[bytes, int] = field(default_factory=dict)

    @property
    def lot_ids(self) -> set[int]:
        return set(range(1, int(self.registry.lotCount()) + 1))

    def register(self, count: int = 3, lot: int | None = None) -> list[bytes]:
        lot = lot or self.rng.choice(self.lots)
        if self.registry.getLot(lot).recalledAt or self.registry.getLot(lot).closed:
            return []
        serials = [f"W{self.rng.randrange(10**6)}-{next(self.serials)}" for _ in range(count)]
        self.registry.registerItems(lot, [encode_code(s) for s in serials], sender=self.brand)
        ids = [item_id(HONEY_GTIN, s) for s in serials]
        self.items.extend(ids)
        return ids

    def _holder(self, item: bytes) -> Any | None:
        """Who may act on ``item`` (an item or a container) now: its custodian, unless it is
        packed (then only its outermost container moves), sold or claimed."""
        if item in self.boxes:
            record = self.registry.getContainer(item)
        else:
            record = self.registry.getItem(item)
            if int(record.status) != 1:
                return None
        if bytes(record.container) != b"\0" * 32:
            return None
        for account in [self.brand, *self.others]:
            if account.address == record.custodian:
                return account
        return None

    def _free(self, x: bytes) -> Any | None:
        """The holder of ``x`` when it may be packed or unpacked: not packed, no open offer."""
        holder = self._holder(x)
        record = self.registry.getContainer(x) if x in self.boxes else self.registry.getItem(x)
        return holder if int(str(record.pendingReceiver), 16) == 0 else None

    def pack(self) -> str:
        """Items and containers an account holds into a container it holds (or, for the brand, a
        new one: its company prefix makes the SSCC)."""
        from supplytrace.core.ids import container_id, sscc_with_check_digit

        account = self.rng.choice([self.brand, *self.others])
        held = [x for x in self.items + self.boxes if self._holder(x) == account]
        boxes = [b for b in self.boxes if self._free(b) == account]
        if account == self.brand and (not boxes or self.rng.random() < 0.3):
            if not self.boxes:  # the first container: the brand's company prefix
                with contextlib.suppress(Exception):  # assigned already on this module's registry
                    self.registry.assignCompanyPrefix(9506000, 7, self.brand, sender=self.admin)
            sscc = int(sscc_with_check_digit(f"09506000{self.rng.randrange(10**9):09d}"))
            if int(self.registry.getContainer(container_id(sscc)).sscc) == 0:
                boxes.append(container_id(sscc))
                self.ssccs[container_id(sscc)] = sscc
        if not boxes:
            return "skip"
        box = self.rng.choice(boxes)
        contents = [x for x in held if x != box]
        if not contents:
            return "skip"
        chosen = self.rng.sample(contents, min(len(contents), self.rng.randint(1, 3)))
        self.registry.pack(self.ssccs[box], chosen, sender=account)
        if box not in self.boxes:
            self.boxes.append(box)
        return "pack"

    def unpack(self) -> str:
        """Some of what a container holds taken out by its holder."""
        full = [(b, a) for b in self.boxes if (a := self._free(b)) is not None]
        if not full:
            return "skip"
        box, account = self.rng.choice(full)
        inside = [
            x
            for x in self.items + self.boxes
            if bytes(
                (self.registry.getContainer(x) if x in self.boxes else self.registry.getItem(x)).container
            )
            == box
        ]
        if not inside:
            return "skip"
        chosen = self.rng.sample(inside, min(len(inside), self.rng.randint(1, 2)))
        self.registry.unpack(box, chosen, sender=account)
        return "unpack"

    OPERATIONS = (
        "register",
        "offer",
        "accept",
        "cancel",
        "reject",
        "record",
        "sell",
        "name",
        "describe",
        "recall",
        "pack",
        "unpack",
    )

    def step(self, choice: str | None = None) -> str:
        """One operation (``choice``, else a random one) if it can succeed now; returns its name
        ("skip" when it cannot)."""
        r = self.registry
        if choice is None:
            choice = self.rng.choice(self.OPERATIONS if self.items else ("register",))
        elif choice not in ("register", "name", "describe", "recall") and not self.items:
            choice = "register"
        if choice == "register":
            self.register(self.rng.randint(1, 4))
            return choice
        if choice == "pack":
            return self.pack()
        if choice == "unpack":
            return self.unpack()
        if choice == "name":
            r.nameBrand(self.brand, f"Brand {self.rng.randrange(100)}", sender=self.admin)
            return choice
        if choice == "describe":
            r.describeSelf(f"I am {self.rng.randrange(100)}", sender=self.rng.choice(self.others))
            return choice
        if choice == "recall":
            lot = self.rng.choice(self.lots)
            if not r.getLot(lot).recalledAt:
                r.recallLot(lot, f"reason {self.rng.randrange(100)}", sender=self.brand)
            return choice
        item = self.rng.choice(self.items + self.boxes)
        holder = self._holder(item)
        if holder is None:
            return "skip"
        pending = (r.getContainer(item) if item in self.boxes else r.getItem(item)).pendingReceiver
        open_offer = int(str(pending), 16) != 0
        if choice == "offer" and not open_offer:
            to = self.rng.choice([a for a in [self.brand, *self.others] if a != holder])
            r.offer(item, to, sender=holder)
        elif choice in ("accept", "reject") and open_offer:
            receiver = next(a for a in [self.brand, *self.others] if a.address == pending)
            (r.accept if choice == "accept" else r.rejectOffer)(item, sender=receiver)
        elif choice == "cancel" and open_offer:
            r.cancelOffer(item, sender=holder)
        elif choice == "record":
            r.record(item, encode_code(self.rng.choice(["inspecting", "storing", "receiving"]), "step"),
                     bytes([self.rng.randrange(256)]) * 32, sender=holder)  # fmt: skip
        elif choice == "sell" and not open_offer and item not in self.boxes:
            r.sell(item, sender=holder)
        else:
            return "skip"
        return choice


@pytest.fixture
def workload(
    registry: Any, admin: Any, brand: Any, distributor: Any, retailer: Any, lot_id: int, other_lot_id: int
):
    def _make(seed: int = 0) -> Workload:
        return Workload(
            registry, admin, brand, [distributor, retailer], [lot_id, other_lot_id], random.Random(seed)
        )

    return _make
