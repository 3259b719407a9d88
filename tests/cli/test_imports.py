"""Commands that only read never import ape (nor web3): they read the registry through the
package's JSON-RPC client. Each runs as a real `supplytrace` process, from a folder outside the
checkout, with stand-ins for ape and web3 first on the path that fail on import."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.cli.conftest import BRAND, HONEY_GTIN, Cli

BLOCKED = "a command that only reads imported"


@pytest.fixture(scope="module")
def no_ape(deployed: Cli, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The module's deployment with one registered item, and the CLI run without ape or web3."""
    deployed.run(
        "register", "--gtin", HONEY_GTIN, "--serial", "READ-1", "--lot", "HONEY-A", "--account", "TEST::1"
    )
    blockers = tmp_path_factory.mktemp("blockers")
    for name in ("ape", "web3"):
        (blockers / name).mkdir()
        (blockers / name / "__init__.py").write_text(f"raise ImportError('{BLOCKED} {name}')\n")
    env = dict(deployed.env, PYTHONPATH=os.pathsep.join([str(blockers), deployed.env["PYTHONPATH"]]))
    return replace(deployed, env=env, workdir=tmp_path_factory.mktemp("elsewhere"))


ITEM = f"https://id.example.com/01/{HONEY_GTIN}/21/READ-1"


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("status", "--help"),
        ("devnet", "status"),
        ("status", ITEM),
        ("history", ITEM),
        ("export-epcis", ITEM),
        ("export-fsma204", "--from", "2000-01-01", "--to", "2100-12-31"),
        ("lot", "show", "1"),
        ("qr", ITEM, "--out", "qr"),
        ("labels", "--lot", "1", "--out", "labels"),
    ],
    ids=lambda args: " ".join(args),
)
def test_read_command__ape_and_web3_unimportable__succeeds(no_ape: Cli, args: tuple[str, ...]) -> None:
    result = no_ape.run(*args)
    assert BLOCKED not in result.stderr


def test_status__ape_unimportable__shows_the_live_record(no_ape: Cli) -> None:
    out = no_ape.run("status", ITEM).stdout
    fields = {k.strip(): v.strip() for k, v in (line.split(": ", 1) for line in out.splitlines())}
    assert (fields["status"], fields["custodian"], fields["brand"]) == ("active", BRAND, BRAND)


def test_write_command__ape_unimportable__fails_on_the_stand_in(no_ape: Cli) -> None:
    """The stand-ins work: a command that signs needs ape, and gets the stand-in."""
    result = no_ape.run("sell", ITEM, "--account", "TEST::1", ok=False)
    assert f"{BLOCKED} ape" in result.stderr


def test_qr__ape_unimportable__written_in_the_current_folder(no_ape: Cli) -> None:
    no_ape.run("qr", ITEM, "--out", "here")
    assert (Path(no_ape.workdir) / "here" / f"{HONEY_GTIN}-READ-1.svg").is_file()
