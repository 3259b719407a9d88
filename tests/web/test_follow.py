"""A running page follows its network's deployment record (issue #11: after a redeploy, the
README walk-through after `make demo`, the page still read the old registry and called the new
labels "likely counterfeit")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from supplytrace.core.config import load_settings
from supplytrace.core.deployments import EXACT_MATCH, Deployment, SourceCheck, save, with_source_check
from supplytrace.core.hashing import keccak
from supplytrace.core.ids import ItemKey, encode_code
from supplytrace.demo import HONEY_GTIN
from supplytrace.service.page import build_page
from supplytrace.web import follow
from tests.web.conftest import TestClient, World, banner_of, deployment_of, text_of


def _deploy(project: Any, chain: Any, admin: Any, brand: Any, serial: str) -> tuple[Deployment, ItemKey]:
    """A second registry on the same chain, with one item registered by ``brand``."""
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    block = int(chain.blocks.head.number)
    registry.grantRole(registry.REGISTRAR_ROLE(), brand, sender=admin)
    registry.assignGtin(int(HONEY_GTIN), brand, sender=admin)
    registry.registerLot(int(HONEY_GTIN), encode_code("LOT-NEW", "lot"), keccak(b"new"), sender=brand)
    registry.registerItems(int(registry.lotCount()), [encode_code(serial)], sender=brand)
    record = deployment_of(registry, chain, admin, block)
    return record, ItemKey.create(HONEY_GTIN, serial, "LOT-NEW")


def test_serve__redeployed_registry__next_request_reads_the_new_one_and_a_bad_record_is_said_stale(
    world: World, project: Any, chain: Any, accounts: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "LOOK_EVERY", 0.0)
    settings = replace(load_settings(), home=world.home, deployments=tmp_path / "deployments")
    save(settings.deployments, world.deployment, force=True)
    app, _note = build_page(settings, "ethereum:local", world.rpc_url)
    old_item = world.key("genuine")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert banner_of(client.get(f"/item/{old_item.id_hex}").text)[0] == "genuine"

        record, new_item = _deploy(project, chain, accounts[0], accounts[1], "NEW-0001")
        save(settings.deployments, record, force=True)
        fresh = client.get(new_item.digital_link("http://testserver")[len("http://testserver") :])
        assert fresh.status_code == 200
        assert banner_of(fresh.text)[0] == "genuine"
        assert record.address in fresh.text  # the footer names the registry read
        assert client.get(f"/item/{old_item.id_hex}").status_code == 404  # not in the new registry

        save(settings.deployments, replace(record, address="0x" + "12" * 20), force=True)
        stale = client.get(f"/item/{new_item.id_hex}")
        assert stale.status_code == 200 and banner_of(stale.text)[0] == "genuine"
        page = text_of(stale.text)
        assert "The deployment record for this network has changed, but this page cannot read" in page
        assert f"It still shows the registry at {record.address}" in page


def test_serve__source_check_recorded_for_the_same_registry__next_request_says_it(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "LOOK_EVERY", 0.0)
    settings = replace(load_settings(), home=world.home, deployments=tmp_path / "deployments")
    save(settings.deployments, world.deployment, force=True)
    app, _note = build_page(settings, "ethereum:local", world.rpc_url)
    item = world.key("genuine")
    with TestClient(app, raise_server_exceptions=False) as client:
        before = text_of(client.get(f"/item/{item.id_hex}").text)
        assert "The registry's source has not been checked." in before
        check = SourceCheck(EXACT_MATCH, EXACT_MATCH, "2026-12-01T08:00:00Z", None, "0.8.37+commit.f401782d")
        with_source_check(settings.deployments, world.deployment, check)
        page = text_of(client.get(f"/item/{item.id_hex}").text)
        sentence = (
            "The registry's code matches its published source exactly, "
            "metadata included (checked 2026-12-01)."
        )
        assert sentence in page
        assert "has changed" not in page  # the same registry: not stale
