"""Blends on the page (issue #14): an item of a blended lot shows the origin label EU Directive
2024/1438 asks for, its lot page what it was made from and its quantity; a recall of one harvest
reaches every item of two levels of blends (harvest -> blend A -> blend B), on the item pages
(red banner, "Recalled because ingredient lot X (GTIN …, lot …) was recalled: <reason>",
escaped), the lot pages and the JSON, read from the chain's logs or from an index."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from supplytrace.core.ids import encode_code, item_id
from supplytrace.core.metadata import metadata_hash, store_metadata
from supplytrace.core.records import QuantityUnit
from supplytrace.demo import HONEY_GTIN
from tests.web.conftest import TestClient, World, banner_of, text_of

GRAM = int(QuantityUnit.GRAM)
REASON = "antibiotic residue <b>found</b> & confirmed"


@dataclass(frozen=True)
class Blends:
    harvests: dict[str, int]  # country -> lot id
    blend_a: int
    blend_b: int
    items_a: list[bytes]
    items_b: list[bytes]


def _lot(world: World, brand: Any, code: str, metadata: dict[str, Any]) -> tuple[bytes, bytes]:
    store_metadata(world.home, metadata)
    return encode_code(code, "lot"), metadata_hash(metadata)


@pytest.fixture(scope="module")
def blends(world: World, accounts: Any) -> Blends:
    """Harvests of Romania, Bulgaria and Hungary (10 kg each); blend A = RO 620 g + BG 380 g
    (1 kg, 250 g jars, two registered); blend B = A 500 g + HU 500 g (two jars)."""
    brand, gtin = accounts[1], int(HONEY_GTIN)
    registry = world.registry
    harvests = {}
    for country in ("RO", "BG", "HU"):
        code, digest = _lot(
            world, brand, f"H-{country}", {"product": "Honey", "origin": {"country": country}}
        )
        registry.registerMeasuredLot(gtin, code, digest, 10_000, 500, GRAM, sender=brand)
        harvests[country] = int(registry.lotCount())
    code, digest = _lot(world, brand, "BLEND-A", {"product": "Blended honey"})
    ro_bg = [harvests["RO"], harvests["BG"]]
    registry.registerTransformedLot(gtin, code, digest, ro_bg, [620, 380], 1_000, 250, sender=brand)
    blend_a = int(registry.lotCount())
    registry.registerItems(blend_a, [encode_code("A1"), encode_code("A2")], sender=brand)
    code, digest = _lot(world, brand, "BLEND-B", {"product": "Blended honey, second level"})
    a_hu = [blend_a, harvests["HU"]]
    registry.registerTransformedLot(gtin, code, digest, a_hu, [500, 500], 1_000, 250, sender=brand)
    blend_b = int(registry.lotCount())
    registry.registerItems(blend_b, [encode_code("B1"), encode_code("B2")], sender=brand)
    return Blends(
        harvests,
        blend_a,
        blend_b,
        [item_id(HONEY_GTIN, s) for s in ("A1", "A2")],
        [item_id(HONEY_GTIN, s) for s in ("B1", "B2")],
    )


def _item(client: TestClient, item: bytes) -> str:
    page = client.get(f"/item/0x{item.hex()}")
    assert page.status_code == 200, page.text
    return page.text


def test_item_page__item_of_a_blend__shows_the_directive_origin_label(
    client: TestClient, blends: Blends
) -> None:
    page_a = _item(client, blends.items_a[0])
    page_b = _item(client, blends.items_b[0])

    assert "Blend of honey from Romania (62 %), Bulgaria (38 %)" in text_of(page_a)
    # B: HU 1/2, and A's half split 62/38: RO 31 %, BG 19 %.
    assert "Blend of honey from Hungary (50 %), Romania (31 %), Bulgaria (19 %)" in text_of(page_b)
    assert banner_of(page_a)[0] == banner_of(page_b)[0] == "genuine"
    assert "Blended from lot BLEND-A (500 g), lot H-HU (500 g)" in text_of(page_b)  # its journey
    body = client.get(f"/api/items/0x{blends.items_b[0].hex()}").json()
    assert body["lineage"]["origin_label"].startswith("Blend of honey from Hungary (50 %)")
    assert body["status"] == "genuine" and body["lineage"]["recalls"] == []


def test_lot_page__blend__lists_its_inputs_with_quantities_and_its_stock(
    client: TestClient, blends: Blends
) -> None:
    page = client.get(f"/lot/{blends.blend_b}")
    text = text_of(page.text).replace(" :", ":")

    assert page.status_code == 200
    assert "Blend of honey from Hungary (50 %), Romania (31 %), Bulgaria (19 %)" in text
    assert (
        f'href="/lot/{blends.blend_a}"' in page.text and f'href="/lot/{blends.harvests["HU"]}"' in page.text
    )
    assert f"lot {blends.blend_a} (BLEND-A): 500 g" in text and "(H-HU): 500 g" in text
    assert "1,000 g declared, 500 g left, 250 g in each item" in text
    body = client.get(f"/api/lots/{blends.blend_a}").json()
    assert [(i["lot_id"], i["quantity"], i["unit"]) for i in body["lineage"]["made_from"]] == [
        (blends.harvests["RO"], 620, "gram"),
        (blends.harvests["BG"], 380, "gram"),
    ]
    assert body["stock"] == 0 and body["unit"] == "gram"  # 2 jars and B's 500 g drew all of it


def test_lot_page__harvest__no_lineage_and_its_stock(client: TestClient, blends: Blends) -> None:
    body = client.get(f"/api/lots/{blends.harvests['RO']}").json()

    assert body["lineage"] is None and body["recalled_through"] is None
    assert body["quantity"] == "10,000 g declared, 9,380 g left, 500 g in each item"


def _assert_recalled_everywhere(client: TestClient, blends: Blends, ro: int) -> None:
    sentence = f"Recalled because ingredient lot {ro} (GTIN {HONEY_GTIN}, lot H-RO) was recalled: {REASON}"
    for item in blends.items_a + blends.items_b:
        page = _item(client, item)
        status, banner = banner_of(page)
        assert status == "recalled", f"0x{item.hex()}"
        assert sentence in banner
        assert html.escape(REASON, quote=False) in page and "<b>found</b>" not in page
        body = client.get(f"/api/items/0x{item.hex()}").json()
        assert body["status"] == body["item_status"] == "recalled" and body["recalled"] is True
        assert body["lineage"]["recalls"][0]["lot_id"] == ro
        assert "claim" not in body
    for lot in (blends.blend_a, blends.blend_b):
        page = client.get(f"/lot/{lot}")
        assert 'data-status="recalled"' in page.text and sentence in text_of(page.text)
        items = client.get(f"/api/lots/{lot}").json()["items"]
        assert [i["status"] for i in items] == ["recalled", "recalled"]
    path = client.get(f"/api/items/0x{blends.items_b[0].hex()}").json()["lineage"]["recalls"][0]["path"]
    assert path == [blends.blend_b, blends.blend_a, ro]


def test_item_page__harvest_recalled__every_item_of_both_blend_levels_recalled(
    client: TestClient, blends: Blends, world: World, accounts: Any
) -> None:
    ro = blends.harvests["RO"]
    world.registry.recallLot(ro, REASON, sender=accounts[1])

    _assert_recalled_everywhere(client, blends, ro)
    hu = client.get(f"/api/lots/{blends.harvests['HU']}").json()
    assert hu["recalled"] is False and hu["recalled_through"] is None  # a recall reaches down only


def test_item_page__harvest_recalled__same_from_the_index(
    make_client: Callable[..., TestClient],
    blends: Blends,
    world: World,
    accounts: Any,
    build_index: Callable[..., str],
) -> None:
    ro = blends.harvests["RO"]
    world.registry.recallLot(ro, REASON, sender=accounts[1])
    source, _why = world.served(build_index())

    _assert_recalled_everywhere(make_client(source), blends, ro)


def test_item_page__recall_not_indexed_yet__recalled_live_with_the_reason_pending(
    make_client: Callable[..., TestClient],
    blends: Blends,
    world: World,
    accounts: Any,
    build_index: Callable[..., str],
) -> None:
    from tests.web.conftest import StaleIndex, head_block

    source = StaleIndex(world.history(), head_block(world))
    world.registry.recallLot(blends.harvests["RO"], REASON, sender=accounts[1])

    page = _item(make_client(source), blends.items_b[1])

    status, banner = banner_of(page)
    assert status == "recalled"
    assert "was recalled (its reason is not in the history index yet)" in banner


def test_item_page__history_unavailable__says_a_blends_ingredient_recalls_cannot_be_checked(
    make_client: Callable[..., TestClient], blends: Blends, world: World
) -> None:
    from supplytrace.web.views.item import LINEAGE_UNCHECKED
    from tests.web.conftest import BrokenIndex

    client = make_client(BrokenIndex(world.history()))

    blended = client.get(f"/api/items/0x{blends.items_b[0].hex()}").json()
    plain = client.get(f"/api/items/{world.key('genuine').id_hex}").json()

    assert blended["status"] == "genuine" and LINEAGE_UNCHECKED in blended["warnings"]
    assert LINEAGE_UNCHECKED not in plain["warnings"]  # a lot that declared no quantity is no blend


def test_render_blend_pages_recalled__structure__accessible(
    client: TestClient, blends: Blends, world: World, accounts: Any
) -> None:
    from tests.web.test_accessible_html import assert_accessible

    world.registry.recallLot(blends.harvests["RO"], REASON, sender=accounts[1])

    for name, path in {
        "blend item": f"/item/0x{blends.items_b[0].hex()}",
        "blend lot": f"/lot/{blends.blend_b}",
        "harvest lot": f"/lot/{blends.harvests['RO']}",
    }.items():
        assert_accessible(name, client.get(path).text)


@pytest.mark.parametrize(
    ("lang", "label", "amount"),
    [
        ("ro", "Amestec de miere din Ungaria (50 %), România (31 %), Bulgaria (19 %)", "500 g"),
        (
            "zh-CN",
            "混合蜂蜜\uff0c产自匈牙利 (50 %), 罗马尼亚 (31 %), 保加利亚 (19 %)",
            "500 克",
        ),  # \uff0c: the full-width comma
    ],
)
def test_blend_pages__romanian_or_chinese_reader__origin_label_and_amounts_in_that_language(
    client: TestClient, blends: Blends, lang: str, label: str, amount: str
) -> None:
    item = client.get(f"/item/0x{blends.items_b[0].hex()}?lang={lang}")
    assert item.status_code == 200 and label in text_of(item.text)
    lot = text_of(client.get(f"/lot/{blends.blend_b}?lang={lang}").text)
    assert label in lot and re.search(r"BLEND-A\W+" + amount, lot)  # made from: its amount
    body = client.get(f"/api/items/0x{blends.items_b[0].hex()}?lang={lang}").json()
    assert body["lineage"]["origin_label"].startswith("Blend of honey from Hungary (50 %)")  # JSON: English
