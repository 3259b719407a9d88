"""Shared fixtures: a fresh ProvenanceRegistry on anvil (ape-foundry) and the cast of a supply chain.

Run through ``ape test`` (the Makefile does), which starts anvil and provides ``accounts``,
``project``, ``chain`` and ``networks`` fixtures. Each test runs in an anvil snapshot that ape
reverts afterwards (function-scoped isolation), so module-scoped deployments are cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from supplytrace.handoff import make_request
from supplytrace.ids import encode_code, item_id

HONEY_GTIN = "09506000134352"  # GS1's documentation GTIN, check digit verified
OTHER_GTIN = "09506000134369"
LOT_CODE = "HONEY-2026-A"
METADATA_HASH = b"\x11" * 32


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def brand(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def distributor(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def retailer(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def rogue(accounts):
    """A second registrar that tries to act on the first brand's goods."""
    return accounts[4]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def registry(project, admin):
    return project.ProvenanceRegistry.deploy(admin, 0, sender=admin)


@pytest.fixture(scope="module")
def registrar_role(registry):
    return registry.REGISTRAR_ROLE()


@pytest.fixture(scope="module")
def setup_brand(registry, registrar_role, admin, brand, rogue):
    """brand owns HONEY_GTIN; rogue is a registrar too and owns OTHER_GTIN."""
    registry.grantRole(registrar_role, brand, sender=admin)
    registry.grantRole(registrar_role, rogue, sender=admin)
    registry.assignGtin(int(HONEY_GTIN), brand, sender=admin)
    registry.assignGtin(int(OTHER_GTIN), rogue, sender=admin)
    return brand


@pytest.fixture(scope="module")
def lot_id(registry, setup_brand, brand):
    registry.registerLot(int(HONEY_GTIN), encode_code(LOT_CODE, "lot code"), METADATA_HASH, sender=brand)
    return registry.lotCount()


@pytest.fixture(scope="module")
def register(registry, lot_id, brand) -> Callable[..., list[bytes]]:
    """register(*serials) -> item ids, registered by the brand into the honey lot."""

    def _register(*serials: str, lot: int | None = None, sender=None) -> list[bytes]:
        registry.registerItems(
            lot or lot_id, [encode_code(s) for s in serials], sender=sender or brand
        )
        return [item_id(HONEY_GTIN, s) for s in serials]

    return _register


@pytest.fixture(scope="module")
def sign_handoff(registry, chain) -> Callable[..., bytes]:
    """sign_handoff(signer, items, sender, receiver, deadline, nonces=None) -> 65-byte signature."""

    def _sign(signer, items: Sequence[bytes], sender, receiver, deadline: int, nonces=None) -> bytes:
        if nonces is None:
            nonces = [registry.getItem(i).custodyNonce for i in items]
        request = make_request(
            chain_id=chain.chain_id,
            registry=registry.address,
            items=list(items),
            nonces=list(nonces),
            sender=str(sender),
            receiver=str(receiver),
            deadline=deadline,
        )
        signature = signer.sign_message(request.signable())
        return signature.encode_rsv()

    return _sign
