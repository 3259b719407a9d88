"""The README's merchant walk-through runs as written (on a devnet of its own, on a free port)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

from tests.cli.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def _walkthrough() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## A merchant's walk-through", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the walk-through has no ```sh block"
    return match.group(1)


def test_readme_walkthrough__run_as_written__labels_and_receipt_made(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        SUPPLYTRACE_HOME=str(tmp_path / "home"),
        SUPPLYTRACE_DEPLOYMENTS=str(tmp_path / "deployments"),
        SUPPLYTRACE_DEVNET_PORT=str(free_port()),
        COLUMNS="200",
    )
    out_dir = REPO / "demo-output" / "walkthrough"
    for old in out_dir.glob("*"):
        old.unlink()
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _walkthrough()],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        subprocess.run(
            [str(REPO / ".venv/bin/supplytrace"), "devnet", "down"], cwd=REPO, env=env, check=False
        )
    rows = list(csv.DictReader((out_dir / "jars.receipt.csv").open()))
    assert len(rows) == 48 and all(r["tx_hash"].startswith("0x") for r in rows)
    assert rows[0]["weight_g"] == "500"
    assert list(out_dir.glob("labels-*.pdf")) and list(out_dir.glob("labels-*.svg"))
    assert "handed it over to" in result.stdout
