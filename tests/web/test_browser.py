"""The whole story in a real browser on a phone-sized screen.

`supplytrace demo` runs end to end in a subprocess (its own devnet, page and output folder on
free ports, an empty HOME), then headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; `.ci/run` installs it) opens the URL decoded from each QR code the demo wrote, at
360 px wide, checks the banner, follows the explorer links, and saves screenshots under
test-artifacts/web/. The page reads history from the event index the demo built, also when the
demo runs again over the index of its previous devnet. Finally the page and the devnet are
stopped the way `make demo-stop` does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page

from tests.web.conftest import ARTIFACTS, ROOT, WIDTH, free_port

TITLES = {
    "genuine": "Genuine and in the supply chain",
    "sold": "Already sold",
    "claimed": "Already opened by its buyer",
    "recalled": "Recalled: do not use",
    "unknown": "Unknown code: likely counterfeit",
}


@dataclass
class Demo:
    env: dict[str, str]
    stdout: str
    summary: dict[str, Any]
    home: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supplytrace.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def case(self, name: str) -> dict[str, Any]:
        return next(item for item in self.summary["items"] if item["case"] == name)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    work = tmp_path_factory.mktemp("demo")
    (work / "empty-home").mkdir()
    env = dict(os.environ)
    env.update(
        HOME=str(work / "empty-home"),
        SUPPLYTRACE_HOME=str(work / "supplytrace"),
        SUPPLYTRACE_DEPLOYMENTS=str(work / "deployments"),
        SUPPLYTRACE_DEVNET_PORT=str(free_port()),
        SUPPLYTRACE_RESOLVER=f"http://127.0.0.1:{free_port()}",
        SUPPLYTRACE_DEMO_OUTPUT=str(work / "demo-output"),
        PYTHONPATH=str(ROOT),
        COLUMNS="200",
    )
    result = subprocess.run(
        [sys.executable, "-m", "supplytrace.cli", "demo"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    demo = Demo(env, result.stdout, {}, work / "supplytrace")
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        demo.summary = json.loads((work / "demo-output" / "summary.json").read_text())
        yield demo
    finally:
        demo.cli("serve", "--stop")
        demo.cli("devnet", "down")


def test_run_demo__fresh_home__summary_lists_every_case_and_the_chain(demo: Demo) -> None:
    summary = demo.summary
    assert summary["base_url"] == demo.env["SUPPLYTRACE_RESOLVER"]
    assert re.fullmatch(r"0x[0-9a-fA-F]{40}", summary["contract"])
    assert summary["chain_id"] == 1337 and summary["network"] == "ethereum:local"
    assert [item["case"] for item in summary["items"]] == list(TITLES)
    for item in summary["items"]:
        assert item["expected_status"] == item["case"]
        assert item["uri"].startswith(summary["base_url"] + "/01/")
        assert re.fullmatch(r"0x[0-9a-f]{64}", item["item_id"])
        assert Path(item["qr"]).is_file()
        assert f"{item['case']}: {item['uri']}" in demo.stdout  # the URL printed to open
    assert all(Path(p).is_file() for p in summary["label_sheet"])


@pytest.mark.parametrize("case", list(TITLES))
def test_open_qr_code_on_a_phone__each_demo_case__banner_states_the_status(
    demo: Demo, phone: Page, case: str
) -> None:
    item = demo.case(case)
    (decoded,) = zxingcpp.read_barcodes(Image.open(item["qr"]))
    assert decoded.text == item["uri"]
    response = phone.goto(decoded.text)
    assert response is not None
    assert response.status == (404 if case == "unknown" else 200)
    banner = phone.locator("section.banner")
    assert banner.get_attribute("data-status") == case
    assert phone.locator("h1").inner_text() == TITLES[case]
    assert banner.is_visible()
    assert banner.bounding_box()["y"] < 120  # type: ignore[index]  # the answer is at the top
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH  # no sideways scrolling
    phone.screenshot(path=str(ARTIFACTS / f"item-{case}.png"), full_page=True)


def test_follow_explorer_links__genuine_item__transaction_and_contract_pages_open(
    demo: Demo, phone: Page
) -> None:
    item = demo.case("genuine")
    phone.goto(item["uri"])
    phone.get_by_role("link", name=re.compile(r"^View the transaction")).last.click()
    phone.wait_for_url(re.compile(r"/tx/0x[0-9a-f]{64}$"))
    assert phone.locator("h1").inner_text() == "Transaction"
    body = phone.locator("main").inner_text()
    assert "succeeded" in body and "recorded a step: inspecting" in body
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH
    phone.screenshot(path=str(ARTIFACTS / "tx.png"), full_page=True)

    phone.goto(item["uri"])
    phone.locator("main").get_by_role("link", name=demo.summary["contract"]).click()
    phone.wait_for_url(re.compile(rf"/address/{demo.summary['contract']}$"))
    assert phone.locator("h1").inner_text() == "Registry contract"
    assert "matches the recorded deployment" in phone.locator("main").inner_text()
    phone.screenshot(path=str(ARTIFACTS / "contract.png"), full_page=True)


def test_open_recalled_lot__from_the_item_page__lot_page_lists_its_recalled_jars(
    demo: Demo, phone: Page
) -> None:
    phone.goto(demo.case("recalled")["uri"])
    phone.get_by_role("link", name=demo.case("recalled")["lot"], exact=True).click()
    phone.wait_for_url(re.compile(r"/lot/\d+$"))
    assert phone.locator("section.banner").get_attribute("data-status") == "recalled"
    assert "JAR00501: recalled" in phone.locator("main").inner_text()
    phone.screenshot(path=str(ARTIFACTS / "lot-recalled.png"), full_page=True)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: What axe-core checks: WCAG 2.1 A and AA, and its best practices.
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


def _page_states(demo: Demo) -> dict[str, str]:
    """Every kind of page a shopper can land on, by name -> URL."""
    base = demo.summary["base_url"]
    states = {case: demo.case(case)["uri"] for case in TITLES}
    tx = _api_item(demo, "genuine")["timeline"][-1]["tx_url"]
    genuine = demo.case("genuine")
    states.update(
        wrong_lot=genuine["uri"].replace(f"/10/{genuine['lot']}/", "/10/OTHER-LOT/"),
        malformed=f"{base}/01/12345/21/X",
        lot=f"{base}/lot/{demo.summary['lots']['recalled']}",
        address=f"{base}/address/{demo.summary['contract']}",
        tx=tx,
        home=f"{base}/",
    )
    assert states["wrong_lot"] != genuine["uri"]
    return states


@pytest.mark.parametrize("width", [WIDTH, 1280])
def test_axe_core__every_page_state__no_serious_or_critical_violation(
    demo: Demo, phone: Page, width: int
) -> None:
    """Accessibility measured with axe-core (npm), injected through the DevTools protocol (the
    page's CSP allows no script of its own), at a phone's and a laptop's width."""
    phone.set_viewport_size({"width": width, "height": 740})
    source = AXE.read_text(encoding="utf-8")
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        for state, url in _page_states(demo).items():
            response = phone.goto(url)
            assert response is not None and response.status < 500, (state, url)
            phone.evaluate(source)
            violations = phone.evaluate(AXE_RUN)
            assert isinstance(violations, list)
            serious = [v for v in violations if v["impact"] in ("serious", "critical")]
            if serious:
                found[state] = serious
    finally:
        phone.set_viewport_size({"width": WIDTH, "height": 740})
    assert not found, json.dumps(found, indent=1)


#: Each case's banner word and a sentence of its banner, per language (docs/languages.md).
BANNERS = {
    "en": {
        "genuine": ("Genuine", "Genuine and in the supply chain"),
        "sold": ("Sold", "the code may be a copy"),
        "claimed": ("Opened", "its outer code is a copy"),
        "recalled": ("Recalled", "Recalled: do not use"),
        "unknown": ("Unknown", "likely counterfeit"),
    },
    "zh-CN": {
        "genuine": ("正品", "正品，仍在供应链中"),  # noqa: RUF001  (Chinese punctuation)
        "sold": ("已售出", "此代码可能是复制的"),
        "claimed": ("已开封", "其外部代码是复制的"),
        "recalled": ("已召回", "已召回：请勿使用"),  # noqa: RUF001
        "unknown": ("未知", "很可能是假冒产品"),
    },
    "ro": {
        "genuine": ("Autentic", "Autentic și încă în lanțul de aprovizionare"),
        "sold": ("Vândut", "codul poate fi o copie"),
        "claimed": ("Deschis", "codul său exterior este o copie"),
        "recalled": ("Retras", "Retras de pe piață: nu îl folosiți"),
        "unknown": ("Necunoscut", "probabil contrafăcut"),
    },
}


PRODUCT_NAMES = {"en": "Acacia honey", "zh-CN": "洋槐蜂蜜", "ro": "Miere de salcâm"}


def test_open_each_demo_case__chinese_romanian_and_english_readers__banner_in_their_language(
    demo: Demo, phone: Page
) -> None:
    """The browser's Accept-Language (what a phone set to that language sends) chooses the
    page's language; the language links switch it without JavaScript. The fixture's browser is set
    to en-GB: its language is changed the way Playwright's ``locale=`` sets it (DevTools)."""
    devtools = phone.context.new_cdp_session(phone)
    agent = phone.evaluate("navigator.userAgent")

    def speak(accept: str) -> None:
        devtools.send("Network.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": accept})

    try:
        for tag, banners in BANNERS.items():
            speak(f"{tag},{tag[:2]};q=0.9")
            for case, (word, sentence) in banners.items():
                response = phone.goto(demo.case(case)["uri"])
                assert response is not None and response.headers["content-language"] == tag
                assert phone.locator("html").get_attribute("lang") == tag
                banner = phone.locator("section.banner")
                assert banner.get_attribute("data-status") == case
                # The word after its icon, as written (the stylesheet shows it in capitals).
                assert (banner.locator("p.word").text_content() or "")[1:] == word, (tag, case)
                assert sentence in banner.inner_text(), (tag, case)
                assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH
                if case == "genuine":  # the demo's product name, given in the three languages
                    assert PRODUCT_NAMES[tag] in phone.locator("#product-title + dl").inner_text()
            phone.screenshot(path=str(ARTIFACTS / f"item-unknown-{tag}.png"), full_page=True)
        # A Chinese reader's phone, a Romanian shopper: the link switches, and the page keeps it.
        speak("zh-CN")
        phone.goto(demo.case("genuine")["uri"])
        phone.get_by_role("link", name="Română").click()
        assert phone.locator("html").get_attribute("lang") == "ro"
        assert phone.locator("h1").inner_text() == BANNERS["ro"]["genuine"][1]
        phone.get_by_role("link", name="Verificați alt cod").click()
        assert phone.locator("html").get_attribute("lang") == "ro"
    finally:
        speak("en-GB")
        devtools.detach()


def _api_item(demo: Demo, case: str) -> dict[str, Any]:
    url = f"{demo.summary['base_url']}/api/items/{demo.case(case)['item_id']}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def test_run_demo__fresh_home__page_reads_history_from_the_index(demo: Demo) -> None:
    index = demo.home / "index.db"
    line = re.search(
        r"event index: ([\d,]+) events in ([\d,]+) blocks \(\d+-(\d+)\) indexed into (\S+);", demo.stdout
    )
    assert line, demo.stdout
    assert int(line.group(1).replace(",", "")) > 0 and line.group(4) == f"sqlite:///{index}"
    assert index.is_file()
    log = " ".join((demo.home / "web" / "serve.log").read_text().split())
    assert f"history: the event index sqlite:///{index} (index at block {line.group(3)})" in log
    sold = _api_item(demo, "sold")
    assert sold["status"] == "sold" and sold["index"]["source"] == "index"
    assert sold["index"]["indexed_block"] == int(line.group(3)) and sold["index"]["lag_blocks"] == 0
    assert sold["timeline"][-1]["event"] == "ItemSold"


def test_run_demo_again__index_of_the_previous_devnet__rebuilt_and_read_by_the_page(demo: Demo) -> None:
    """`make demo` after `make demo-stop`: a fresh devnet whose registry has the same address as
    the last one's, and an index of the last devnet's blocks under the same home."""
    stopped = demo.cli("serve", "--stop"), demo.cli("devnet", "down")
    assert all(result.returncode == 0 for result in stopped)
    again = demo.cli("demo")
    assert again.returncode == 0, again.stdout + again.stderr
    assert demo.summary["contract"] in again.stdout  # the same registry address as the first run
    assert "event index:" in again.stdout
    for case in ("genuine", "sold", "recalled"):
        found = _api_item(demo, case)
        assert found["status"] == case and found["index"]["source"] == "index"
        assert found["index"]["lag_blocks"] == 0 and found["timeline"], case


def test_demo_stop__after_the_demo__page_and_devnet_are_stopped(demo: Demo) -> None:
    base = demo.summary["base_url"]
    assert _answers(f"{base}/healthz")
    assert demo.cli("serve", "--stop").returncode == 0
    assert demo.cli("devnet", "down").returncode == 0
    assert not _answers(f"{base}/healthz")
    assert not _answers(f"http://127.0.0.1:{demo.env['SUPPLYTRACE_DEVNET_PORT']}")
    assert "Traceback" not in (demo.home / "web" / "serve.log").read_text()
