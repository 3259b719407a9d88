"""supplytrace.web.resolver: Digital Link paths read and made canonical, link types, and the
RFC 9264 linkset and RFC 8288 Link header of a code's links (no chain, no app)."""

from __future__ import annotations

import json

import pytest

from supplytrace.web.resolver import (
    GS1_VOC,
    LINK_TYPES,
    DigitalLink,
    DigitalLinkError,
    Link,
    accept_languages,
    choose,
    link_header,
    link_type_of,
    linkset,
    parse_path,
    passed_on,
    with_default,
    with_query,
)

GTIN = "09506000134352"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/01/{GTIN}/21/JAR1", DigitalLink("01", GTIN, serial="JAR1")),
        (f"/01/{GTIN}/10/L1/21/JAR1/", DigitalLink("01", GTIN, lot="L1", serial="JAR1")),
        (f"/01/{GTIN[1:]}/10/A%2FB/21/x", DigitalLink("01", GTIN, lot="A/B", serial="x", canonical=False)),
        ("/01/95060002", DigitalLink("01", "00000095060002", canonical=False)),
        (f"/01/{GTIN}/22/V1/10/L1", DigitalLink("01", GTIN, variant="V1", lot="L1")),
        ("/00/106141412345678908/", DigitalLink("00", "106141412345678908")),
    ],
)
def test_parse_path__valid_forms__key_qualifiers_and_canonical_flag(path: str, expected: DigitalLink) -> None:
    assert parse_path(path) == expected


def test_path__reserved_characters__percent_encoded_and_read_back() -> None:
    link = DigitalLink("01", GTIN, lot="L(1)", serial="A/B%1")
    assert link.path == f"/01/{GTIN}/10/L%281%29/21/A%2FB%251"
    assert parse_path(link.path) == link
    assert link.item is not None and link.item.serial == "A/B%1"


@pytest.mark.parametrize(
    "path",
    [
        f"/01/{GTIN}/21/JAR1/foo",
        f"/01/{GTIN}/21/JAR1/10/L1",
        f"/01/{GTIN}/10/L1/10/L2",
        f"/01/{GTIN}/21/" + "A" * 21,
        f"/01/{GTIN}/21/%C3%A9",
        "/01/09506000134353/21/JAR1",
        "/01/ABC/21/JAR1",
        "/00/106141412345678908/21/1",
        "/00/106141412345678909",
        "/414/9506000134352",
        "/01/" + "1" * 600,
    ],
)
def test_parse_path__syntax_errors__one_sentence(path: str) -> None:
    with pytest.raises(DigitalLinkError) as raised:
        parse_path(path)
    message = str(raised.value)
    assert message.endswith(".") and "\n" not in message and "resolver.invalid" not in message


def test_link_type_of__prefix_uri_or_unknown__name_linkset_or_none() -> None:
    assert link_type_of("gs1:pip") == link_type_of(GS1_VOC + "pip") == "pip"
    assert link_type_of("https://ref.gs1.org/voc/recipeInfo") == "recipeInfo"
    assert link_type_of("linkset") == link_type_of("all") == "linkset"
    assert link_type_of("gs1:nope") is link_type_of("pip") is link_type_of(None) is None


def test_linkset__links_of_two_types__grouped_by_relation_with_default() -> None:
    links = with_default(
        [
            Link("pip", "https://r.example/01/1", "Page"),
            Link("certificationInfo", "https://b.example/c", "Cert"),
        ]
    )
    body = linkset("https://r.example/01/1", links)
    (context,) = body["linkset"]
    assert context["anchor"] == "https://r.example/01/1"
    assert context[GS1_VOC + "defaultLink"] == context[GS1_VOC + "pip"]
    assert context[GS1_VOC + "certificationInfo"] == [
        {"href": "https://b.example/c", "title": "Cert", "type": "text/html", "hreflang": ["en"]}
    ]
    json.dumps(body)  # plain JSON


def test_link_header__hostile_title__quoted_safely_with_utf8_title_star() -> None:
    header = link_header(
        [Link("recipeInfo", "https://b.example/r", 'Rețete, "dulci"', lang=("ro",))], "https://r/x"
    )
    first, linkset_value = header.split(", <")
    assert first.startswith(
        '<https://b.example/r>; rel="https://gs1.org/voc/recipeInfo"; title="Re?ete? ?dulci?"'
    )
    assert "title*=UTF-8''Re%C8%9Bete%2C%20%22dulci%22" in first and 'hreflang="ro"' in first
    assert linkset_value.startswith('https://r/x>; rel="linkset"')


def test_choose__languages__reader_s_first_else_first_of_type() -> None:
    links = [
        Link("recipeInfo", "https://e/en", "R", lang=("en",)),
        Link("recipeInfo", "https://e/zh", "R", lang=("zh-CN",)),
    ]
    assert choose(links, "recipeInfo", accept_languages("zh-TW, en;q=0.5")) == links[1]
    assert choose(links, "recipeInfo", accept_languages("de")) == links[0]
    assert choose(links, "pip") is None


def test_accept_languages__weights_and_junk__best_first() -> None:
    assert accept_languages("ro;q=0.4, zh-CN, en;q=0.8, *;q=0.1, fr;q=0, x;q=bad") == ["zh", "en", "ro"]


def test_passed_on__link_type_removed__other_pairs_kept_in_order() -> None:
    assert passed_on("17=271231&linkType=gs1%3Apip&foo=bar&link%54ype=x") == "17=271231&foo=bar"
    assert with_query("https://b.example/x?a=1#top", "foo=bar") == "https://b.example/x?a=1&foo=bar#top"
    assert with_query("https://b.example/x", "") == "https://b.example/x"


def test_link_types__one_table__camel_case_names_with_descriptions() -> None:
    assert {"pip", "defaultLink", "recallStatus", "traceability", "certificationInfo"} <= set(LINK_TYPES)
    assert all(name[0].islower() and name.isalnum() and text for name, text in LINK_TYPES.items())
