"""`scripts/*.py` expose exactly the CLI's commands to `ape run` (one implementation each)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from supplytrace.cli import main

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts__every_cli_command__has_a_script() -> None:
    assert {p.stem for p in SCRIPTS.glob("*.py")} == {n.replace("-", "_") for n in main.commands}


@pytest.mark.parametrize("name", sorted(main.commands))
def test_script__cli_command__is_the_same_object(name: str) -> None:
    assert _load(SCRIPTS / f"{name.replace('-', '_')}.py").cli is main.commands[name]
