"""The page in English, Simplified Chinese and Romanian (docs/languages.md): the catalogs are
complete (the messages are extracted here, as a brand adding a language would), the language is
chosen from Accept-Language or a ``?lang=`` link, and dates, numbers and the lot's per-language
texts follow it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from supplytrace.core.ids import ItemKey
from supplytrace.web import i18n
from supplytrace.web.i18n import LANGUAGES, fmt_date, fmt_number, negotiate, speaking
from supplytrace.web.lotdata import facts
from tests.web.conftest import BASE, ROOT, Coded, TestClient, World, banner_of, text_of

SHIPPED = [lang for lang in LANGUAGES if lang.locale != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
#: 1 December 2026, 12:00 UTC.
NOON = 1_796_126_400


def _extracted() -> Catalog:
    """Every message of the page, extracted as docs/languages.md says (babel.cfg, -k Msg -k N_)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Msg": None}
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _shipped(locale: str) -> Catalog:
    path = i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def _path(key: ItemKey) -> str:
    return key.digital_link(BASE)[len(BASE) :]


@pytest.fixture
def romanian() -> Iterator[None]:
    with speaking(LANGUAGES[2]):
        yield


# ----------------------------------------------------------------------------------------------
# The catalogs
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", [lang.locale for lang in SHIPPED])
def test_catalog__every_extracted_message__translated_with_the_same_placeholders(locale: str) -> None:
    extracted = [m for m in _extracted() if m.id]
    assert len(extracted) > 150  # the extraction found the page's sentences
    shipped = _shipped(locale)
    problems = []
    for message in extracted:
        found = shipped.get(message.id)
        forms = found.string if found is not None else None
        forms = forms if isinstance(forms, tuple) else (forms,)
        if found is None or found.fuzzy or not all(f and f.strip() for f in forms):
            problems.append(f"untranslated: {message.id!r}")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for form in forms:
            used = set(PLACEHOLDER.findall(form or ""))
            # A singular form may leave out the count ("once"); nothing else may be missing or added.
            if used - wanted or (wanted - used) - {"num"}:
                problems.append(f"placeholders differ: {message.id!r} -> {form!r}")
    assert not problems, "\n".join(problems)


def test_catalogs__loaded_from_their_po_files__no_compiled_files_committed() -> None:
    assert not list(Path(i18n.LOCALE_DIR).rglob("*.mo"))
    for lang in SHIPPED:
        assert lang.translations.gettext("Genuine") != "Genuine"


# ----------------------------------------------------------------------------------------------
# Choosing the language
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("ro-RO,ro;q=0.9", "ro"),
        ("de-DE,de;q=0.9,ro;q=0.5,en;q=0.4", "ro"),
        ("en;q=0.4, ro;q=0.8, zh-CN;q=0.9", "zh_Hans"),
        ("ro;q=0, en", "en"),
        ("fr-FR, de", "en"),
        ("", "en"),
        (";;;q=x, ,zh;q=abc", "en"),
    ],
)
def test_negotiate__accept_language_with_qualities__best_shipped_language(header: str, locale: str) -> None:
    assert negotiate(header).locale == locale


@pytest.mark.parametrize(
    ("accept", "expected_tag", "word"),
    [("zh-CN,zh;q=0.9", "zh-CN", "正品"), ("ro-RO", "ro", "Autentic"), ("en-GB", "en", "Genuine")],
)
def test_open_item__accept_language__page_header_and_banner_in_that_language(
    client: TestClient, world: World, accept: str, expected_tag: str, word: str
) -> None:
    response = client.get(_path(world.key("genuine")), headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert f'<html lang="{expected_tag}">' in response.text
    assert response.headers["content-language"] == expected_tag
    assert "Accept-Language" in response.headers["vary"] and "Accept" in response.headers["vary"]
    assert word in banner_of(response.text)[1]


def test_open_item__lang_link_over_accept_language__chosen_language_kept_on_own_links(
    client: TestClient, world: World
) -> None:
    response = client.get(_path(world.key("genuine")) + "?lang=ro", headers={"Accept-Language": "zh-CN"})
    assert response.headers["content-language"] == "ro"
    banner = banner_of(response.text)[1]
    assert "Autentic și încă în lanțul de aprovizionare" in banner
    assert re.search(r'href="/lot/\d+\?lang=ro"', response.text)  # the page's own links keep it
    assert 'href="/?lang=ro"' in response.text
    assert re.search(
        rf'href="{BASE}/tx/0x[0-9a-f]{{64}}\?lang=ro"', response.text
    )  # the devnet's explorer: this page
    # The language links: this page in each language, the current one not a link.
    assert re.search(r'<a href="/01/[^"]*\?lang=zh-CN" lang="zh-CN" hreflang="zh-CN">中文</a>', response.text)
    assert '<span lang="ro" aria-current="true">Română</span>' in response.text
    assert "a predat produsul către" in text_of(response.text)  # the timeline, from core.story


def test_open_item__chinese__timeline_journey_and_product_name_in_chinese(
    client: TestClient, world: World
) -> None:
    response = client.get(_path(world.key("genuine")), headers={"Accept-Language": "zh"})
    page = text_of(response.text)
    assert "流转记录" in page and "将其交给了" in page and "登记了此商品" in page
    assert "handed it over to" not in page
    # The demo's lot names its product in three languages (checked against the hash on chain).
    assert "产品 洋槐蜂蜜，500 克装" in page and "产地 采收于 Banat、罗马尼亚" in page  # noqa: RUF001
    english = text_of(client.get(_path(world.key("genuine"))).text)
    assert "Product Acacia honey, 500 g jar" in english and "洋槐蜂蜜" not in english


def test_open_api_or_json_digital_link__chinese_or_romanian_reader__json_stays_english(
    client: TestClient, world: World
) -> None:
    key = world.key("genuine")
    response = client.get(f"/api/items/{key.id_hex}", headers={"Accept-Language": "zh-CN"})
    assert response.headers["content-language"] == "en"
    assert response.json()["banner"]["title"] == "Genuine and in the supply chain"
    scanned = client.get(_path(key), headers={"Accept-Language": "ro", "Accept": "application/json"})
    assert scanned.json()["banner"]["title"] == "Genuine and in the supply chain"


def test_open_missing_page__romanian__error_page_in_romanian(client: TestClient) -> None:
    response = client.get("/nowhere?lang=ro")
    assert response.status_code == 404
    assert "Pagina nu a fost găsită" in response.text and '<html lang="ro">' in response.text


# ----------------------------------------------------------------------------------------------
# Dates, numbers, and the lot's texts in several languages
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "day", "number"),
    [
        ("en", "1 December 2026", "1,500.5"),
        ("zh_Hans", "2026年12月1日", "1,500.5"),
        ("ro", "1 decembrie 2026", "1.500,5"),
    ],
)
def test_format__each_language__dates_and_numbers_in_its_locale(locale: str, day: str, number: str) -> None:
    with speaking(next(lang for lang in LANGUAGES if lang.locale == locale)):
        assert fmt_date(NOON) == day
        assert fmt_number(1500.5) == number


def test_open_sold_item__romanian__date_of_the_sale_in_romanian(client: TestClient, world: World) -> None:
    key = world.key("sold")
    sold_at = int(world.registry.getItem(key.id).updatedAt)
    with speaking(LANGUAGES[2]):
        day = fmt_date(sold_at)
    response = client.get(_path(key), headers={"Accept-Language": "ro"})
    status, banner = banner_of(response.text)
    assert status == "sold" and "Vândut" in banner
    assert f"pe {day}, acesta este articolul dumneavoastră" in banner
    assert "codul poate fi o copie" in banner


METADATA = {
    "product": {"en": "Acacia honey", "zh-CN": "洋槐蜂蜜", "ro": "Miere de salcâm"},
    "origin": {"country": "RO", "region": {"en": "Banat", "ro": "Banat", "zh-Hans": "巴纳特"}},
    "harvestDate": "2026-07-14",
    "certificates": [{"name": {"en": "Lab test", "ro": "Analiză de laborator"}, "sha256": "ab" * 32}],
}


@pytest.mark.parametrize(
    ("locale", "product", "origin", "certificate"),
    [
        ("en", "Acacia honey", "Harvested in Banat, Romania", "Lab test"),
        ("zh_Hans", "洋槐蜂蜜", "采收于 巴纳特、罗马尼亚", "Lab test"),
        ("ro", "Miere de salcâm", "Recoltat în Banat, România", "Analiză de laborator"),
    ],
)
def test_facts__per_language_texts__shown_in_the_reader_s_language(
    locale: str, product: str, origin: str, certificate: str
) -> None:
    with speaking(next(lang for lang in LANGUAGES if lang.locale == locale)):
        rows = {row.label: row for row in facts(METADATA)}
    labels = {"en": "Product", "zh_Hans": "产品", "ro": "Produs"}
    assert rows[labels[locale]].lines == [product]
    assert origin in [line for row in rows.values() for line in row.lines]
    assert [c.name for row in rows.values() for c in row.certificates] == [certificate]


def test_facts__language_map_without_english_or_with_non_texts__shown_as_an_object(romanian: None) -> None:
    # Not the documented form (no "en", or a value that is not a text): read leniently, as any object.
    rows = facts({"product": {"ro": "Miere"}, "note": {"en": "x", "ro": ["<b>", 1]}})
    lines = [line for row in rows for line in row.lines]
    assert "ro: Miere" in lines
    assert any("<b>" in line for line in lines)  # shown as text; the template escapes it


def test_open_recalled_lot__chinese__banner_items_and_page_links_in_chinese(
    client: TestClient, world: World
) -> None:
    lot_id = int(world.registry.getItem(world.key("recalled").id).lotId)
    response = client.get(f"/lot/{lot_id}?lang=zh-CN")
    assert response.status_code == 200 and '<html lang="zh-CN">' in response.text
    status, banner = banner_of(response.text)
    assert status == "recalled" and banner.startswith("✕ 已召回") and "已被召回" in banner
    page = text_of(response.text)
    assert "批次信息" in page and "召回了整个批次" in page  # the lot's facts and its history
    assert re.search(r'href="/item/0x[0-9a-f]{64}\?lang=zh-CN"', response.text)


def test_post_wrong_code__romanian_reader__answer_in_romanian_and_links_to_the_item(
    claim_client: Callable[..., Any], register_coded: Callable[[int], Coded]
) -> None:
    coded = register_coded(1)
    client = claim_client()
    item = f"/item/0x{coded.keys[0].id.hex()}"
    form = client.get(item + "?lang=ro")
    assert f'action="{item}/claim?lang=ro"' in form.text and "Codul din interiorul capacului" in form.text
    answer = client.post(item + "/claim?lang=ro", data={"code": "7KQM-2XHD-9PRW"})
    assert answer.status_code == 400 and '<html lang="ro">' in answer.text
    assert "Codul nu corespunde acestui articol" in text_of(answer.text)
    # Its language links lead to the item's page, not to the form's address.
    assert f'<a href="{item}?lang=zh-CN" lang="zh-CN"' in answer.text


def test_open_item__public_network_romanian_or_chinese__the_network_named_in_that_language(
    make_client: Callable[..., TestClient], world: World
) -> None:
    client = make_client(network="sepolia")
    romanian = text_of(client.get(_path(world.key("genuine")) + "?lang=ro").text)
    assert "rețeaua ethereum sepolia" in romanian and "sepolia network" not in romanian
    chinese = text_of(client.get(_path(world.key("genuine")) + "?lang=zh-CN").text)
    assert "ethereum sepolia 网络" in chinese
    english = text_of(client.get(_path(world.key("genuine"))).text)
    assert "on the ethereum sepolia network" in english
