"""The item page after what the demo's story never does, on a world of this module's own: a
second brand with a 10,000-character verified name, whose items are held by an address that
never described itself and by one with a 10,000-character description, with lot details naming
its certificates; the brand's registration rights are then withdrawn. Each page is laid out in
Chromium at a phone's width from the HTML the page serves (its style is inline)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.rpc import Rpc
from supplytrace.core.config import load_settings
from supplytrace.core.ids import ItemKey
from supplytrace.core.records import REGISTRAR_ROLE
from supplytrace.service.registry import Registry
from supplytrace.web.views.common import NAME_LIMIT, short_address
from tests.web.conftest import BASE, WIDTH, TestClient, World, banner_of, text_of

GTIN = "09506000134376"
LOT = "OAK-2026-01"
LONG_NAME = "N" * 10_000  # no space: nothing but the page's own rules can wrap it
LONG_DESCRIPTION = "D" * 10_000
SHA = "0b7e2f4a6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f"
METADATA = {
    "product": "Oak honey, 250 g jar",
    "origin": {"country": "HU", "region": "Csongrád", "apiary": "Oak #1"},
    "harvestDate": "2026-06-01",
    "certificates": [
        {"name": "EU organic", "sha256": SHA, "url": "https://cert.example/HU-ORG-1"},
        {"name": "Lab report", "url": "javascript:alert(1)"},
    ],
}
REVOKED = "The brand's registration rights were withdrawn"


@dataclass(frozen=True)
class Changes:
    brand: Any
    unnamed: Any  # holds HELD (never described itself)
    described: Any  # holds LONG (described itself with 10,000 characters)

    @staticmethod
    def key(serial: str) -> ItemKey:
        return ItemKey.create(GTIN, serial, LOT)


@pytest.fixture(scope="module")
def changes(world: World, accounts: Any) -> Changes:
    def acting(n: int) -> Registry:
        service = Registry(Rpc(world.rpc_url), world.deployment, replace(load_settings(), home=world.home))
        return service.acting_as(ApeSigner(accounts[n]))

    admin, brand, unnamed, described = acting(0), acting(4), acting(5), acting(6)
    admin.add_brand(brand.account, name=LONG_NAME, gtins=[GTIN])
    described.describe(LONG_DESCRIPTION)
    brand.create_lot(GTIN, LOT, METADATA)
    brand.register_items(GTIN, LOT, ["HELD", "LONG", "OWN"])
    for holder, serial in ((unnamed, "HELD"), (described, "LONG")):
        brand.offer([Changes.key(serial).id], to=holder.account)
        holder.accept([Changes.key(serial).id])
    return Changes(accounts[4], accounts[5], accounts[6])


def _path(key: ItemKey) -> str:
    return key.digital_link(BASE)[len(BASE) :]


@pytest.fixture
def revoked(changes: Changes, world: World, accounts: Any) -> Changes:
    """The world once the admin revoked the second brand's REGISTRAR_ROLE (plain revokeRole)."""
    if world.registry.hasRole(REGISTRAR_ROLE, changes.brand):
        world.registry.revokeRole(REGISTRAR_ROLE, changes.brand, sender=accounts[0])
    return changes


def test_open_item__10000_character_verified_name_and_description__capped_and_page_small(
    changes: Changes, client: TestClient
) -> None:
    for serial in ("HELD", "LONG"):
        response = client.get(_path(changes.key(serial)))
        assert response.status_code == 200, serial
        assert len(response.content) < 40_000, serial
        longest = max(len(run.strip(".,;:()")) for run in text_of(response.text).split())
        assert longest <= NAME_LIMIT, serial  # neither the name nor the description runs on
        body = client.get(f"/api/items/{changes.key(serial).id_hex}").json()
        assert len(body["brand"]["label"]) == NAME_LIMIT and body["brand"]["verified"] is True
    custodian = client.get(f"/api/items/{changes.key('LONG').id_hex}").json()["custodian"]
    assert len(custodian["description"]) == NAME_LIMIT and custodian["verified"] is False


def test_open_item__holder_without_a_name__banner_names_its_short_address(
    changes: Changes, client: TestClient
) -> None:
    response = client.get(_path(changes.key("HELD")))
    status, banner = banner_of(response.text)
    assert status == "genuine"
    address = str(changes.unnamed.address)
    assert f"{short_address(address)} holds it now" in banner and address not in banner
    assert f'href="{BASE}/address/{address}"' in response.text  # the whole address a tap away


def test_open_item__named_certificates__name_fingerprint_and_only_web_links(
    changes: Changes, client: TestClient
) -> None:
    response = client.get(_path(changes.key("OWN")))
    page = text_of(response.text)
    assert "Origin Harvested in Csongrád, Hungary Apiary: Oak #1" in page
    assert "EU organic · Verify (at cert.example, the brand's link) Fingerprint 0b7e2f4a…7e9f" in page
    assert 'href="https://cert.example/HU-ORG-1" rel="nofollow noopener noreferrer"' in response.text
    assert "Lab report Link (not a web address, so not opened): javascript:alert(1)" in page
    assert 'href="javascript:' not in response.text


def test_open_items__phone_width__no_sideways_scrolling_whatever_the_names(
    changes: Changes, client: TestClient, world: World, phone: Any
) -> None:
    paths = [_path(changes.key(serial)) for serial in ("HELD", "LONG", "OWN")]
    genuine = world.key("genuine")
    paths += [f"/01/{genuine.gtin}/10/OTHER-LOT/21/{genuine.serial}", _path(world.key("sold"))]
    wide = {}
    for path in paths:
        phone.set_content(client.get(path).text)
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            wide[path] = width
    assert not wide


def test_open_item__brand_s_registrar_role_revoked__says_so_and_items_stay_on_record(
    revoked: Changes, client: TestClient, world: World
) -> None:
    response = client.get(_path(revoked.key("OWN")))
    assert response.status_code == 200
    assert banner_of(response.text)[0] == "genuine"  # an item registered before stays genuine
    page = text_of(response.text)
    assert f"{REVOKED}; items registered before, like this one, remain on record" in page
    body = client.get(f"/api/items/{revoked.key('OWN').id_hex}").json()
    assert body["brand_registrar"] is False
    assert any(REVOKED in warning for warning in body["warnings"])
    # A brand that keeps its rights is not said to have lost them.
    other = client.get(_path(world.key("genuine")))
    assert REVOKED not in text_of(other.text)
    assert client.get(f"/api/items/{world.key('genuine').id_hex}").json()["brand_registrar"] is True
    # An unknown code has no brand to speak of.
    assert client.get("/api/items/0x" + "ab" * 32).json()["brand_registrar"] is None


def test_open_lot__brand_s_registrar_role_revoked__says_so_beside_the_brand(
    revoked: Changes, client: TestClient, world: World
) -> None:
    lot_id = client.get(f"/api/items/{revoked.key('OWN').id_hex}").json()["lot_id"]
    response = client.get(f"/lot/{lot_id}")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "rights withdrawn" in page
    assert f"{REVOKED}; the items registered before remain on record" in page
    body = client.get(f"/api/lots/{lot_id}").json()
    assert body["brand_registrar"] is False
    assert any(REVOKED in warning for warning in body["warnings"])
    kept = client.get(f"/api/lots/{world.story.lot_id}").json()
    assert kept["brand_registrar"] is True and not any(REVOKED in w for w in kept["warnings"])
