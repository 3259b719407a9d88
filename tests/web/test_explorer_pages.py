"""The lot page and the devnet's stand-in for a block explorer (/tx, /address)."""

from __future__ import annotations

import re

from supplytrace.demo import BRAND_NAME, RECALL_REASON, RECALLED_JARS, RETAILER_DESCRIPTION
from tests.web.conftest import BASE, TestClient, World, banner_of, text_of


def test_open_lot__recalled_lot__reason_items_and_their_status(client: TestClient, world: World) -> None:
    response = client.get(f"/lot/{world.story.recalled_lot_id}")
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "recalled"
    assert RECALL_REASON in banner
    page = text_of(response.text)
    assert f"Items {RECALLED_JARS}" in page
    assert page.count(": recalled") == RECALLED_JARS
    assert "These details match the fingerprint" in page


def test_open_lot__active_lot__not_recalled_and_sold_jar_listed_as_sold(
    client: TestClient, world: World
) -> None:
    response = client.get(f"/lot/{world.story.lot_id}")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "not recalled" in page
    assert "JAR00001 : sold" in page and "JAR00002 : genuine" in page


def test_open_lot__unknown_or_malformed_number__404_or_400(client: TestClient) -> None:
    assert client.get("/lot/999").status_code == 404
    assert "No such lot" in text_of(client.get("/lot/999").text)
    for bad in ("0", "abc", "-1", "99999999999"):
        response = client.get(f"/lot/{bad}")
        assert response.status_code == 400, bad
        assert "This is not a lot number" in text_of(response.text), bad


def test_open_tx__sale_from_the_item_page__shows_who_sold_which_item(
    client: TestClient, world: World
) -> None:
    item_page = client.get(world.key("sold").digital_link(BASE)[len(BASE) :]).text
    sale = re.findall(rf'href="{BASE}(/tx/0x[0-9a-f]{{64}})"', item_page)[-1]
    response = client.get(sale)
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Result succeeded" in page
    assert f"{RETAILER_DESCRIPTION} unverified sold it to a customer" in page
    assert f'href="/item/{world.key("sold").id_hex}"' in response.text
    assert "the registry contract" in page


def test_open_tx__batch_registration__one_line_per_item(client: TestClient, world: World) -> None:
    history = world.history().item_history(world.key("genuine").id)
    registration = next(e for e in history if e.name == "ItemRegistered").tx_hash
    page = text_of(client.get(f"/tx/{registration}").text)
    assert page.count("registered this item") == 24


def test_open_tx__malformed_or_unknown_hash__400_or_404(client: TestClient) -> None:
    assert client.get("/tx/0x1234").status_code == 400
    missing = client.get("/tx/0x" + "00" * 32)
    assert missing.status_code == 404
    assert "No such transaction" in text_of(missing.text)


def test_open_address__registry__code_matches_the_deployment_record(client: TestClient, world: World) -> None:
    response = client.get(f"/address/{world.registry.address}")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Registry contract" in page
    assert "What it is The supplytrace provenance registry" in page
    assert "Code matches the recorded deployment" in page


def test_open_address__participants__verified_name_or_unverified_description(
    client: TestClient, world: World
) -> None:
    beekeeper, retailer = list(world.story.names)[1], list(world.story.names)[3]
    brand_page = text_of(client.get(f"/address/{beekeeper.lower()}").text)
    assert f"Verified name {BRAND_NAME}" in brand_page
    assert "Brand yes: may register products" in brand_page
    shop_page = text_of(client.get(f"/address/{retailer}").text)
    assert "Verified name none" in shop_page
    assert f"Says about itself {RETAILER_DESCRIPTION} unverified" in shop_page
    assert "Brand no" in shop_page
    assert client.get("/address/0x1234").status_code == 400


def test_open_lot__recalled_lot__never_says_it_is_open_for_new_items(
    client: TestClient, world: World
) -> None:
    recalled = text_of(client.get(f"/lot/{world.story.recalled_lot_id}").text)
    assert "Open for new items no (recalled)" in recalled
    active = text_of(client.get(f"/lot/{world.story.lot_id}").text)
    assert "Open for new items yes" in active


def test_open_address__self_described_participant__description_never_the_heading(
    client: TestClient, world: World
) -> None:
    beekeeper, retailer = list(world.story.names)[1], list(world.story.names)[3]
    shop = client.get(f"/address/{retailer}").text
    heading = re.search(r"<h1>(.*?)</h1>", shop, re.S)
    assert heading is not None and heading.group(1).strip() == "Address (no verified name)"
    assert RETAILER_DESCRIPTION not in heading.group(1)
    brand = client.get(f"/address/{beekeeper}").text
    brand_heading = re.search(r"<h1>(.*?)</h1>", brand, re.S)
    assert brand_heading is not None and BRAND_NAME in brand_heading.group(1)
    assert "verified" in brand_heading.group(1)
