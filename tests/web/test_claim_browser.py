"""The code inside the lid in a real browser on a phone-sized screen with JavaScript off: headless
Chromium (Debian's, driven by Playwright) at 360 px types the code into the item page's form and
submits it; then the claimed page is opened as a copy of the outer code would open it, and
checked with axe-core (in a second context, with JavaScript, which axe needs).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.web.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, WIDTH, Coded, World, free_port
from tests.web.test_browser import AXE, AXE_RUN


@pytest.fixture
def live_page(world: World, claims_of: Callable[..., Any]) -> Iterator[str]:
    """The page that takes codes, served by uvicorn on a free port: its base URL."""
    import uvicorn

    from supplytrace.web.app import create_app

    app = create_app(world.config(), world.history(), claims=claims_of())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), for contexts of its own."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "the browser test needs Debian's chromium: `apt-get install chromium`"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _phone(browser: Any, *, javascript: bool) -> Any:
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def test_claim_on_a_phone__javascript_off__claimed_page_then_copy_reads_claimed(
    browser: Any, live_page: str, register_coded: Callable[[int], Coded], world: World
) -> None:
    coded = register_coded(1)
    item = coded.keys[0]
    phone = _phone(browser, javascript=False)
    link = item.digital_link(live_page)
    assert phone.goto(link).status == 200
    assert phone.locator("section.banner").get_attribute("data-status") == "genuine"
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH
    field = phone.get_by_label("Code inside the lid")
    box = phone.get_by_role("button", name="Make it mine").bounding_box()
    assert box is not None and box["height"] >= 44  # a large touch target
    field.type(coded.code()[:4] + "-" + coded.code()[4:].lower())  # as read off a lid
    phone.screenshot(path=str(ARTIFACTS / "claim-form.png"), full_page=True)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Make it mine").click()
    assert phone.url == f"{live_page}/item/0x{item.id.hex()}"
    assert phone.locator("section.banner").get_attribute("data-status") == "claimed"
    assert int(world.registry.getItem(item.id).status) == 3

    copy = _phone(browser, javascript=True)  # another phone, scanning a copy of the outer code
    assert copy.goto(link).status == 200
    banner = copy.locator("section.banner")
    assert banner.get_attribute("data-status") == "claimed"
    assert "its outer code is a copy" in banner.inner_text()
    assert copy.get_by_label("Code inside the lid").count() == 0
    assert copy.evaluate("document.documentElement.scrollWidth") <= WIDTH
    copy.screenshot(path=str(ARTIFACTS / "claimed-copy.png"), full_page=True)
    violations = []
    for url in (link, f"{live_page}/item/0x{register_coded(1).keys[0].id.hex()}"):  # claimed, form
        copy.goto(url)
        copy.evaluate(AXE.read_text(encoding="utf-8"))
        found = copy.evaluate(AXE_RUN)
        violations += [v for v in found if v["impact"] in ("serious", "critical")]
    assert not violations, json.dumps(violations, indent=1)


def test_wrong_code_on_a_phone__javascript_off__form_says_it_does_not_match(
    browser: Any, live_page: str, register_coded: Callable[[int], Coded]
) -> None:
    coded = register_coded(1)
    phone = _phone(browser, javascript=False)
    phone.goto(coded.keys[0].digital_link(live_page))
    phone.get_by_label("Code inside the lid").type("2222-3333-4444")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Make it mine").click()
    assert phone.get_by_role("alert").inner_text().startswith("That code does not match this item.")
    assert phone.locator("section.banner").get_attribute("data-status") == "genuine"
    assert phone.get_by_label("Code inside the lid").input_value() == "2222-3333-4444"
