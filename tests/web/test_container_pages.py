"""Cases and pallets on the page (issue #14): the GS1 Digital Link of an SSCC (``/00/{sscc}``)
resolves to the container's page (its live custodian through its outer containers, where it is,
what it holds now, its journey; JSON by the Accept header), a bad SSCC gets the page's one
sentence, a packed item says where it is and shows its pallet's moves, and a container of many
items lists the first ones with the count of all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from supplytrace.core.ids import container_id, encode_code, item_id, sscc_with_check_digit
from supplytrace.demo import HONEY_GTIN
from supplytrace.web.views.container import CONTENTS_SHOWN
from tests.web.conftest import TestClient, World, banner_of, text_of

PREFIX = 9506000  # HONEY_GTIN's company prefix, which the SSCCs are made from
JSON = {"Accept": "application/json"}


def sscc(serial: int) -> str:
    return sscc_with_check_digit(f"0{PREFIX}{serial:09d}")


@dataclass(frozen=True)
class Pallet:
    case: str
    pallet: str
    in_case: list[bytes]
    loose: bytes


def _register(world: World, brand: Any, *serials: str) -> list[bytes]:
    world.registry.registerItems(world.story.lot_id, [encode_code(s) for s in serials], sender=brand)
    return [item_id(HONEY_GTIN, s) for s in serials]


@pytest.fixture(scope="module")
def prefix(world: World, accounts: Any) -> None:
    world.registry.assignCompanyPrefix(PREFIX, 7, accounts[1], sender=accounts[0])


@pytest.fixture(scope="module")
def pallet(world: World, accounts: Any, prefix: None) -> Pallet:
    """Two jars in a case, the case and a third jar on a pallet, the pallet handed to the
    distributor (offer, accept)."""
    brand, distributor = accounts[1], accounts[2]
    jars = _register(world, brand, "PAL1", "PAL2", "PAL3")
    case, on_pallet = sscc(51), sscc(52)
    world.registry.pack(int(case), jars[:2], sender=brand)
    world.registry.pack(int(on_pallet), [container_id(case), jars[2]], sender=brand)
    world.registry.offer(container_id(on_pallet), distributor, sender=brand)
    world.registry.accept(container_id(on_pallet), sender=distributor)
    return Pallet(case, on_pallet, jars[:2], jars[2])


def test_sscc_link__pallet__custodian_contents_and_journey(
    client: TestClient, pallet: Pallet, accounts: Any
) -> None:
    page = client.get(f"/00/{pallet.pallet}")
    text = text_of(page.text)

    assert page.status_code == 200 and "Accept" in page.headers["vary"].split(", ")
    assert f"Case or pallet (00) {pallet.pallet}" in text
    assert f'href="/00/{pallet.case}"' in page.text  # the case on it, linked
    assert f'href="/item/0x{pallet.loose.hex()}"' in page.text  # the loose jar, linked
    assert "What it holds now (2)" in text and "packed 2 items into pallet (00)" in text
    assert "handed it over to" in text
    body = client.get(f"/00/{pallet.pallet}", headers=JSON).json()
    assert body["custodian"]["address"] == accounts[2].address
    assert body["holds_count"] == 2 and body["packed_in"] == [] and body["location"] is None
    assert [(c["kind"], c["sscc"]) for c in body["holds"]] == [("container", pallet.case), ("item", None)]
    assert body["holds"][1]["status"] == "genuine"
    assert client.get(f"/api/containers/{pallet.pallet}").json() == body


def test_sscc_link__case_on_a_pallet__held_through_the_pallet_and_links_it(
    client: TestClient, pallet: Pallet, accounts: Any
) -> None:
    body = client.get(f"/00/{pallet.case}", headers=JSON).json()
    page = client.get(f"/00/{pallet.case}").text

    assert body["custodian"]["address"] == accounts[2].address  # the pallet's custodian
    assert [(c["kind"], c["sscc"]) for c in body["packed_in"]] == [("pallet", pallet.pallet)]
    assert body["location"].startswith(f"It is packed on pallet (00) {pallet.pallet}.")
    assert body["holds_count"] == 2 and {c["id"] for c in body["holds"]} == {
        f"0x{i.hex()}" for i in pallet.in_case
    }
    assert f'href="/00/{pallet.pallet}"' in page


def test_item_page__item_in_a_case_on_a_pallet__says_where_it_is_and_shows_the_pallets_moves(
    client: TestClient, pallet: Pallet, accounts: Any
) -> None:
    page = client.get(f"/item/0x{pallet.in_case[0].hex()}")
    text = text_of(page.text)

    assert banner_of(page.text)[0] == "genuine"
    assert (
        f"It is packed in case (00) {pallet.case}, on pallet (00) {pallet.pallet}. It moves with its pallet"
        in text
    )
    assert f'href="/00/{pallet.case}"' in page.text and f'href="/00/{pallet.pallet}"' in page.text
    assert f"with pallet (00) {pallet.pallet}" in text  # the pallet's handover, in its journey
    body = client.get(f"/api/items/0x{pallet.in_case[0].hex()}").json()
    assert body["custodian"]["address"] == accounts[2].address
    assert [c["kind"] for c in body["packed_in"]] == ["case", "pallet"]
    assert body["warnings"] == []  # the history (with the pallet's moves) agrees with the record


@pytest.mark.parametrize(
    "code",
    ["123", "009506000000000510", "0095060000000005100", "00950600000000051x", "000000000000000000"],
)
def test_sscc_link__not_an_sscc__one_sentence_400(client: TestClient, code: str) -> None:
    page = client.get(f"/00/{code}")
    answer = client.get(f"/00/{code}", headers=JSON)

    assert page.status_code == answer.status_code == 400
    assert "This is not a case or pallet code" in page.text and "Traceback" not in page.text
    assert answer.json()["error"] == "This is not a case or pallet code"


def test_sscc_link__valid_sscc_never_packed__404(client: TestClient, prefix: None) -> None:
    page = client.get(f"/00/{sscc(99)}")

    assert page.status_code == 404 and "No such case or pallet" in page.text


def test_sscc_link__pallet_of_many_items__lists_the_first_with_the_count(
    client: TestClient, world: World, accounts: Any, prefix: None
) -> None:
    brand, many = accounts[1], 2_000
    serials = [f"MANY{n:05d}" for n in range(many)]
    for start in range(0, many, 500):
        _register(world, brand, *serials[start : start + 500])
    ids = [item_id(HONEY_GTIN, s) for s in serials]
    for start in range(0, many, 500):
        world.registry.pack(int(sscc(60)), ids[start : start + 500], sender=brand)
    world.registry.unpack(container_id(sscc(60)), ids[:1], sender=brand)

    body = client.get(f"/00/{sscc(60)}", headers=JSON).json()
    page = client.get(f"/00/{sscc(60)}").text

    assert body["holds_count"] == many - 1
    assert [c["id"] for c in body["holds"]] == [f"0x{i.hex()}" for i in ids[1 : CONTENTS_SHOWN + 1]]
    assert f"The first {CONTENTS_SHOWN} of {many - 1} are listed." in text_of(page)


def test_sscc_link__page_served_with_an_index__same_contents_and_journey(
    make_client: Callable[..., TestClient], client: TestClient, pallet: Pallet, world: World, build_index: Any
) -> None:
    source, _why = world.served(build_index())

    body = make_client(source).get(f"/00/{pallet.case}", headers=JSON).json()

    reference = client.get(f"/00/{pallet.case}", headers=JSON).json()
    assert body["holds"] == reference["holds"] and body["packed_in"] == reference["packed_in"]
    assert [r["summary"] for r in body["timeline"]] == [r["summary"] for r in reference["timeline"]]
    assert body["index"]["source"] == "index"  # the index answers containers (and the chain's tail)


def test_render_container_and_packed_item_pages__structure__accessible_and_small(
    client: TestClient, pallet: Pallet
) -> None:
    from tests.web.test_accessible_html import assert_accessible

    for name, path in {
        "pallet": f"/00/{pallet.pallet}",
        "case": f"/00/{pallet.case}",
        "packed item": f"/item/0x{pallet.in_case[0].hex()}",
        "bad sscc": "/00/123",
        "unknown sscc": f"/00/{sscc(98)}",
    }.items():
        response = client.get(path)
        assert_accessible(name, response.text)
        assert len(response.content) < 40_000 and response.headers["cache-control"] == "no-store", name
