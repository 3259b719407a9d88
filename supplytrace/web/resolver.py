"""The page as a GS1-Conformant Resolver (GS1 Conformant Resolver standard 1.2, checked by GS1's
GS1DL-resolver-testsuite): the link types it knows, Digital Link paths in their canonical form,
and the links of a resolved key as an RFC 9264 linkset and an RFC 8288 ``Link`` header.

Nothing here reads the chain or the request: ``web.routes.resolver`` answers requests with it.
How a brand adds links of its own: ``web.resolver_links`` and ``docs/resolver.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from supplytrace.core.ids import IdentityError, ItemKey, normalize_gtin, normalize_sscc
from supplytrace.web.i18n import preferences

#: The GS1 Web Vocabulary: a link type ``gs1:pip`` is the relation ``https://gs1.org/voc/pip``.
GS1_VOC = "https://gs1.org/voc/"
#: Where the vocabulary also publishes its terms (accepted as a ``linkType`` too).
GS1_VOC_REF = "https://ref.gs1.org/voc/"
#: The link types of the GS1 Web Vocabulary this resolver knows, and what each links to: the one
#: table of them (a brand's links file may name any but ``defaultLink``; ``web.resolver_links``).
LINK_TYPES: dict[str, str] = {
    "pip": "Product information page",
    "defaultLink": "The default link",
    "recallStatus": "Recall status",
    "traceability": "Traceability information",
    "certificationInfo": "Certification information",
    "productSustainabilityInfo": "Product sustainability information",
    "sustainabilityInfo": "Sustainability information",
    "recipeInfo": "Recipes",
    "ingredientsInfo": "Ingredients",
    "allergenInfo": "Allergen information",
    "nutritionalInfo": "Nutritional information",
    "instructions": "Instructions",
    "safetyInfo": "Safety information",
    "consumerHandlingStorageInfo": "Handling and storage",
    "epil": "Electronic patient information leaflet",
    "homepage": "Home page",
    "brandHomepageClinical": "Brand home page for clinicians",
    "brandHomepagePatient": "Brand home page for patients",
    "faqs": "Frequently asked questions",
    "registerProduct": "Register the product",
    "review": "Reviews",
    "leaveReview": "Leave a review",
    "relatedVideo": "Related video",
    "relatedImage": "Related image",
    "socialMedia": "Social media",
    "promotion": "Promotion",
    "support": "Support",
    "serviceInfo": "Service information",
    "whatsInTheBox": "What is in the box",
    "tutorial": "Tutorial",
    "quickStartGuide": "Quick start guide",
    "userAgreement": "User agreement",
    "masterData": "Master data",
    "smartLabel": "SmartLabel",
    "dpp": "Digital product passport",
    "sds": "Safety data sheet",
    "logisticsInfo": "Logistics information",
    "verificationService": "Verification service",
    "epcis": "EPCIS repository",
}
#: ``linkType=linkset`` asks for every link (``all``: its name before the standard's version 1.2).
LINKSET_TYPES = ("linkset", "all")
LINKSET_MEDIA = "application/linkset+json"
#: The GS1 primary keys this resolver serves: GTIN (items, lots, products) and SSCC (cases, pallets).
PRIMARY_KEYS = ("01", "00")
#: Headers of every resolver answer: any site's script may read it (CORS), and its Link header.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language",
    "Access-Control-Expose-Headers": "Link, Location, Vary",
}
#: Paths the resolver answers (CORS, OPTIONS): the Digital Link primary keys and the description.
RESOLVER_PATHS = ("/01/", "/00/", "/.well-known/gs1resolver")
#: The resolver description file's path (standard section "Resolver description file").
DESCRIPTION_PATH = "/.well-known/gs1resolver"


def rel_uri(link_type: str) -> str:
    """The relation type URI of a known link type name: ``pip`` -> ``https://gs1.org/voc/pip``."""
    assert link_type in LINK_TYPES, link_type
    return GS1_VOC + link_type


def link_type_of(value: str | None) -> str | None:
    """The known link type a request's ``linkType`` names (``gs1:pip``, or the full URI in either
    of GS1's namespaces), ``"linkset"`` for a linkset, None for none or one we do not know (whose
    answer is the default link, as the standard says)."""
    if not value:
        return None
    text = value.strip()
    if text in LINKSET_TYPES:
        return "linkset"
    for prefix in ("gs1:", GS1_VOC, GS1_VOC_REF, GS1_VOC.replace("https:", "http:")):
        if text.startswith(prefix) and text[len(prefix) :] in LINK_TYPES:
            return text[len(prefix) :]
    return None


@dataclass(frozen=True)
class Link:
    """One link of a resolved key: its type (a :data:`LINK_TYPES` name), target and metadata."""

    type: str
    href: str
    title: str
    media: str = "text/html"
    lang: tuple[str, ...] = ("en",)

    def target(self) -> dict[str, Any]:
        """The link's target object in a linkset (RFC 9264 section 4.2.2)."""
        out: dict[str, Any] = {"href": self.href, "title": self.title, "type": self.media}
        if self.lang:
            out["hreflang"] = list(self.lang)
        return out

    def header(self) -> str:
        """The link as one RFC 8288 link-value (``title*`` in UTF-8 for a non-ASCII title)."""
        parts = [f"<{self.href}>", f'rel="{rel_uri(self.type)}"', f'title="{_quoted(self.title)}"']
        if not self.title.isascii():
            parts.append(f"title*=UTF-8''{quote(self.title, safe='')}")
        parts.append(f'type="{self.media}"')
        parts += [f'hreflang="{lang}"' for lang in self.lang]
        return "; ".join(parts)


def _quoted(text: str) -> str:
    """``text`` fit for a quoted-string in a header: ASCII only (``?`` for the rest), no quotes,
    backslashes or commas (GS1's test suite splits a Link header at every comma)."""
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\,' else "?" for c in text)


def with_default(links: Sequence[Link]) -> list[Link]:
    """``links`` and, after them, the default link (``gs1:defaultLink``): the first ``pip`` link,
    else the first link; the default link's target is one of the links."""
    if not links:
        return []
    first = next((link for link in links if link.type == "pip"), links[0])
    return [*links, Link("defaultLink", first.href, first.title, first.media, first.lang)]


def default_link(links: Sequence[Link]) -> Link | None:
    return next((link for link in with_default(links) if link.type == "defaultLink"), None)


def linkset(anchor: str, links: Iterable[Link]) -> dict[str, Any]:
    """The RFC 9264 JSON linkset of ``anchor`` (the canonical Digital Link URI): every link
    grouped by its relation type, in the order given."""
    context: dict[str, Any] = {"anchor": anchor}
    for link in links:
        context.setdefault(rel_uri(link.type), []).append(link.target())
    return {"linkset": [context]}


def linkset_body(anchor: str, links: Iterable[Link]) -> bytes:
    return json.dumps(linkset(anchor, links), ensure_ascii=False, indent=1).encode()


def link_header(links: Iterable[Link], linkset_href: str) -> str:
    """The ``Link`` header of a resolver answer: every link, and the linkset's own address
    (``rel="linkset"``, RFC 9264 section 6)."""
    values = [link.header() for link in links]
    values.append(f'<{linkset_href}>; rel="linkset"; type="{LINKSET_MEDIA}"; title="All links of this code"')
    return ", ".join(values)


def choose(links: Sequence[Link], link_type: str, languages: Sequence[str] = ()) -> Link | None:
    """The link of ``link_type`` to redirect to: the first in one of ``languages`` (the reader's,
    best first), else the first of that type; None if there is none."""
    found = [link for link in links if link.type == link_type]
    for lang in languages:
        for link in found:
            if any(tag.lower().split("-")[0] == lang for tag in link.lang):
                return link
    return found[0] if found else None


def accept_languages(header: str) -> list[str]:
    """The primary language tags of an ``Accept-Language`` header, best first (at most 8; read
    as the page reads it: :func:`supplytrace.web.i18n.preferences`)."""
    return preferences(header)[:8]


def passed_on(query: str) -> str:
    """The request's query string without its ``linkType`` pairs, passed on when redirecting
    (the standard: "SHALL pass on all key=value pairs in the query string")."""
    pairs = [p for p in query.split("&") if p and unquote(p.split("=", 1)[0]) != "linkType"]
    return "&".join(pairs)


def with_query(href: str, query: str) -> str:
    if not query:
        return href
    base, hash_mark, fragment = href.partition("#")
    return f"{base}{'&' if '?' in base else '?'}{query}{hash_mark}{fragment}"


def description(root: str, name: str) -> dict[str, Any]:
    """The resolver description file (``/.well-known/gs1resolver``) of a resolver at ``root``."""
    return {
        "name": name,
        "resolverRoot": root,
        "supportedPrimaryKeys": list(PRIMARY_KEYS),
        "supportedLinkType": [
            {"namespace": GS1_VOC, "prefix": "gs1:", "profile": "https://gs1.org/voc/?show=linktypes"}
        ],
        # The default link is always a page, never the linkset; no link has a context (no
        # supportedContextValuesEnumerated).
        "linkTypeDefaultCanBeLinkset": False,
    }


class DigitalLinkError(ValueError):
    """A path that is not a GS1 Digital Link this resolver can read; the message is one sentence."""


#: The GS1 Digital Link URI syntax's qualifiers of a GTIN, in the only order allowed.
GTIN_QUALIFIERS = ("22", "10", "21")


@dataclass(frozen=True)
class DigitalLink:
    """A GS1 Digital Link path read: its primary key (``01`` GTIN-14 or ``00`` SSCC) and a
    GTIN's qualifiers (consumer product variant, lot, serial); ``canonical``: it was written as
    :attr:`path` writes it (a GTIN of 14 digits)."""

    primary: str
    key: str
    variant: str | None = None
    lot: str | None = None
    serial: str | None = None
    canonical: bool = True

    @property
    def path(self) -> str:
        """The canonical path: ``/01/{gtin14}[/22/..][/10/{lot}][/21/{serial}]`` or ``/00/{sscc}``."""
        out = f"/{self.primary}/{self.key}"
        for ai, value in zip(GTIN_QUALIFIERS, (self.variant, self.lot, self.serial), strict=True):
            if value is not None:
                out += f"/{ai}/{quote(value, safe='')}"
        return out

    @property
    def item(self) -> ItemKey | None:
        """The item this link names (a GTIN and a serial), if it names one."""
        if self.primary != "01" or self.serial is None:
            return None
        return ItemKey(self.key, self.serial, self.lot)


def parse_path(path: str) -> DigitalLink:
    """Read a Digital Link path (percent-encoded, no query), ``/01/{gtin}[/22/..][/10/..][/21/..]``
    with a GTIN of 8, 12, 13 or 14 digits, or ``/00/{sscc}``; one trailing slash is tolerated.
    The syntax is checked by ``biip`` (GS1 Digital Link URI syntax), the check digits by
    ``core.ids``. Raises :class:`DigitalLinkError` with one sentence."""
    from biip import ParseError
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    if len(path) > 512:
        raise DigitalLinkError("The link is far longer than any GS1 Digital Link; scan the code again.")
    trimmed = path[:-1] if path.endswith("/") and len(path) > 1 else path
    primary, _, rest = trimmed.removeprefix("/").partition("/")
    if primary not in PRIMARY_KEYS:
        raise DigitalLinkError("This resolver reads only GTINs (/01/) and SSCCs (/00/).")
    try:
        parsed = GS1DigitalLinkURI.parse(PARSE_BASE + trimmed)
    except ParseError:
        raise DigitalLinkError(_SYNTAX[primary]) from None
    values = {es.ai.ai: es.value for es in parsed.element_strings}
    try:
        if primary == "00":
            return DigitalLink("00", normalize_sscc(values["00"]))
        key = rest.partition("/")[0]
        gtin = normalize_gtin(key)
    except IdentityError:
        raise DigitalLinkError(_CHECK_DIGIT[primary]) from None
    lot, serial = values.get("10"), values.get("21")
    return DigitalLink("01", gtin, values.get("22"), lot, serial, canonical=len(key) == 14)


#: The base the Digital Link parser is given for a path (never shown).
PARSE_BASE = "https://resolver.invalid"
_SYNTAX = {
    "01": (
        "This is not a GS1 Digital Link: after /01/<GTIN> may come only /22/<variant>, /10/<lot> and "
        "/21/<serial>, in that order, each value 1 to 20 characters of GS1's character set."
    ),
    "00": (
        "This is not a GS1 Digital Link: a case's or pallet's link is /00/ and its 18-digit SSCC, "
        "nothing more."
    ),
}
_CHECK_DIGIT = {
    "01": "The product code (GTIN) in the link must be 8, 12, 13 or 14 digits with a valid check digit.",
    "00": "The case's or pallet's code (GS1 SSCC) in the link must be 18 digits with a valid check digit.",
}
