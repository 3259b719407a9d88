"""The JSON API and its OpenAPI description."""

from __future__ import annotations

from supplytrace.demo import HONEY_GTIN, LOT_CODE, RECALL_REASON
from tests.web.conftest import BASE, TestClient, World


def test_get_api_item__each_demo_case__status_and_facts_match_the_page(
    client: TestClient, world: World
) -> None:
    for item in world.story.items:
        response = client.get(f"/api/items/{item.key.id_hex}")
        assert response.status_code == (404 if item.case == "unknown" else 200), item.case
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["status"] == item.expected_status, item.case
        assert body["banner"]["status"] == item.expected_status
        assert body["item_id"] == item.key.id_hex
        assert body["registry"]["address"] == world.registry.address


def test_get_api_item__genuine__timeline_lot_and_derivation(client: TestClient, world: World) -> None:
    key = world.key("genuine")
    body = client.get(f"/api/items/{key.id_hex}").json()
    assert (body["gtin"], body["serial"], body["lot_code"]) == (HONEY_GTIN, "JAR00002", LOT_CODE)
    assert body["digital_link"] == key.digital_link(BASE)
    assert body["brand"]["verified"] is True and body["brand"]["label"] == "Hillside Apiaries"
    assert body["custodian"]["verified"] is False
    assert body["lot"]["state"] == "verified"
    assert body["lot"]["document"]["harvestDate"] == "2026-07-14"
    assert [row["event"] for row in body["timeline"]] == [
        "LotRegistered",
        "ItemRegistered",
        "CustodyOffered",
        "CustodyTransferred",
        "CustodyTransferred",
        "ItemObserved",
    ]
    assert all(row["tx_url"].startswith(f"{BASE}/tx/0x") for row in body["timeline"])
    assert body["derivation"]["item_id"] == key.id_hex and body["derivation"]["matches"] is True
    assert body["index"]["source"] == "chain" and body["index"]["lag_blocks"] == 0
    assert body["warnings"] == []


def test_get_api_item__recalled__reason_and_time(client: TestClient, world: World) -> None:
    body = client.get(f"/api/items/{world.key('recalled').id_hex}").json()
    assert body["recalled"] is True and body["recall_reason"] == RECALL_REASON
    assert body["recalled_at"] == int(world.registry.getItem(world.key("recalled").id).recalledAt)


def test_get_api_item__malformed_id__400_json(client: TestClient) -> None:
    response = client.get("/api/items/0x12")
    assert response.status_code == 400
    assert response.json() == {
        "error": "This is not an item id",
        "detail": response.json()["detail"],
    }


def test_get_api_lot__recalled_lot__json_and_unknown_404(client: TestClient, world: World) -> None:
    body = client.get(f"/api/lots/{world.story.recalled_lot_id}").json()
    assert body["recalled"] is True and body["recall_reason"] == RECALL_REASON
    assert {item["status"] for item in body["items"]} == {"recalled"}
    missing = client.get("/api/lots/999")
    assert missing.status_code == 404 and missing.json()["error"] == "No such lot"


def test_resolve_digital_link__json_accept_header__same_data_as_api(client: TestClient, world: World) -> None:
    key = world.key("sold")
    response = client.get(key.digital_link(BASE)[len(BASE) :], headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["status"] == "sold"


def test_get_openapi__description__lists_the_api_with_schemas(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/items/{item_id}", "/api/lots/{lot_id}", "/api/containers/{sscc}"}
    item = spec["paths"]["/api/items/{item_id}"]["get"]
    assert item["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemView"
    }
    assert "404" in item["responses"]
    status = spec["components"]["schemas"]["ItemView"]["properties"]["status"]
    assert set(status["enum"]) == {"genuine", "sold", "claimed", "recalled", "unknown", "wrong-lot"}
    item_status = spec["components"]["schemas"]["ItemView"]["properties"]["item_status"]
    assert set(item_status["enum"]) == {"genuine", "sold", "claimed", "recalled", "unknown"}


def test_get_healthz__running__reports_the_chain_head(client: TestClient, world: World, chain) -> None:
    body = client.get("/healthz").json()
    assert body == {"ok": True, "registry": world.registry.address, "head": int(chain.blocks.head.number)}


def test_resolve_digital_link__json_and_html__never_cached_and_vary_on_accept(
    client: TestClient, world: World
) -> None:
    uri = world.key("genuine").digital_link(BASE).removeprefix(BASE)
    answer = client.get(uri, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "no-store"
    assert "accept" in answer.headers["vary"].lower()
    assert answer.headers["x-content-type-options"] == "nosniff"
    page = client.get(uri, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "accept" in page.headers["vary"].lower()


def test_get_lot__number_of_5000_digits__400_not_500(client: TestClient) -> None:
    digits = "9" * 5000
    for path in (f"/lot/{digits}", f"/api/lots/{digits}"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.headers["x-content-type-options"] == "nosniff"
