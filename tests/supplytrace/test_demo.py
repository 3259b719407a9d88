"""`supplytrace demo` (make demo): the whole story in a real process, on a devnet of its own, and
what it leaves behind: its outputs in its own output folder and nothing else touched there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from supplytrace.core.ids import ItemKey
from supplytrace.demo import CASES, HONEY_GTIN, LOT_CODE
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Demo:
    work: Path
    out: Path
    env: dict[str, str]
    result: subprocess.CompletedProcess[str]

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


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`supplytrace demo` run once, into an output folder that already holds the README
    walk-through's files and a file of the user's."""
    work = tmp_path_factory.mktemp("demo")
    out = work / "demo-output"
    (out / "walkthrough").mkdir(parents=True)
    (out / "walkthrough" / "jars.csv").write_text("gtin,serial,lot\n")
    (out / "walkthrough" / "jars.receipt.csv").write_text("line\n")
    (out / "notes.txt").write_text("mine\n")
    (out / "summary.json").write_text('{"stale": true}\n')  # a previous run's: replaced
    env = dict(os.environ)
    env.update(
        SUPPLYTRACE_HOME=str(work / "home"),
        SUPPLYTRACE_DEPLOYMENTS=str(work / "deployments"),
        SUPPLYTRACE_DEVNET_PORT=str(free_port()),
        SUPPLYTRACE_RESOLVER=f"http://127.0.0.1:{free_port()}",
        SUPPLYTRACE_DEMO_OUTPUT=str(out),
        SUPPLYTRACE_INDEX_DB=str(work / "home" / "index.db"),
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
    demo = Demo(work, out, env, result)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        yield demo
    finally:
        demo.cli("serve", "--stop")
        demo.cli("devnet", "down")


def test_run_demo__output_folder_holds_other_files__they_survive(demo: Demo) -> None:
    assert (demo.out / "walkthrough" / "jars.csv").read_text() == "gtin,serial,lot\n"
    assert (demo.out / "walkthrough" / "jars.receipt.csv").read_text() == "line\n"
    assert (demo.out / "notes.txt").read_text() == "mine\n"


def test_run_demo__fresh_devnet__writes_only_its_outputs_into_its_folder(demo: Demo) -> None:
    written = {p.relative_to(demo.out).as_posix() for p in demo.out.rglob("*") if p.is_file()}
    mine = {"walkthrough/jars.csv", "walkthrough/jars.receipt.csv", "notes.txt"}
    assert written - mine == {
        *(f"qr/{case}.png" for case in CASES),
        f"labels-{LOT_CODE}.svg",
        f"labels-{LOT_CODE}.pdf",
        "summary.json",
    }
    # Outside the output folder only its home (devnet, metadata, index) and the deployment record.
    assert {p.name for p in demo.work.iterdir()} == {"demo-output", "home", "deployments"}


def test_run_demo__fresh_devnet__summary_lists_every_case_with_its_qr_code(demo: Demo) -> None:
    summary = json.loads((demo.out / "summary.json").read_text())
    assert summary["base_url"] == demo.env["SUPPLYTRACE_RESOLVER"]
    assert [item["case"] for item in summary["items"]] == list(CASES)
    assert summary["network"] == "ethereum:local" and summary["rpc_url"].endswith(
        demo.env["SUPPLYTRACE_DEVNET_PORT"]
    )
    record = json.loads((demo.work / "deployments" / "ethereum-local.json").read_text())
    assert (summary["contract"], summary["chain_id"]) == (record["address"], record["chain_id"])
    assert set(summary["lots"]) == {"genuine", "claimed", "recalled", "blend"}
    assert len(summary["pallet"]) == 18
    for item in summary["items"]:
        key = ItemKey.create(item["gtin"], item["serial"], item["lot"])
        assert item["gtin"] == HONEY_GTIN and item["item_id"] == key.id_hex
        assert item["uri"] == key.digital_link(demo.env["SUPPLYTRACE_RESOLVER"])
        assert Path(item["qr"]) == demo.out / "qr" / f"{item['case']}.png"
        assert Path(item["qr"]).read_bytes().startswith(b"\x89PNG")
        assert f"{item['case']}: {item['uri']}" in demo.result.stdout
    assert [Path(p).name for p in summary["label_sheet"]] == [
        f"labels-{LOT_CODE}.svg",
        f"labels-{LOT_CODE}.pdf",
    ]


def test_run_demo__fresh_devnet__each_case_has_the_status_it_promises(demo: Demo) -> None:
    summary = json.loads((demo.out / "summary.json").read_text())
    for item in summary["items"]:
        out = " ".join(demo.cli("status", item["item_id"]).stdout.split())
        if item["case"] == "unknown":
            assert "not registered by any brand" in out, out
            continue
        fields = dict(line.split(": ", 1) for line in demo.cli("status", item["item_id"]).stdout.splitlines())
        status = {k.strip(): v.strip() for k, v in fields.items()}
        expected = {
            "genuine": ("active", "False"),
            "sold": ("sold", "False"),
            "claimed": ("claimed", "False"),
            "recalled": ("active", "True"),
        }
        assert (status["status"], status["recalled"]) == expected[item["case"]], item["case"]


def test_run_demo__lineage__two_harvests_blended_and_packed_on_a_pallet(demo: Demo) -> None:
    out = " ".join(demo.result.stdout.split())
    assert (
        "blended 600,000 g from HARVEST-RO-2026 (600,000 g left), 400,000 g from HARVEST-BG-2026 "
        "(400,000 g left)"
    ) in out, out
    summary = json.loads((demo.out / "summary.json").read_text())
    assert f"on pallet (00){summary['pallet']}" in out, out
    assert "the pallet: beekeeper -> distributor (one signed handoff moves every jar)" in out, out
