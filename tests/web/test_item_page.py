"""The item page through its ASGI client: every status the demo's story produces, every way of
reaching it, and every way a code can be wrong."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from supplytrace.core.deployments import EXACT_MATCH, MISMATCH, SourceCheck
from supplytrace.core.ids import ItemKey
from supplytrace.demo import HONEY_GTIN, LOT_CODE, LOT_METADATA, RECALL_REASON, RETAILER_DESCRIPTION
from supplytrace.web.i18n import fmt_date
from tests.web.conftest import BASE, TestClient, World, banner_of, text_of


def _path(key: ItemKey) -> str:
    return key.digital_link(BASE)[len(BASE) :]


def test_open_digital_link__genuine_item__banner_brand_lot_facts_and_journey(
    client: TestClient, world: World
) -> None:
    response = client.get(_path(world.key("genuine")))
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "genuine"
    assert "Genuine and in the supply chain" in banner
    assert "Registered by Hillside Apiaries" in banner
    assert "Corner Grocery" in banner and "(unverified)" in banner
    page = text_of(response.text)
    # The brand's verified name, the lot facts checked against the hash on chain.
    assert re.search(r"Brand Hillside Apiaries verified", page)
    assert "Acacia honey, 500 g jar" in page
    assert "Harvest date 2026-07-14" in page
    assert "Certificates Lab test Fingerprint 9f2c5d1e…1c2d" in page  # a named document (see below)
    assert "These details match the fingerprint (hash) the brand recorded on the chain." in page
    # The custody timeline in plain words: registration, offer/accept, signed handoff, inspection.
    assert "Hillside Apiaries verified registered this item" in page
    assert "Hillside Apiaries verified handed it over to Carpathian Foods" in page
    assert "handed it over to Corner Grocery" in page
    assert "recorded a step: inspecting" in page
    assert "sold it to a customer" not in page


def test_open_digital_link__genuine_item__origin_and_certificate_read_as_sentences(
    client: TestClient, world: World
) -> None:
    response = client.get(_path(world.key("genuine")))
    page = text_of(response.text)
    assert "Origin Harvested in Banat, Romania Apiary: Hillside #3" in page
    assert "country: RO" not in page and "region:" not in page
    (certificate,) = LOT_METADATA["certificates"]
    sha = certificate["sha256"]
    # A name, a short fingerprint with the whole one a click away, and the other keys as notes.
    assert "Lab test Fingerprint 9f2c5d1e…1c2d SHA-256 " + sha + " Lab: Apis Lab, Timișoara" in page
    assert f'<span class="mono" title="SHA-256 {sha}">9f2c5d1e…1c2d</span>' in response.text
    assert page.count(sha) == 1  # only in the details, never filling the row
    body = client.get(f"/api/items/{world.key('genuine').id_hex}").json()
    (row,) = [f for f in body["lot"]["facts"] if f["label"] == "Certificates"]
    assert row["certificates"][0]["fingerprint"] == "9f2c5d1e…1c2d"


def test_open_digital_link__genuine_item__every_step_links_to_its_transaction(
    client: TestClient, world: World
) -> None:
    page = client.get(_path(world.key("genuine"))).text
    links = re.findall(rf'href="{BASE}/tx/(0x[0-9a-f]{{64}})"', page)
    start = page.index('<ol class="timeline">')
    timeline = page[start : page.index("</ol>", start)]
    assert (
        len(links) == timeline.count("<li>") == 6
    )  # lot, registration, offer, accept, signed handoff, inspection
    for tx_hash in set(links):
        receipt = world.registry.provider.get_receipt(tx_hash)
        assert receipt.status == 1
    assert f'href="{BASE}/address/{world.registry.address}"' in page  # the contract on the explorer


def test_open_digital_link__sold_item__tells_the_buyer_where_and_when_first_then_warns_of_a_copy(
    client: TestClient, world: World
) -> None:
    key = world.key("sold")
    sold_at = int(world.registry.getItem(key.id).updatedAt)
    response = client.get(_path(key))
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "sold"
    buyer = (
        f"If you bought it at {RETAILER_DESCRIPTION} (unverified) on {fmt_date(sold_at)}, "
        "this is your item, and it is genuine."
    )
    assert buyer in banner
    copy = "If you bought it somewhere else or on another day, the code may be a copy"
    assert copy in banner
    assert banner.index(buyer) < banner.index(copy)  # the genuine buyer reads their answer first
    assert "Corner Grocery verified sold it to a customer" not in text_of(response.text)
    assert "sold it to a customer" in text_of(response.text)


def test_open_digital_link__recalled_item__gives_the_reason_and_what_to_do(
    client: TestClient, world: World
) -> None:
    response = client.get(_path(world.key("recalled")))
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "recalled"
    assert "Recalled: do not use" in banner
    assert "Hillside Apiaries recalled lot ACACIA-2026-05" in banner
    assert RECALL_REASON in banner
    assert "What to do: Do not eat or use it" in banner
    assert "recalled the whole lot" in text_of(response.text)


def test_open_digital_link__unregistered_code__404_likely_counterfeit_and_gtin_owner(
    client: TestClient, world: World
) -> None:
    response = client.get(_path(world.key("unknown")))
    assert response.status_code == 404
    status, banner = banner_of(response.text)
    assert status == "unknown"
    assert "Not registered by any brand" in banner and "likely counterfeit" in banner
    assert f"GTIN {HONEY_GTIN}) belongs to Hillside Apiaries" in banner
    page = text_of(response.text)
    assert "Journey" not in page
    # How the id was derived, to check by hand.
    key = world.key("unknown")
    assert key.id_hex in page
    assert "cast format-bytes32-string JAR99999" in page


def test_open_digital_link__unowned_gtin__404_without_an_owner(client: TestClient) -> None:
    response = client.get("/01/4012345000009/21/ANYTHING", follow_redirects=True)  # GTIN-13: to 14 digits
    assert response.status_code == 404
    status, banner = banner_of(response.text)
    assert status == "unknown"
    assert "belongs to" not in banner


def test_open_digital_link__without_lot_or_with_extra_attributes__same_item(
    client: TestClient, world: World
) -> None:
    key = world.key("genuine")
    plain = f"/01/{key.gtin}/21/{key.serial}"
    short_gtin = f"/01/{key.gtin.lstrip('0')}/21/{key.serial}"
    for path in (plain, short_gtin, _path(key) + "?17=271231&linkType=gs1:pip", plain + "?utm_source=camera"):
        response = client.get(path, follow_redirects=True)  # a GTIN-13: redirected to its 14 digits
        assert response.status_code == 200, path
        assert banner_of(response.text)[0] == "genuine", path
        assert key.id_hex in response.text, path


def test_open_digital_link__lot_differs_from_the_item_s_lot__own_status_never_genuine(
    client: TestClient, world: World
) -> None:
    key = world.key("genuine")
    path = f"/01/{key.gtin}/10/OTHER-LOT/21/{key.serial}"
    response = client.get(path)
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "wrong-lot"
    assert "This code does not match the registered lot" in banner
    assert "Genuine" not in banner and 'class="banner banner-genuine"' not in response.text
    assert f"names lot OTHER-LOT, but this item belongs to lot {LOT_CODE}" in banner
    assert "Check the lot number printed on the package" in banner
    assert "<title>This code does not match the registered lot · supplytrace</title>" in response.text
    # The JSON answer of the same link says the same as the page's data-status.
    body = client.get(path, headers={"Accept": "application/json"}).json()
    assert (body["status"], body["item_status"]) == ("wrong-lot", "genuine")
    assert body["banner"]["status"] == "wrong-lot"
    # The right lot, or none, is the genuine item as before.
    assert banner_of(client.get(_path(key)).text)[0] == "genuine"
    assert client.get(f"/api/items/{key.id_hex}").json()["status"] == "genuine"


def test_open_digital_link__sold_or_recalled_item_with_another_lot__mismatch_or_recall_first(
    client: TestClient, world: World
) -> None:
    sold = world.key("sold")
    status, banner = banner_of(client.get(f"/01/{sold.gtin}/10/OTHER-LOT/21/{sold.serial}").text)
    assert status == "wrong-lot" and "names lot OTHER-LOT" in banner
    # A recall is what a shopper must hear first, whatever the label says; the mismatch follows.
    recalled = world.key("recalled")
    response = client.get(f"/01/{recalled.gtin}/10/OTHER-LOT/21/{recalled.serial}")
    status, banner = banner_of(response.text)
    assert status == "recalled" and "Recalled: do not use" in banner
    assert "names lot OTHER-LOT, but this item belongs to lot" in text_of(response.text)


def test_open_digital_link__malformed_codes__400_human_page(client: TestClient) -> None:
    cases = [
        "/01/09506000134353/21/JAR00001",  # wrong check digit
        "/01/09506000134352/21/" + "A" * 21,  # serial too long
        "/01/09506000134352/21/%C3%A9",  # not in GS1's character set
        "/01/ABC/21/JAR00001",
        "/01/09506000134352/21/JAR00001/10/LOT",  # qualifiers out of order
        "/01/09506000134352/21/JAR00001/foo",  # not pairs
    ]
    for path in cases:
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.headers["content-type"].startswith("text/html"), path
        status, banner = banner_of(response.text)
        assert status == "error-400", path
        assert "This is not a product code we can read" in banner, path
        assert "Traceback" not in response.text and "resolver.invalid" not in response.text, path


def test_open_digital_link__product_or_lot_nobody_registered__404_not_400(client: TestClient) -> None:
    """Well-formed links of a product alone (no links configured for it) or of a lot no brand
    registered are not syntax errors: 404 with the page's sentence."""
    for path in ("/01/09506000134352", "/01/09506000134352/10/NO-SUCH-LOT", "/01/09506000134352/22/V1"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert banner_of(response.text)[0] == "error-404", path


def test_open_digital_link__serial_with_reserved_characters__resolves_percent_encoded(
    client: TestClient,
) -> None:
    key = ItemKey.create(HONEY_GTIN, "A/B%1", "L(1)")
    response = client.get(_path(key))
    assert response.status_code == 404  # well-formed, never registered
    assert key.id_hex in response.text
    assert "Serial “A/B%1”" in text_of(response.text)


def test_head_digital_link__phone_link_preview__200_without_body(client: TestClient, world: World) -> None:
    response = client.head(_path(world.key("genuine")))
    assert response.status_code == 200
    assert response.content == b""


def test_open_item_by_id__genuine_item__same_page_with_derivation(client: TestClient, world: World) -> None:
    key = world.key("genuine")
    response = client.get(f"/item/{key.id_hex}")
    assert response.status_code == 200
    assert banner_of(response.text)[0] == "genuine"
    page = text_of(response.text)
    assert "Serial JAR00002" in page  # from the registration event: the id alone names no serial
    assert f"The id is the Keccak-256 hash of the two joined: {key.id_hex} (the id above)" in page


def test_open_item_by_id__unknown_or_malformed_id__404_or_400(client: TestClient) -> None:
    unknown = client.get("/item/0x" + "ab" * 32)
    assert unknown.status_code == 404
    assert banner_of(unknown.text)[0] == "unknown"
    for bad in ("0x12", "hello", "0x" + "g" * 64):
        response = client.get(f"/item/{bad}")
        assert response.status_code == 400, bad
        assert "This is not an item id" in banner_of(response.text)[1]


def test_check_typed_code__uri_or_id_or_garbage__redirects_or_400(client: TestClient, world: World) -> None:
    key = world.key("sold")
    typed = client.get("/check", params={"code": f"  {key.digital_link('https://id.example.com')} "})
    assert typed.status_code == 303
    assert typed.headers["location"] == _path(key)
    by_id = client.get("/check", params={"code": key.id_hex})
    assert by_id.status_code == 303 and by_id.headers["location"] == f"/item/{key.id_hex}"
    garbage = client.get("/check", params={"code": "not a code"})
    assert garbage.status_code == 400
    assert "This is not a product code we can read" in text_of(garbage.text)
    home = client.get("/")
    assert home.status_code == 200 and 'action="/check"' in home.text


def test_check_typed_code__the_label_s_human_readable_line__redirects_to_the_item(
    client: TestClient, world: World
) -> None:
    key = world.key("sold")
    assert key.lot is not None
    for typed in (
        f"(01) {key.gtin}  (10) {key.lot}  (21) {key.serial}",  # as the label prints it
        f"(01){key.gtin}(10){key.lot}(21){key.serial}",
        f"(01) {key.gtin} (21) {key.serial}",
    ):
        answer = client.get("/check", params={"code": typed})
        assert answer.status_code == 303, typed
        assert answer.headers["location"].endswith(f"/21/{key.serial}"), typed
        assert f"/01/{key.gtin}/" in answer.headers["location"]


def test_check_typed_code__bare_gtin_and_serial__redirects_to_the_item(
    client: TestClient, world: World
) -> None:
    key = world.key("sold")
    answer = client.get("/check", params={"code": f" {key.gtin}  {key.serial} "})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/01/{key.gtin}/21/{key.serial}"


def test_check_typed_code__human_readable_line_without_a_serial__400_names_what_is_missing(
    client: TestClient, world: World
) -> None:
    key = world.key("sold")
    answer = client.get("/check", params={"code": f"(01) {key.gtin} (10) {key.lot}"})
    assert answer.status_code == 400
    assert "serial" in text_of(answer.text)


def test_check_it_yourself__source_never_checked__says_so(client: TestClient, world: World) -> None:
    page = text_of(client.get(_path(world.key("genuine"))).text)
    assert "Check it yourself" in page
    assert "The registry's source has not been checked." in page


@pytest.mark.parametrize(
    ("match", "sentence"),
    [
        (
            EXACT_MATCH,
            "The registry's code matches its published source exactly, metadata included "
            "(checked 2026-12-01 against commit 0123456789ab).",
        ),
        (
            MISMATCH,
            "The registry's code does NOT match the source it was checked against "
            "(checked 2026-12-01 against commit 0123456789ab).",
        ),
    ],
)
def test_check_it_yourself__source_check_recorded__says_what_matched_and_when(
    make_client: Callable[..., TestClient], world: World, match: str, sentence: str
) -> None:
    check = SourceCheck(match, match, "2026-12-01T08:00:00Z", "0123456789ab" * 3 + "cdef", "0.8.37")
    client = make_client(deployment=replace(world.deployment, source_check=check))
    page = text_of(client.get(_path(world.key("genuine"))).text)
    assert sentence in page
    assert "has not been checked" not in page


def test_check_it_yourself__hostile_commit_in_record__escaped(
    make_client: Callable[..., TestClient], world: World
) -> None:
    check = SourceCheck(EXACT_MATCH, None, "2026-12-01T08:00:00Z", "<script>x</script>", "0.8.37")
    client = make_client(deployment=replace(world.deployment, source_check=check))
    response = client.get(_path(world.key("genuine")))
    assert "<script>x" not in response.text
    assert "&lt;script&gt;x" in response.text
