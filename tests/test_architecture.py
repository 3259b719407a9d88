"""The package's shape (issue #10, docs/architecture.md): the layers kept (import-linter's
contracts in pyproject.toml), modules small, each event's meaning stated in one place per reader,
and mypy naming every reader that a new event type has not been taught."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from supplytrace.core import events
from tests.conftest import ROOT

PACKAGE = ROOT / "supplytrace"
MODULES = sorted(PACKAGE.rglob("*.py"))
#: Where an event's meaning is stated: its type, the reducer, the story, the EPCIS mapping and the
#: FSMA 204 mapping (which Critical Tracking Event it is, if any).
READERS = {"core/events.py", "core/reducer.py", "core/story.py", "core/epcis.py", "core/fsma204.py"}


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


@pytest.mark.parametrize("module", MODULES, ids=_relative)
def test_module__any_module_of_the_package__at_most_600_lines(module: Path) -> None:
    lines = module.read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{_relative(module)} has {lines} lines; split it by what it holds"


@pytest.mark.parametrize("event_type", events.EVENT_TYPES, ids=lambda t: t.__name__)
def test_event_name__each_contract_event__named_by_its_type_and_the_readers_only(
    event_type: type,
) -> None:
    name = event_type.__name__
    word = re.compile(rf"\b{name}\b")
    naming = {_relative(m) for m in MODULES if word.search(m.read_text(encoding="utf-8"))}
    limit = len(READERS) + 1 if event_type is events.REGISTRATION else len(READERS)
    assert len(naming) <= limit, f"{name} is named in {sorted(naming)}"
    assert naming >= READERS, f"{name} lacks a case in {sorted(READERS - naming)}"


def test_import_contracts__lint_imports__every_contract_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


NEW_EVENT = '''

@dataclass(frozen=True, slots=True)
class ItemReturned:
    """A new custody step: the item went back to its brand."""

    item_id: bytes
    by: Address
'''


def test_mypy__a_new_event_type_without_its_cases__names_every_reader(
    tmp_path: Path,
) -> None:
    """Adding an event type is: its type in core/events.py, then one case in the reducer, the
    story, the EPCIS mapping and the FSMA 204 mapping; mypy (strict) names each reader that lacks
    the case."""
    copy = tmp_path / "supplytrace"
    copy.mkdir()
    (copy / "__init__.py").write_text("")
    shutil.copytree(PACKAGE / "core", copy / "core", ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "core" / "events.py"
    source = module.read_text()
    marker = "\n#: Every event a reader of the registry handles"
    union = "RegistryEvent: TypeAlias = (\n"
    assert marker in source and union in source, "core/events.py changed shape; update this test"
    source = source.replace(marker, NEW_EVENT + "\n" + marker, 1)
    source = source.replace(union, union + "    ItemReturned\n    | ", 1)
    module.write_text(source)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--ignore-missing-imports"]
    result = subprocess.run(
        [*command, "-p", "supplytrace.core"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 1, result.stdout
    complaining = {line.split(":", 1)[0] for line in errors}
    assert complaining == {
        "supplytrace/core/reducer.py",
        "supplytrace/core/story.py",
        "supplytrace/core/epcis.py",
        "supplytrace/core/fsma204.py",
    }, result.stdout
    assert all("ItemReturned" in line for line in errors), result.stdout

    # The unchanged copy is clean: the errors above are the missing cases, nothing else.
    shutil.copy(PACKAGE / "core" / "events.py", module)
    clean = subprocess.run(
        [*command, "-p", "supplytrace.core"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert clean.returncode == 0, clean.stdout
