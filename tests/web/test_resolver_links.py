"""supplytrace.web.resolver_links: a brand's links file, read and checked once at start; a
hostile or broken file gets one sentence naming the link and the fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from supplytrace.web.resolver import Link
from supplytrace.web.resolver_links import MAX_FILE_BYTES, MAX_LINKS_PER_KEY, ResolverLinksError, load_links

GTIN = "09506000134352"
GOOD = {"gtin": GTIN, "type": "gs1:certificationInfo", "href": "https://b.example/c", "title": "Certificate"}


def _write(tmp_path: Path, links: object, name: str = "links.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"links": links}), encoding="utf-8")
    return path


def test_load_links__toml_gtin_and_lot_entries__lot_first_then_gtin(tmp_path: Path) -> None:
    path = tmp_path / "links.toml"
    path.write_text(
        f'[[links]]\ngtin = "{GTIN[1:]}"\ntype = "gs1:recipeInfo"\nhref = "https://b.example/r"\n'
        'title = "Recipes"\n'
        f'\n[[links]]\ngtin = "{GTIN}"\nlot = "L1"\ntype = "https://gs1.org/voc/productSustainabilityInfo"\n'
        'href = "http://b.example/s"\ntitle = "Harvest"\nmedia = "application/pdf"\nlang = ["ro", "en"]\n',
        encoding="utf-8",
    )
    table = load_links(path)
    assert len(table) == 2 and table.has_lots(GTIN) and not table.has_lots("00000095060003")
    assert table.links(GTIN, "L1") == [
        Link("productSustainabilityInfo", "http://b.example/s", "Harvest", "application/pdf", ("ro", "en")),
        Link("recipeInfo", "https://b.example/r", "Recipes", "text/html", ()),
    ]
    assert [link.type for link in table.links(GTIN, "OTHER")] == ["recipeInfo"]
    assert table.links("00000095060003") == []


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({**GOOD, "href": "javascript:alert(1)"}, "http:// or https://"),
        ({**GOOD, "href": "https://b.example/a b"}, "printable ASCII"),
        ({**GOOD, "href": 'https://b.example/">'}, "printable ASCII"),
        ({**GOOD, "type": "gs1:noSuchType"}, "not a GS1 link type"),
        ({**GOOD, "type": "gs1:defaultLink"}, "not a GS1 link type"),
        ({**GOOD, "gtin": "09506000134353"}, "check digit"),
        ({**GOOD, "lot": "a lot"}, "82-character set"),
        ({**GOOD, "title": "x" * 201}, "longer than 200"),
        ({**GOOD, "title": "two\nlines"}, "one line"),
        ({**GOOD, "media": "html"}, "media type"),
        ({**GOOD, "lang": ["en", "<x>"]}, "language tag"),
        ({**GOOD, "color": "red"}, "unknown field 'color'"),
        ({k: v for k, v in GOOD.items() if k != "title"}, "title is missing"),
        ("https://b.example", "is a table"),
    ],
)
def test_load_links__hostile_entry__one_sentence_naming_the_link(
    tmp_path: Path, entry: object, words: str
) -> None:
    with pytest.raises(ResolverLinksError) as raised:
        load_links(_write(tmp_path, [GOOD, entry]))
    message = str(raised.value)
    assert ", link 2: " in message and words in message and "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ('{"links": {"gtin": 1}}', "list named links"),
        ('{"links": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests brackets more than 16 deep"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_load_links__broken_file__one_sentence(tmp_path: Path, content: str | bytes, words: str) -> None:
    path = tmp_path / "links.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ResolverLinksError, match=words):
        load_links(path)


def test_load_links__too_big_or_too_many__refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(ResolverLinksError, match="more than 1,000,000"):
        load_links(big)
    with pytest.raises(ResolverLinksError, match=f"more than {MAX_LINKS_PER_KEY} links"):
        load_links(_write(tmp_path, [GOOD] * (MAX_LINKS_PER_KEY + 1)))
    with pytest.raises(ResolverLinksError, match="cannot read"):
        load_links(tmp_path / "missing.toml")


def test_load_links__moved_gtins__old_to_new_in_14_digits(tmp_path: Path) -> None:
    path = tmp_path / "links.toml"
    path.write_text(f'[[moved]]\ngtin = "{GTIN[1:]}"\nto = "09506000134369"\n', encoding="utf-8")
    table = load_links(path)
    assert table.moved == {GTIN: "09506000134369"} and len(table) == 0


@pytest.mark.parametrize(
    ("moved", "words"),
    [
        ([{"gtin": GTIN, "to": GTIN}], "moved twice or to itself"),
        ([{"gtin": GTIN, "to": "09506000134369"}, {"gtin": GTIN, "to": "09506000134376"}], "moved twice"),
        (
            [{"gtin": GTIN, "to": "09506000134369"}, {"gtin": "09506000134369", "to": "09506000134376"}],
            "moves on",
        ),
        ([{"gtin": GTIN, "to": "09506000134368"}], "moved 1: "),  # a wrong check digit
        ([{"gtin": GTIN, "to": "09506000134369", "lot": "L1"}], "give exactly gtin"),
        ({"gtin": GTIN}, "moved must be a list"),
    ],
)
def test_load_links__hostile_moved__one_sentence(tmp_path: Path, moved: object, words: str) -> None:
    path = tmp_path / "links.json"
    path.write_text(json.dumps({"moved": moved}), encoding="utf-8")
    with pytest.raises(ResolverLinksError, match=re.escape(words)):
        load_links(path)
