"""supplytrace.service.page.build_page: the page `supplytrace serve` runs, put together from the
deployment record, checked against the node, with the history open_history chooses; a record
that does not fit the node is refused in one sentence."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from supplytrace.core.config import Settings
from supplytrace.core.deployments import DeploymentError, save
from supplytrace.core.errors import ChainError
from supplytrace.core.networks import DEVNET_NETWORK
from supplytrace.service.page import build_page
from supplytrace.web.resolver_links import ResolverLinksError
from tests.web.conftest import BASE, ROOT, TestClient, World, banner_of, free_port


def _settings(world: World, tmp_path: Path) -> Settings:
    return Settings(
        home=world.home,  # the demo's lot metadata is there
        deployments=tmp_path / "deployments",
        devnet_host="127.0.0.1",
        devnet_port=free_port(),
        devnet_chain_id=world.chain_id,
        resolver=BASE,
        project=ROOT,
        rpc_timeout=10.0,
    )


def test_build_page__recorded_deployment__app_reads_the_chain_and_says_where_history_comes_from(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPLYTRACE_INDEX_DB", raising=False)
    settings = _settings(world, tmp_path)
    save(settings.deployments, world.deployment)
    app, note = build_page(settings, DEVNET_NETWORK, world.rpc_url)
    assert note.startswith("history: the chain's logs ("), note
    with TestClient(app, base_url=BASE) as client:
        for item in world.story.items:
            response = client.get(item.key.digital_link(BASE)[len(BASE) :])
            assert response.status_code == (404 if item.case == "unknown" else 200), item.case
            assert banner_of(response.text)[0] == item.expected_status
        body = client.get(f"/api/items/{world.key('genuine').id_hex}").json()
        assert body["lot"]["state"] == "verified" and body["timeline"]
        assert body["registry"] == {
            "address": world.registry.address,
            "url": f"{BASE}/address/{world.registry.address}",
            "chain_id": world.chain_id,
            "network": "local test network",
            "source": "The registry's source has not been checked.",  # no verify-deployment yet
        }


def test_build_page__no_deployment_recorded__says_to_deploy_first(world: World, tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="no deployment is recorded for ethereum:local"):
        build_page(_settings(world, tmp_path), DEVNET_NETWORK, world.rpc_url)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": 1}, "but the registry for ethereum-local was deployed on chain 1"),
        ({"address": "0x" + "00" * 19 + "01"}, "the chain was reset"),
        ({"runtime_bytecode_keccak": "0x" + "ab" * 32}, "the record belongs to another deployment"),
    ],
    ids=["another chain", "no code at the address", "other code at the address"],
)
def test_build_page__record_does_not_fit_the_node__refused_in_one_sentence(
    world: World, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    settings = _settings(world, tmp_path)
    save(settings.deployments, dataclasses.replace(world.deployment, **change))  # type: ignore[arg-type]
    with pytest.raises(DeploymentError, match=message):
        build_page(settings, DEVNET_NETWORK, world.rpc_url)


def test_build_page__node_unreachable__chain_error(world: World, tmp_path: Path) -> None:
    settings = _settings(world, tmp_path)
    save(settings.deployments, world.deployment)
    with pytest.raises(ChainError, match="cannot reach the node"):
        build_page(settings, DEVNET_NETWORK, f"http://127.0.0.1:{free_port()}")


def test_build_page__resolver_links_file__links_served_and_a_bad_file_refused_first(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPLYTRACE_INDEX_DB", raising=False)
    links = tmp_path / "links.json"
    entry = {"gtin": world.key("genuine").gtin, "type": "gs1:certificationInfo", "title": "Certificate"}
    links.write_text(json.dumps({"links": [{**entry, "href": "https://brand.example/cert"}]}))
    settings = dataclasses.replace(_settings(world, tmp_path), resolver_links=links)
    save(settings.deployments, world.deployment)
    app, _note = build_page(settings, DEVNET_NETWORK, world.rpc_url)
    key = world.key("genuine")
    with TestClient(app, base_url=BASE) as client:
        answer = client.get(
            f"/01/{key.gtin}/21/{key.serial}?linkType=gs1:certificationInfo", follow_redirects=False
        )
        assert (answer.status_code, answer.headers["location"]) == (307, "https://brand.example/cert")
    links.write_text(json.dumps({"links": [{**entry, "href": "file:///etc/passwd"}]}))
    with pytest.raises(
        ResolverLinksError, match=r"link 1: href 'file:///etc/passwd' must be an http:// or https://"
    ):
        build_page(settings, DEVNET_NETWORK, world.rpc_url)
