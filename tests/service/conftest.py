"""Fixtures for the use cases: the indexer's (index databases on SQLite and PostgreSQL, indexers
and a workload on ape's anvil, raw hostile transactions); the page's world (the demo's story on
ape's anvil, tests/web/conftest.py) for the page's bootstrap (service/page.py); for the Registry
use cases, the module's registry (tests/conftest.py) as a deployment record and the
:class:`~supplytrace.service.registry.Registry` over it, reading through the package's JSON-RPC
client and writing as any ape test account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.history import ChainHistory
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc
from supplytrace.core.config import Settings, load_settings
from supplytrace.core.deployments import Deployment
from supplytrace.core.hashing import keccak
from supplytrace.indexer.history import IndexHistory
from supplytrace.indexer.reader import IndexReader
from supplytrace.service.registry import Registry
from supplytrace.web.lotdata import MetadataStore
from tests.indexer.conftest import (  # noqa: F401
    backend,
    chain_id,
    db_url,
    deployment_block,
    make_db,
    make_indexer,
    pg_server,
    rpc_url,
    send_raw,
    workload,
)
from tests.web.conftest import world  # noqa: F401

RESOLVER = "https://id.example.com"


@pytest.fixture(scope="module")
def deployment(registry, chain) -> Deployment:
    """The record `supplytrace deploy` would have written for the module's registry."""
    receipt = chain.provider.get_receipt(registry.txn_hash)
    code = bytes(chain.provider.get_code(registry.address))
    return Deployment(
        ecosystem="ethereum",
        network="local",
        chain_id=int(chain.chain_id),
        address=str(registry.address),
        tx_hash=str(registry.txn_hash),
        block=int(receipt.block_number),
        deployer=str(receipt.sender),
        admin=str(receipt.sender),
        compiler="solc (tests)",
        runtime_bytecode_keccak="0x" + keccak(code).hex(),
        deployed_at="2026-01-01T00:00:00Z",
    )


@pytest.fixture
def settings(tmp_path: Path, chain) -> Settings:
    """Settings whose home, deployments and devnet are this test's (the devnet URL is ape's node)."""
    port = int(str(chain.provider.http_uri).rsplit(":", 1)[1].strip("/"))
    return replace(
        load_settings(),
        home=tmp_path / "home",
        deployments=tmp_path / "deployments",
        devnet_host="127.0.0.1",
        devnet_port=port,
        resolver=RESOLVER,
    )


@pytest.fixture
def reader(rpc, deployment, settings) -> Registry:
    """The registry without an account: it reads only."""
    return Registry(rpc, deployment, settings)


@pytest.fixture
def as_(reader) -> Callable[[Any], Registry]:
    """as_(account) -> the registry writing as the ape test ``account``."""
    return lambda account: reader.acting_as(ApeSigner(account))


def nonce(rpc: Any, account: Any) -> int:
    return int(rpc.request("eth_getTransactionCount", [str(account.address), "latest"]), 16)


@pytest.fixture
def sources(make_indexer, db_url, rpc_url, registry, deployment_block):  # noqa: F811 (fixtures)
    """(index history, chain history, registry reads) once the test's chain is built."""

    def _make(confirmations: int = 0):
        indexer = make_indexer(db_url, confirmations=confirmations)
        indexer.catch_up()
        chain = ChainHistory(Rpc(rpc_url), str(registry.address), deployment_block)
        index = IndexHistory(IndexReader(indexer.store.engine, indexer.store.chain_id), chain)
        return index, chain, RegistryReads(Rpc(rpc_url), str(registry.address))

    return _make


@dataclass(frozen=True)
class DemoChain:
    """The demo's story and blend told on a registry of their own: its chain history, its reads,
    the metadata the demo stored, and the registry's address and chain id."""

    history: ChainHistory
    reads: RegistryReads
    store: MetadataStore
    registry: str
    chain_id: int


@pytest.fixture(scope="module")
def demo_chain(project, accounts, chain, tmp_path_factory) -> DemoChain:
    """What `make demo` tells (brand, distributor, retailer, sale, recall, blend, pallet), through
    the Registry service on a fresh deployment, for the exports' acceptance tests."""
    from supplytrace.demo import tell_lineage, tell_story
    from tests.web.conftest import deployment_of

    admin = accounts[0]
    contract = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    start = int(chain.blocks.head.number)
    rpc = Rpc(str(chain.provider.http_uri))
    settings = replace(load_settings(), home=tmp_path_factory.mktemp("demo") / "home")
    service = Registry(rpc, deployment_of(contract, chain, admin, start), settings)
    cast = tuple(service.acting_as(ApeSigner(accounts[n])) for n in range(4))
    tell_lineage(tell_story(cast, lambda _line: None), cast, lambda _line: None)
    address = str(contract.address)
    return DemoChain(
        ChainHistory(rpc, address, start),
        RegistryReads(rpc, address),
        MetadataStore(settings.metadata_folder),
        address,
        int(chain.chain_id),
    )
