"""GS1's resolver conformance checks (GS1 Conformant Resolver 1.2, as the suite
gs1/GS1DL-resolver-testsuite runs them: Conformance1_2.txt and GS1DigitalLinkResolverTestSuite.js)
run against the page on the demo's chain. Each test names the check it stands for: its statement,
quoted short, and the suite's id where it has one. Checks that do not apply in-process (HTTPS:
TLS is the deployment's proxy's; the HTTP version: uvicorn speaks 1.1) and those the page does
not meet (decompression: ``docs/resolver.md``) are said so in their tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from biip.checksums import gs1_standard_check_digit

from supplytrace.core.ids import encode_code, item_id, sscc_with_check_digit
from supplytrace.demo import HONEY_GTIN, LOT_CODE
from supplytrace.web.resolver import GS1_VOC, LINKSET_MEDIA
from supplytrace.web.resolver_links import load_links
from tests.web.conftest import BASE, TestClient, World, banner_of

PREFIX = 9506000  # HONEY_GTIN's company prefix
CERTIFICATE = "https://brand.example/certificates/organic"
SUSTAINABILITY = "https://brand.example/lots/acacia-2026-07/sustainability?src=qr"
RECIPE_EN, RECIPE_ZH = "https://brand.example/en/recipes", "https://brand.example/zh/recipes"
LINKS_FILE = f"""
[[links]]
gtin = "{HONEY_GTIN.lstrip("0")}"
type = "gs1:certificationInfo"
href = "{CERTIFICATE}"
title = "Organic certificate"

[[links]]
gtin = "{HONEY_GTIN}"
type = "gs1:recipeInfo"
href = "{RECIPE_EN}"
title = "Recipes with acacia honey"
lang = "en"

[[links]]
gtin = "{HONEY_GTIN}"
type = "https://gs1.org/voc/recipeInfo"
href = "{RECIPE_ZH}"
title = "蜂蜜食谱"
lang = ["zh"]

[[links]]
gtin = "{HONEY_GTIN}"
lot = "{LOT_CODE}"
type = "gs1:productSustainabilityInfo"
href = "{SUSTAINABILITY}"
title = "How this harvest was made"
media = "text/html"
"""


@dataclass(frozen=True)
class Links:
    """A Link header read as the suite reads it: split at commas, each value's parts by regex."""

    values: list[dict[str, str]]

    @classmethod
    def of(cls, header: str) -> Links:
        out = []
        for value in header.split(","):
            href = value[value.index("<") + 1 : value.index(">")]
            fields = dict(re.findall(r'(\w+)="(.*?)"', value))
            out.append({"href": href, **fields})
        return cls(out)

    def of_rel(self, rel: str) -> list[dict[str, str]]:
        return [v for v in self.values if v.get("rel") == rel]


@pytest.fixture(scope="module")
def resolver(make_client: Callable[..., TestClient], tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The page with a brand's links file (a GTIN's certificate and recipes, a lot's sustainability)."""
    path = Path(tmp_path_factory.mktemp("resolver")) / "links.toml"
    path.write_text(LINKS_FILE, encoding="utf-8")
    return make_client(resolver_links=load_links(path))


@pytest.fixture(scope="module")
def case(world: World, accounts: Any) -> str:
    """A case (SSCC) holding one jar."""
    world.registry.assignCompanyPrefix(PREFIX, 7, accounts[1], sender=accounts[0])
    world.registry.registerItems(world.story.lot_id, [encode_code("RESOLVE1")], sender=accounts[1])
    code = sscc_with_check_digit(f"0{PREFIX}000000071")
    world.registry.pack(int(code), [item_id(HONEY_GTIN, "RESOLVE1")], sender=accounts[1])
    return code


def _item(world: World, case: str = "genuine") -> str:
    key = world.key(case)
    return f"/01/{key.gtin}/21/{key.serial}"


def _with_lot(world: World) -> str:
    key = world.key("genuine")
    return f"/01/{key.gtin}/10/{LOT_CODE}/21/{key.serial}"


def _paths(world: World, case: str) -> list[str]:
    """A code of each level: an item (with and without its lot), a lot, a case."""
    return [_item(world), _with_lot(world), f"/01/{HONEY_GTIN}/10/{LOT_CODE}", f"/00/{case}"]


# -- SHALL support HTTP 1.1 (or higher) GET, HEAD and OPTIONS requests (suite: methodsCheck) --------


def test_methods__get_head_options__each_answered(resolver: TestClient, world: World, case: str) -> None:
    """ "SHALL support HTTP 1.1 (or higher) GET, HEAD and OPTIONS requests." (methodsCheck)"""
    for path in _paths(world, case):
        got = resolver.get(path)
        assert got.status_code == 200, path
        assert {m.strip() for m in got.headers["access-control-allow-methods"].split(",")} >= {
            "GET",
            "HEAD",
            "OPTIONS",
        }
        head = resolver.head(path)
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["link"] == got.headers["link"], path
        options = resolver.options(path)
        assert options.status_code == 204, path
        assert {m.strip() for m in options.headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}


# -- SHALL support CORS (suite: corsCheck) -----------------------------------------------------------


def test_cors__page_error_linkset_description_and_preflight__any_origin(
    resolver: TestClient, world: World
) -> None:
    """ "SHALL support CORS" (corsCheck): every resolver answer, errors included, and a preflight."""
    origin = {"Origin": "https://app.example"}
    for path in (
        _item(world),
        _item(world) + "/foo",
        _item(world) + "?linkType=linkset",
        "/.well-known/gs1resolver",
    ):
        answer = resolver.get(path, headers=origin)
        assert answer.headers["access-control-allow-origin"] == "*", path
        assert "Link" in answer.headers["access-control-expose-headers"], path
    preflight = resolver.options(
        _item(world),
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Accept" in preflight.headers["access-control-allow-headers"]


def test_https__in_process__not_applicable(resolver: TestClient) -> None:
    """ "SHALL support HTTP Over TLS (HTTPS)" (isHttps, tlsOK): TLS is the deployment's (a proxy in
    front of `supplytrace serve`); the page names its root from SUPPLYTRACE_RESOLVER, https:// in
    production. Here: the description file's root is the configured base."""
    assert resolver.get("/.well-known/gs1resolver").json()["resolverRoot"] == BASE


# -- Compression (suite: validDecompressCheck, exposeDecompressedLink) -------------------------------


def test_compressed_link__no_maintained_decompressor__400_with_a_sentence(resolver: TestClient) -> None:
    """ "SHALL be able to decompress a URI to generate a GS1 Digital Link URI" and "SHALL expose
    the uncompressed URI in the Link response header with a rel value of owl:sameAs": NOT MET.
    No maintained Python library decompresses GS1 compressed links (biip does not; PyPI's
    gs1-compression was last released in 2021), so a compressed link gets a 400 saying so."""
    answer = resolver.get("/AQnYUc1gBcEEKzwdhQ")
    assert answer.status_code == 400
    assert "compressed GS1 Digital Link" in answer.text
    assert resolver.get("/no-such.page").status_code == 404  # other unknown paths stay 404


# -- SHALL ... syntactically validate the URI ... 400; SHALL NOT use a 200 OK for an error ----------


@pytest.mark.parametrize(
    "tail",
    ["/foo", "/10/LOT", "/21/TWICE"],
    ids=["extra-segment", "qualifier-out-of-order", "qualifier-twice"],
)
def test_syntax_error__appended_to_a_valid_link__400_never_200(
    resolver: TestClient, world: World, tail: str
) -> None:
    """ "SHALL extract and syntactically validate the URI ..., and report errors with an HTTP
    response code of 400." (reportWith400: the suite appends /foo) and "SHALL NOT use a 200 OK
    response code with a resource that indicates an error condition" (noErrorWith200)."""
    for path in (_item(world) + tail, _with_lot(world) + tail):
        answer = resolver.get(path)
        assert answer.status_code == 400, path
        assert banner_of(answer.text)[0] == "error-400"
    assert resolver.get(f"/00/{sscc_with_check_digit('1' * 17)}/21/X").status_code in (400, 404)


def test_error_conditions__unknown_item_lot_product__never_200(resolver: TestClient, world: World) -> None:
    """ "SHALL NOT use a 200 OK response code with a resource that indicates an error condition":
    an item no brand registered, a lot no brand registered, a case never packed: 404."""
    for path in (
        _item(world, "unknown"),
        f"/01/{HONEY_GTIN}/10/NOPE",
        f"/00/{sscc_with_check_digit('0' + '9' * 16)}",
    ):
        assert resolver.get(path).status_code == 404, path


# -- linkType=linkset (RFC 9264), links from every level up to the primary key -----------------------


def test_linkset__item_with_lot__rfc9264_with_every_level(resolver: TestClient, world: World) -> None:
    """ "SHALL respond to a query parameter of linkType set to linkset by returning a list of links
    ... as per Linkset: Media Types ... any links associated with each level up to the primary key
    SHALL be included. The URI used as the subject ... SHALL be the uncompressed version." """
    key = world.key("genuine")
    for path, headers in (
        (_item(world) + "?linkType=linkset", {}),
        (_item(world), {"Accept": LINKSET_MEDIA}),
    ):
        answer = resolver.get(path, headers=headers)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == LINKSET_MEDIA
        (context,) = answer.json()["linkset"]
        assert context["anchor"] == f"{BASE}/01/{key.gtin}/21/{key.serial}"
        for rel in ("pip", "recallStatus", "traceability", "defaultLink"):
            assert context[GS1_VOC + rel], rel
        assert context[GS1_VOC + "pip"][0] == {
            "href": context["anchor"],
            "title": "Verification page of this item: genuine or not and where it has been",
            "type": "text/html",
            "hreflang": ["en"],
        }
        assert context[GS1_VOC + "traceability"][0]["href"] == f"{BASE}/api/items/{key.id_hex}"
        # The GTIN's links, and its lot's (the item's lot, which this link does not name).
        assert [t["href"] for t in context[GS1_VOC + "certificationInfo"]] == [CERTIFICATE]
        assert [t["href"] for t in context[GS1_VOC + "productSustainabilityInfo"]] == [SUSTAINABILITY]
        assert [t["href"] for t in context[GS1_VOC + "recipeInfo"]] == [RECIPE_EN, RECIPE_ZH]
        for targets in (v for k, v in context.items() if k != "anchor"):
            assert all(t["href"] and t["title"] for t in targets)


def test_linkset__lot_product_and_case__own_levels_only(
    resolver: TestClient, world: World, case: str
) -> None:
    """Links "from every level up to the primary key": a lot gets its own and its GTIN's links, a
    GTIN alone only its own, and a case its page and history."""
    lot = resolver.get(f"/01/{HONEY_GTIN}/10/{LOT_CODE}?linkType=linkset").json()["linkset"][0]
    assert GS1_VOC + "productSustainabilityInfo" in lot and GS1_VOC + "certificationInfo" in lot
    assert lot[GS1_VOC + "traceability"][0]["href"] == f"{BASE}/api/lots/{world.story.lot_id}"
    product = resolver.get(f"/01/{HONEY_GTIN}?linkType=linkset").json()["linkset"][0]
    assert GS1_VOC + "productSustainabilityInfo" not in product and GS1_VOC + "pip" not in product
    assert product[GS1_VOC + "defaultLink"][0]["href"] == CERTIFICATE
    box = resolver.get(f"/00/{case}?linkType=linkset").json()["linkset"][0]
    assert box["anchor"] == f"{BASE}/00/{case}"
    assert box[GS1_VOC + "traceability"][0]["href"] == f"{BASE}/api/containers/{case}"


def test_linkset__asked_as_json__json_with_vary_accept(resolver: TestClient, world: World) -> None:
    """ "The list SHALL be available as JSON ... served through content negotiation" (listAsJSON,
    varyAccept; the suite's linkType=all is the name before 1.2). JSON-LD (listAsJSONLD, a
    SHOULD) is not offered."""
    answer = resolver.get(_item(world) + "?linkType=all", headers={"Accept": "application/json"})
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["linkset"][0]["anchor"].endswith(_item(world))
    assert "Accept" in [v.strip() for v in answer.headers["vary"].split(",")]


# -- Link header: metadata of every link, the linkset, on redirects too -------------------------------


def test_link_header__every_answer__target_type_and_title_of_each_link(
    resolver: TestClient, world: World, case: str
) -> None:
    """ "All links exposed SHALL include the target URL, the link relationship type (the link
    type) and a human-readable title" (linkMetadata), read as the suite reads the header."""
    for path in _paths(world, case):
        links = Links.of(resolver.get(path).headers["link"])
        for value in links.values:
            assert re.match(r"https?://", value["href"]), (path, value)
            assert value["rel"] and value["title"], (path, value)
        assert links.of_rel("linkset")[0]["href"].endswith("?linkType=linkset")
        assert links.of_rel(GS1_VOC + "defaultLink"), path


def test_link_header__redirecting__links_and_linkset_exposed(resolver: TestClient, world: World) -> None:
    """ "SHOULD expose link to the linkset in an HTTP Link header, even when redirecting."
    (linkOnRedirect)"""
    answer = resolver.get(_item(world) + "?linkType=gs1:certificationInfo")
    assert answer.status_code == 307
    links = Links.of(answer.headers["link"])
    assert links.of_rel("linkset") and links.of_rel(GS1_VOC + "certificationInfo")


# -- The default link; redirects to a requested link type; the query string passed on ----------------


def test_default_link__one_per_code__the_verification_page(
    resolver: TestClient, world: World, case: str
) -> None:
    """ "SHALL recognise one available link as the default for any given request URI" and "SHALL
    redirect to the default link unless ..." (defaultLinkSet): one gs1:defaultLink, one of the
    links; for an item, lot or case it is the page at the link itself, served there (no
    redirect to itself); for a GTIN alone, the brand's first link (307)."""
    for path in _paths(world, case):
        links = Links.of(resolver.get(path).headers["link"])
        (default,) = links.of_rel(GS1_VOC + "defaultLink")
        assert default["href"] in [v["href"] for v in links.of_rel(GS1_VOC + "pip")]
        assert default["href"] == BASE + path
    product = resolver.get(f"/01/{HONEY_GTIN}?foo=bar")
    assert (product.status_code, product.headers["location"]) == (307, f"{CERTIFICATE}?foo=bar")


def test_link_type__each_link_in_the_header__redirects_to_its_target(
    resolver: TestClient, world: World, case: str
) -> None:
    """ "SHALL redirect to the requested linkType if available" (the suite's link0, link1, ...:
    every link of the Link header asked for by its rel). A link whose target is the page at
    the link itself (gs1:pip, gs1:recallStatus, gs1:defaultLink) is served there: a redirect
    to itself would be a loop. rel="linkset" answers the linkset (RFC 9264), not a redirect.
    Links of one type in several languages are asked for in the link's language."""
    for path in _paths(world, case):
        links = Links.of(resolver.get(path).headers["link"])
        for value in links.values:
            if value["rel"] == "linkset":
                continue
            # Two links of one type (recipes in English and Chinese) differ by their language.
            language = {"Accept-Language": value.get("hreflang", "en")}
            answer = resolver.get(path, params={"linkType": value["rel"]}, headers=language)
            if value["href"] == BASE + path:
                assert answer.status_code == 200, (path, value)
            else:
                assert answer.status_code == 307, (path, value)
                assert answer.headers["location"].split("?")[0] == value["href"].split("?")[0]


def test_link_type__gs1_prefix_or_vocabulary_uri__same_target(resolver: TestClient, world: World) -> None:
    """ "SHALL recognise the GS1 Web vocabulary namespace": gs1:X, https://gs1.org/voc/X and
    https://ref.gs1.org/voc/X name the same link type."""
    for name in (
        "gs1:certificationInfo",
        GS1_VOC + "certificationInfo",
        "https://ref.gs1.org/voc/certificationInfo",
    ):
        answer = resolver.get(_item(world), params={"linkType": name})
        assert (answer.status_code, answer.headers["location"]) == (307, CERTIFICATE), name


def test_link_type__reader_s_language__link_in_that_language(resolver: TestClient, world: World) -> None:
    """Links matched against the request: of two gs1:recipeInfo links, the reader's language."""
    path = _item(world) + "?linkType=gs1:recipeInfo"
    assert resolver.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).headers["location"] == RECIPE_ZH
    assert resolver.get(path, headers={"Accept-Language": "ro, en;q=0.5"}).headers["location"] == RECIPE_EN


def test_link_type__unknown_or_not_available__default_link(resolver: TestClient, world: World) -> None:
    """ "SHALL redirect to the default link unless there is information in the request that can be
    matched against available link metadata": a link type nobody knows, or one this item lacks."""
    for link_type in ("gs1:noSuchType", "gs1:smpc", "https://example.com/voc/x", ""):
        answer = resolver.get(_item(world), params={"linkType": link_type})
        assert answer.status_code == 200, link_type
        assert banner_of(answer.text)[0] == "genuine", link_type


def test_query_string__redirecting__every_pair_passed_on(resolver: TestClient, world: World) -> None:
    """ "By default, SHALL pass on all key=value pairs in the query string of the request URI (if
    present) when redirecting" (qsPassedOn: the suite adds ?foo=bar)."""
    answer = resolver.get(_with_lot(world) + "?linkType=gs1:productSustainabilityInfo&foo=bar&17=271231")
    assert answer.status_code == 307
    assert answer.headers["location"] == f"{SUSTAINABILITY}&foo=bar&17=271231"
    answer = resolver.get(_item(world) + "?foo=bar&linkType=gs1:certificationInfo")
    assert answer.headers["location"] == f"{CERTIFICATE}?foo=bar"


# -- The resolver description file (suite: rdFile) ---------------------------------------------------


def test_description_file__well_known_path__root_keys_and_link_types(resolver: TestClient) -> None:
    """ "SHALL provide a resolver description file at /.well-known/gs1resolver." (rdFile: a
    resolverRoot URL and supportedPrimaryKeys)"""
    answer = resolver.get("/.well-known/gs1resolver", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    assert re.match(r"^https?://[^/?#]+", body["resolverRoot"])
    assert body["supportedPrimaryKeys"] == ["01", "00"]
    assert body["supportedLinkType"] == [
        {"namespace": GS1_VOC, "prefix": "gs1:", "profile": "https://gs1.org/voc/?show=linktypes"}
    ]
    assert body["linkTypeDefaultCanBeLinkset"] is False
    assert body["name"]
    assert resolver.head("/.well-known/gs1resolver").status_code == 200
    assert resolver.options("/.well-known/gs1resolver").status_code == 204


def test_handled_by__no_delegation__not_applicable(resolver: TestClient, world: World) -> None:
    """ "If supporting redirection based on an MO or Global Company Prefix ..., redirections SHALL
    be annotated with the gs1:handledBy link type": the page delegates nothing, so no handledBy."""
    assert "handledBy" not in resolver.get(_item(world)).headers["link"]


# -- SHOULD tolerate trailing slashes (suite: trailingSlash) -----------------------------------------


def test_trailing_slash__every_level__same_answer(resolver: TestClient, world: World, case: str) -> None:
    """ "SHOULD tolerate trailing slashes at the end of GS1 Digital Link URIs": the same status and
    Location with and without one."""
    for path in [*_paths(world, case), f"/01/{HONEY_GTIN}"]:
        for query in ("", "?linkType=gs1:certificationInfo"):
            plain, slash = resolver.get(path + query), resolver.get(path + "/" + query)
            assert plain.status_code == slash.status_code, path + query
            assert plain.headers.get("location") == slash.headers.get("location"), path + query


# -- Digital Link forms (GS1 Digital Link URI syntax 1.2) --------------------------------------------


def test_gtin13__item_link__301_to_the_14_digit_link_query_kept(resolver: TestClient, world: World) -> None:
    """A GTIN of 8, 12 or 13 digits is the same GTIN as its 14 digits with leading zeros: a
    permanent redirect to the canonical 14-digit form, the query string kept."""
    key = world.key("genuine")
    answer = resolver.get(f"/01/{key.gtin[1:]}/10/{LOT_CODE}/21/{key.serial}?17=271231&linkType=linkset")
    assert answer.status_code == 301
    assert (
        answer.headers["location"]
        == f"/01/{key.gtin}/10/{LOT_CODE}/21/{key.serial}?17=271231&linkType=linkset"
    )
    assert resolver.get(answer.headers["location"]).status_code == 200


@pytest.mark.parametrize("body", ["9506000", "01234567890"], ids=["GTIN-8", "GTIN-12"])
def test_gtin8_or_12__unregistered_item__301_to_14_digits_then_404(resolver: TestClient, body: str) -> None:
    gtin = body + str(gs1_standard_check_digit(body))
    answer = resolver.get(f"/01/{gtin}/21/X1")
    assert (answer.status_code, answer.headers["location"]) == (301, f"/01/{gtin.zfill(14)}/21/X1")
    assert resolver.get(answer.headers["location"]).status_code == 404


def test_data_attributes__in_the_query__ignored_for_the_item(resolver: TestClient, world: World) -> None:
    """Data attributes (17=expiry, 11=production date) and other parameters in the query string
    do not change which item is resolved."""
    plain = resolver.get(_with_lot(world))
    with_attributes = resolver.get(_with_lot(world) + "?17=271231&11=260714&utm_source=label")
    assert plain.status_code == with_attributes.status_code == 200
    assert banner_of(plain.text) == banner_of(with_attributes.text)


# -- Old links keep resolving when a brand re-issues its codes (issue #15) ---------------------------

OLD_GTIN = "0950600099999" + str(gs1_standard_check_digit("0950600099999"))  # never registered
OTHER = "0950600088888" + str(gs1_standard_check_digit("0950600088888"))


def _moved_client(make_client: Callable[..., TestClient], folder: Path, old: str, new: str) -> TestClient:
    path = folder / f"moved-{old}.toml"
    path.write_text(f'[[moved]]\ngtin = "{old}"\nto = "{new}"\n', encoding="utf-8")
    return make_client(resolver_links=load_links(path))


def test_moved_gtin__old_printed_links__301_to_the_new_gtin_then_the_item(
    make_client: Callable[..., TestClient], world: World, tmp_path: Path
) -> None:
    """A brand corrected its GTIN: labels printed with the old one keep resolving, each level to
    the same code under the new GTIN (permanently, the query string kept)."""
    client = _moved_client(make_client, tmp_path, OLD_GTIN, HONEY_GTIN)
    key = world.key("genuine")
    old = f"/01/{OLD_GTIN}/10/{LOT_CODE}/21/{key.serial}?17=271231"
    answer = client.get(old)
    assert answer.status_code == 301
    assert answer.headers["location"] == f"/01/{HONEY_GTIN}/10/{LOT_CODE}/21/{key.serial}?17=271231"
    page = client.get(answer.headers["location"])
    assert page.status_code == 200 and banner_of(page.text)[0] == "genuine"
    for level in (f"/01/{OLD_GTIN}/10/{LOT_CODE}", f"/01/{OLD_GTIN}", f"/01/{OLD_GTIN[1:]}/21/{key.serial}"):
        answer = client.get(level)
        if answer.status_code == 301 and answer.headers["location"].startswith(f"/01/{OLD_GTIN}"):
            answer = client.get(answer.headers["location"])  # the 13-digit form: 14 digits first
        assert answer.status_code == 301 and answer.headers["location"].startswith(f"/01/{HONEY_GTIN}")


def test_moved_gtin__code_registered_under_the_old_gtin__the_chain_wins(
    make_client: Callable[..., TestClient], world: World, tmp_path: Path
) -> None:
    """A links file cannot take a registered item or lot away from its page: only codes that
    name nothing on the chain follow the move."""
    client = _moved_client(make_client, tmp_path, HONEY_GTIN, OTHER)
    key = world.key("genuine")
    page = client.get(f"/01/{HONEY_GTIN}/21/{key.serial}")
    assert page.status_code == 200 and banner_of(page.text)[0] == "genuine"
    assert client.get(f"/01/{HONEY_GTIN}/10/{LOT_CODE}").status_code == 200
    unknown = client.get(f"/01/{HONEY_GTIN}/21/NEVER-REGISTERED")
    assert (unknown.status_code, unknown.headers["location"]) == (301, f"/01/{OTHER}/21/NEVER-REGISTERED")
