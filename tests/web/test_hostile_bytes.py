"""Hostile chain bytes: a registry deployed before the hardening of issue #11 takes any bytes as a
serial, a lot code or a business step (as long as they fit the word) and an empty brand name, and
every registry takes any string as a self-description, a brand name or a recall reason, so a
registrar or any address can put on chain what breaks a naive page. Each case is sent to such a
registry as it is (``tests.conftest.legacy_registry``: its deployments hold these bytes for good),
and the page, on the chain's logs and on the event index alike, answers with the right live
status, renders every string visibly and safely (no NUL, no escape sequence, no bidirectional
override reaches the HTML or the JSON), and never calls a self-description verified."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from supplytrace.core.ids import item_id_of
from supplytrace.demo import BRAND_NAME, HONEY_GTIN
from tests.conftest import legacy_registry
from tests.web.conftest import BASE, TestClient, World, banner_of, tell_world, text_of

HOSTILE_LOT = b"\xc3\x28"  # not UTF-8
NUL_SERIAL, PLAIN_SERIAL = b"A\x00B", b"A"
STEP_SERIAL = b"STEP-0001"
ODD_LOT_SERIAL = b"ODD-LOT-1"
ALL_FF = b"\xff" * 32
HOSTILE_DESCRIPTION = "Corner\x00Grocery\x1b[2J\u202eevil"
SHOWN_DESCRIPTION = "Corner\u2400Grocery\u241b[2Jevil"  # NUL and ESC made visible, U+202E dropped
FORBIDDEN = ("\x00", "\x1b", "\u202e")
ALL_FF_SHOWN = "\ufffd" * 32  # each byte that is not UTF-8 shown as U+FFFD


def _word(raw: bytes) -> bytes:
    return raw.ljust(32, b"\0")


def _id(serial: bytes) -> bytes:
    return item_id_of(HONEY_GTIN, serial.decode("latin-1"))


@dataclass(frozen=True)
class Hostile:
    lot_id: int  # the lot with code c3 28, holding the item ODD-LOT-1
    beekeeper: Any
    admin: Any
    retailer: Any


@pytest.fixture(scope="module")
def world(accounts, chain, tmp_path_factory) -> World:
    """The demo's supply chain on a registry of the code before issue #11 (for this module, the
    page's fixtures read this one)."""
    return tell_world(legacy_registry(), accounts, chain, tmp_path_factory)


@pytest.fixture(scope="module")
def hostile(world: World, accounts) -> Hostile:
    """The demo's world plus: a lot whose code is c3 28 with the item ODD-LOT-1, and the items
    A\\0B, A and STEP-0001 in the demo's lot, held by the brand."""
    admin, beekeeper, retailer = accounts[0], accounts[1], accounts[3]
    registry = world.registry
    registry.registerLot(int(HONEY_GTIN), _word(HOSTILE_LOT), b"\x44" * 32, sender=beekeeper)
    lot_id = int(registry.lotCount())
    registry.registerItems(lot_id, [_word(ODD_LOT_SERIAL)], sender=beekeeper)
    registry.registerItems(world.story.lot_id, [_word(NUL_SERIAL), _word(PLAIN_SERIAL)], sender=beekeeper)
    registry.registerItems(world.story.lot_id, [_word(STEP_SERIAL)], sender=beekeeper)
    return Hostile(lot_id, beekeeper, admin, retailer)


@pytest.fixture(params=["chain's logs", "event index"])
def open_page(
    request: pytest.FixtureRequest,
    hostile: Hostile,
    world: World,
    make_client: Callable[..., TestClient],
    build_index,
) -> Iterator[Callable[[], TestClient]]:
    """open_page() -> the page over the chain as it is now, its history from the chain's logs or
    from an event index built now (each opened as `supplytrace serve` opens it)."""

    def _open() -> TestClient:
        db = build_index() if request.param == "event index" else None
        source, reason = world.served(db)
        client = make_client(source)
        expected = "index" if db else "chain"
        assert client.get("/api/items/0x" + _id(PLAIN_SERIAL).hex()).json()["index"]["source"] == expected, (
            reason
        )
        return client

    yield _open


def _assert_safe(response: Any) -> None:
    for character in FORBIDDEN:
        assert character not in response.text, (repr(character), response.request.url)


def test_open_item__observation_step_all_0xff__200_with_status_and_banner_also_once_sold(
    hostile: Hostile, world: World, open_page: Callable[[], TestClient]
) -> None:
    item = _id(STEP_SERIAL)
    world.registry.record(item, ALL_FF, b"\x01" * 32, sender=hostile.beekeeper)
    page = open_page()
    response = page.get(f"/01/{HONEY_GTIN}/21/{STEP_SERIAL.decode()}")
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "genuine" and "Genuine and in the supply chain" in banner
    assert f"recorded a step: {ALL_FF_SHOWN}" in text_of(response.text)
    api = page.get(f"/api/items/0x{item.hex()}")
    assert api.status_code == 200 and api.json()["status"] == "genuine"
    assert api.json()["timeline"][-1]["verb"] == f"recorded a step: {ALL_FF_SHOWN}"

    world.registry.sell(item, sender=hostile.beekeeper)
    page = open_page()
    response = page.get(f"/item/0x{item.hex()}")
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "sold" and "Already sold" in banner and f"If you bought it at {BRAND_NAME} on" in banner
    api = page.get(f"/api/items/0x{item.hex()}")
    assert api.status_code == 200
    assert (api.json()["status"], api.json()["banner"]["title"]) == ("sold", "Already sold")
    assert api.json()["timeline"][-1]["verb"] == "sold it to a customer"


def test_open_item_and_lot__lot_code_not_utf8__200_and_the_code_shown_replaced(
    hostile: Hostile, open_page: Callable[[], TestClient]
) -> None:
    page = open_page()
    item = _id(ODD_LOT_SERIAL)
    for path in (f"/01/{HONEY_GTIN}/21/{ODD_LOT_SERIAL.decode()}", f"/item/0x{item.hex()}"):
        response = page.get(path)
        assert response.status_code == 200, path
        assert banner_of(response.text)[0] == "genuine", path
        assert "Lot \ufffd(" in text_of(response.text), path
        _assert_safe(response)
    body = page.get(f"/api/items/0x{item.hex()}").json()
    assert body["lot_code"] == "\ufffd(" and body["status"] == "genuine"
    # A lot code that GS1 cannot carry is left out of the item's link.
    assert body["digital_link"] == f"{BASE}/01/{HONEY_GTIN}/21/{ODD_LOT_SERIAL.decode()}"
    assert body["timeline"][0]["verb"] == "opened lot \ufffd("
    lot = page.get(f"/lot/{hostile.lot_id}")
    assert lot.status_code == 200
    assert "Lot \ufffd(" in text_of(lot.text) and "<title>Lot \ufffd( · supplytrace</title>" in lot.text
    assert page.get(f"/api/lots/{hostile.lot_id}").json()["lot_code"] == "\ufffd("


def test_open_items__serials_a_nul_b_and_a__two_items_rendered_distinctly(
    hostile: Hostile, world: World, open_page: Callable[[], TestClient]
) -> None:
    page = open_page()
    with_nul, plain = _id(NUL_SERIAL), _id(PLAIN_SERIAL)
    assert with_nul != plain
    shown = {}
    for item in (with_nul, plain):
        response = page.get(f"/item/0x{item.hex()}")
        assert response.status_code == 200
        assert banner_of(response.text)[0] == "genuine"
        _assert_safe(response)
        body = page.get(f"/api/items/0x{item.hex()}").json()
        assert body["derivation"]["matches"] is True  # the id follows from the serial's bytes
        assert body["warnings"] == []
        shown[item] = (body["serial"], text_of(response.text))
    assert shown[with_nul][0] == "A\u2400B" and shown[plain][0] == "A"
    assert "Serial A\u2400B Held by" in shown[with_nul][1] and "Serial A Held by" in shown[plain][1]
    lot = page.get(f"/lot/{world.story.lot_id}")
    _assert_safe(lot)
    assert "A\u2400B : genuine" in text_of(lot.text) and "A : genuine" in text_of(lot.text)
    serials = [i["serial"] for i in page.get(f"/api/lots/{world.story.lot_id}").json()["items"]]
    assert serials[-3:-1] == ["A\u2400B", "A"]


def test_open_item__custodian_describes_itself_with_nul_esc_and_rlo__shown_visibly_and_unverified(
    hostile: Hostile, world: World, open_page: Callable[[], TestClient]
) -> None:
    world.registry.describeSelf(HOSTILE_DESCRIPTION, sender=hostile.retailer)
    page = open_page()
    key = world.key("genuine")  # held by the retailer
    response = page.get(key.digital_link(BASE)[len(BASE) :])
    assert response.status_code == 200
    _assert_safe(response)
    status, banner = banner_of(response.text)
    assert status == "genuine"
    assert f"{SHOWN_DESCRIPTION} (unverified) holds it now" in banner
    custodian = page.get(f"/api/items/{key.id_hex}").json()["custodian"]
    assert custodian["description"] == custodian["label"] == SHOWN_DESCRIPTION
    assert custodian["verified"] is False and custodian["verified_name"] is None
    address = page.get(f"/address/{hostile.retailer.address}")
    assert address.status_code == 200
    _assert_safe(address)
    assert f"Says about itself {SHOWN_DESCRIPTION} unverified" in text_of(address.text)


@pytest.mark.parametrize("published", ["", "\u202e"], ids=["empty name", "name that shows as nothing"])
def test_open_item__brand_name_withdrawn_and_brand_describes_itself__label_never_verified(
    hostile: Hostile, world: World, open_page: Callable[[], TestClient], published: str
) -> None:
    world.registry.nameBrand(hostile.beekeeper, published, sender=hostile.admin)
    world.registry.describeSelf("Hillside Apiaries (official)", sender=hostile.beekeeper)
    page = open_page()
    key = world.key("genuine")
    response = page.get(key.digital_link(BASE)[len(BASE) :])
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "genuine"
    assert "Registered by Hillside Apiaries (official) (unverified)." in banner
    text = text_of(response.text)
    assert "Brand Hillside Apiaries (official) unverified" in text
    assert "Hillside Apiaries (official) verified" not in text
    brand = page.get(f"/api/items/{key.id_hex}").json()["brand"]
    assert brand["label"] == brand["description"] == "Hillside Apiaries (official)"
    assert brand["verified"] is False and brand["verified_name"] is None
    timeline = page.get(f"/api/items/{key.id_hex}").json()["timeline"]
    assert all(row["who"] is None or row["who"]["verified"] is False for row in timeline)


def test_open_item__lot_recalled_with_a_20000_character_reason__page_stays_small_and_says_recalled(
    hostile: Hostile, world: World, open_page: Callable[[], TestClient]
) -> None:
    reason = "Contaminated. " + "x" * 20_000
    world.registry.recallLot(world.story.lot_id, reason, sender=hostile.beekeeper)
    page = open_page()
    key = world.key("genuine")
    response = page.get(key.digital_link(BASE)[len(BASE) :])
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "recalled" and "Reason: Contaminated. xxx" in banner and "…" in banner
    assert len(response.content) < 40_000  # what test_accessible_html asks of every item page
    body = page.get(f"/api/items/{key.id_hex}").json()
    assert body["recall_reason"].startswith("Contaminated. ") and len(body["recall_reason"]) == 500
