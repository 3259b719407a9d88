"""Built for phones in a shop: small server-rendered HTML, no script, landmarks, one h1, balanced
markup, readable contrast, and headers that keep a stale status off the screen."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from supplytrace.web.render import CSS
from tests.web.conftest import BASE, TestClient, World

VOID = {"meta", "link", "br", "input", "img", "hr"}


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def _pages(client: TestClient, world: World) -> dict[str, tuple[int, str]]:
    paths = {item.case: item.key.digital_link(BASE)[len(BASE) :] for item in world.story.items}
    sale = world.history().item_history(world.key("sold").id)[-1].tx_hash
    paths |= {
        "lot": f"/lot/{world.story.recalled_lot_id}",
        "tx": f"/tx/{sale}",
        "address": f"/address/{world.registry.address}",
        "home": "/",
        "bad code": "/01/123/21/%FF",
        "not found": "/no/such/page",
    }
    out = {}
    for name, path in paths.items():
        response = client.get(path)
        out[name] = (response.status_code, response.text)
        assert response.headers["content-type"] == "text/html; charset=utf-8", name
        assert "script-src" not in response.headers["content-security-policy"], name
        assert response.headers["x-content-type-options"] == "nosniff", name
    return out


def test_render_every_page__structure__lang_viewport_landmarks_one_h1_no_script(
    client: TestClient, world: World
) -> None:
    for name, (_status, page) in _pages(client, world).items():
        assert_accessible(name, page)


def assert_accessible(name: str, page: str) -> None:
    """The structure every page keeps: lang, viewport, no script, balanced markup, one of each
    landmark, one h1, no skipped heading level, alt texts and labelled inputs."""
    assert page.startswith('<!doctype html>\n<html lang="en">'), name
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page, name
    assert "<script" not in page.lower(), name
    outline = _Outline()
    outline.feed(page)
    assert outline.problems == [] and outline.stack == [], (name, outline.problems, outline.stack)
    tags = [tag for tag, _ in outline.tags]
    for landmark in ("header", "main", "footer"):
        assert tags.count(landmark) == 1, (name, landmark)
    assert outline.headings.count(1) == 1, name
    assert all(b - a <= 1 for a, b in zip(outline.headings, outline.headings[1:], strict=False)), name
    for tag, attrs in outline.tags:
        if tag == "img":
            assert attrs.get("alt"), name
        if tag == "input":
            assert any(t == "label" and a.get("for") == attrs.get("id") for t, a in outline.tags), name


def test_render_item_page__size__fits_a_slow_phone_connection(client: TestClient, world: World) -> None:
    for item in world.story.items:
        response = client.get(item.key.digital_link(BASE)[len(BASE) :])
        assert len(response.content) < 40_000, item.case  # one request: the stylesheet is inline


def test_render_item_page__headers__never_cached_and_nothing_external(
    client: TestClient, world: World
) -> None:
    response = client.get(world.key("genuine").digital_link(BASE)[len(BASE) :])
    assert response.headers["cache-control"] == "no-store"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'sha256-" in csp
    assert response.headers["referrer-policy"] == "same-origin"
    assert not re.search(r'(src|href)="(https?:)?//(?!testserver)', response.text)


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_stylesheet_colours__every_text_pair__contrast_at_least_4_5() -> None:
    colours = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", CSS))
    white = "#ffffff"
    pairs = {
        "body text": (colours["ink"], colours["paper"]),
        "muted text": (colours["muted"], colours["paper"]),
        "muted text on grey": (colours["muted"], colours["soft"]),
        "links": (colours["link"], colours["paper"]),
        "button": (white, colours["link"]),
        "warning": (colours["warn-ink"], colours["warn-bg"]),
        "verified badge": (colours["genuine"], colours["paper"]),
    }
    for status in ("genuine", "sold", "recalled", "unknown"):
        pairs[f"{status} banner"] = (white, colours[status])
        pairs[f"{status} icon"] = (colours[status], white)
    for name, (foreground, background) in pairs.items():
        assert contrast(foreground, background) >= 4.5, (name, round(contrast(foreground, background), 2))
