"""web/lotdata: the lot details a page shows, from the metadata alone: the origin as a sentence,
each certificate as a named document, and every text capped (the brand writes any JSON it likes)."""

from __future__ import annotations

from typing import Any

from supplytrace.web.lotdata import FACT_LINES, TEXT_LIMIT, Certificate, facts

SHA = "9f2c5d1e7a0b4c3d8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"


def _fact(document: dict[str, Any], label: str) -> Any:
    return next(f for f in facts(document) if f.label == label)


def test_facts__structured_origin__a_sentence_with_the_country_s_name_then_other_keys() -> None:
    origin = {"country": "RO", "region": "Banat", "apiary": "Hillside #3"}
    assert _fact({"origin": origin, "harvestDate": "2026-07-14"}, "Origin").lines == [
        "Harvested in Banat, Romania",
        "Apiary: Hillside #3",
    ]
    produced = {"origin": {"locality": "Timișoara", "country": "ro"}, "productionDate": "2026-07-01"}
    assert _fact(produced, "Origin").lines == ["Produced in Timișoara, Romania"]
    assert _fact({"origin": {"region": "Banat"}}, "Origin").lines == ["From Banat"]


def test_facts__origin_unknown_country_code_or_plain_text_or_list__shown_as_given() -> None:
    assert _fact({"origin": {"country": "XX", "region": "Banat"}}, "Origin").lines == ["From Banat, XX"]
    assert _fact({"origin": "Banat, RO"}, "Origin").lines == ["Banat, RO"]
    two = {"origin": [{"country": "RO"}, {"country": "HU", "region": {"name": "Csongrád"}}]}
    assert _fact(two, "Origin").lines == ["From Romania", "From Hungary", "Region: name: Csongrád"]


def test_facts__certificate_with_name_hash_and_url__named_document_short_fingerprint_and_link() -> None:
    document = {
        "certificates": [{"name": "EU organic", "sha256": SHA.upper(), "url": "https://cert.example/1"}]
    }
    fact = _fact(document, "Certificates")
    assert fact.lines == []
    assert fact.certificates == [
        Certificate(
            name="EU organic",
            sha256=SHA,
            fingerprint="9f2c5d1e…1c2d",
            url="https://cert.example/1",
            host="cert.example",
            notes=[],
        )
    ]


def test_facts__certificate_without_a_name__named_by_its_type_other_keys_as_notes() -> None:
    document = {"certificates": [{"type": "lab-test", "lab": "Apis Lab, Timișoara", "sha256": SHA}]}
    (certificate,) = _fact(document, "Certificates").certificates
    assert (certificate.name, certificate.fingerprint) == ("Lab test", "9f2c5d1e…1c2d")
    assert certificate.notes == ["Lab: Apis Lab, Timișoara"]
    (plain,) = _fact({"certificates": "EU organic"}, "Certificates").certificates
    assert (plain.name, plain.sha256, plain.url) == ("EU organic", None, None)


def test_facts__certificate_url_not_a_web_address__text_never_a_link() -> None:
    for url in (
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://cert.example/1",
        "https://",
        "https://a b",
    ):
        (certificate,) = _fact({"certificates": [{"name": "X", "url": url}]}, "Certificates").certificates
        assert certificate.url is None and certificate.host is None, url
        assert certificate.notes == [f"Link (not a web address, so not opened): {url}"], url


def test_facts__certificate_hash_not_64_hex_digits__text_without_a_fingerprint() -> None:
    for sha in ("abc", SHA + "0", "z" * 64, 12):
        (certificate,) = _fact({"certificates": [{"name": "X", "sha256": sha}]}, "Certificates").certificates
        assert certificate.sha256 is None and certificate.fingerprint is None, sha
        assert certificate.notes == [f"SHA-256 (not a valid fingerprint): {sha}"], sha


def test_facts__10000_character_texts_keys_and_lists__capped() -> None:
    huge = "x" * 10_000
    document = {
        "product": huge,
        huge: "value",
        "origin": {"region": huge, "country": huge},
        "certificates": [{"name": huge, "url": "https://cert.example/" + huge, "sha256": huge}] * 100,
        "lots": list(range(1000)),
    }
    shown = facts(document)
    for fact in shown:
        assert len(fact.label) <= TEXT_LIMIT
        assert len(fact.lines) <= FACT_LINES + 1 and len(fact.certificates) <= FACT_LINES
        for line in fact.lines:
            assert len(line) <= 2 * TEXT_LIMIT + 20, fact.label
        for certificate in fact.certificates:
            assert len(certificate.name) <= TEXT_LIMIT
            assert certificate.url is None  # a link too long to show whole is not a link
            assert all(len(note) <= TEXT_LIMIT + 60 for note in certificate.notes)
    assert _fact(document, "Lots").lines[-1] == f"… and {1000 - FACT_LINES} more"


def test_facts__bidi_override_and_control_characters__dropped_or_made_visible() -> None:
    (line,) = _fact({"product": "Honey\u202e\x1b[2J"}, "Product").lines
    assert line == "Honey\u241b[2J"
