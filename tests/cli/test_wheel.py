"""The package as users install it: a wheel built from the sources, installed into a fresh
virtual environment, run from a folder outside the checkout (no deployments/, no ape-config.yaml)
against its own devnet: deploy from the packaged artifact, a CSV batch, reads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.cli.conftest import BRAND, HONEY_GTIN, free_port
from tests.conftest import ROOT


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (building in the checkout would leave build/)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "supplytrace", source / "supplytrace", ignore=shutil.ignore_patterns("__pycache__")
    )
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "-w", str(base / "dist"), str(source)])  # fmt: skip
    (built,) = (base / "dist").glob("supplytrace-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``supplytrace`` executable of a fresh virtual environment holding the built wheel
    (its dependencies are this environment's, added as a plain path: not the checkout)."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)])
    return venv / "bin" / "supplytrace"


EPCIS_SCHEMA_FILES = {
    f"supplytrace/core/epcis_schema/{name}" for name in ("EPCIS-JSON-Schema.json", "LICENSE", "README.md")
}
CHECK_AN_EVENT = """
from supplytrace.core.epcis_builders import OnChain, sscc_link, custody_event
from supplytrace.core.epcis_validation import validate_epcis
event = custody_event(OnChain(1, "0x00", "CustodyOffered", "0x01", 1, 0, 0), sscc_link(106141411234567897),
                      "shipping", "0x02", "0x03")
validate_epcis({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], **event})
import supplytrace; print(supplytrace.__file__)
"""


def test_wheel__built__ships_gs1s_epcis_schema_and_its_licence_read_from_the_install(
    wheel: Path, installed: Path, tmp_path: Path
) -> None:
    assert set(zipfile.ZipFile(wheel).namelist()) >= EPCIS_SCHEMA_FILES
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    checked = run([str(installed.with_name("python")), "-c", CHECK_AN_EVENT], cwd=tmp_path, env=env)
    assert checked.stdout.startswith(str(installed.parents[1])), checked.stdout  # not the checkout


CATALOGS = {f"supplytrace/web/locale/{locale}/LC_MESSAGES/messages.po" for locale in ("zh_Hans", "ro")}
SAY_GENUINE = """
from supplytrace.web.i18n import LANGUAGES, gettext, speaking
for language in LANGUAGES:
    with speaking(language):
        print(gettext("Genuine"))
"""


def test_wheel__built__ships_the_page_s_catalogs_read_from_the_install(
    wheel: Path, installed: Path, tmp_path: Path
) -> None:
    assert set(zipfile.ZipFile(wheel).namelist()) >= CATALOGS
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    said = run([str(installed.with_name("python")), "-c", SAY_GENUINE], cwd=tmp_path, env=env)
    assert said.stdout.split() == ["Genuine", "正品", "Autentic"]


def test_wheel__installed_in_a_fresh_venv__runs_the_story_from_any_folder(
    installed: Path, tmp_path: Path
) -> None:
    shop = tmp_path / "shop"  # the merchant's folder: nothing of the checkout
    shop.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SUPPLYTRACE_", "PYTHON"))}
    env.update(
        PATH=os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(installed.parent), env["PATH"]]),
        XDG_DATA_HOME=str(tmp_path / "data"),
        SUPPLYTRACE_DEVNET_PORT=str(free_port()),
        SUPPLYTRACE_RESOLVER="https://id.example.com",
        COLUMNS="200",
    )

    def cli(*args: str) -> str:
        return run([str(installed), *args], cwd=shop, env=env, stdin=subprocess.DEVNULL).stdout

    code = "import supplytrace; print(supplytrace.__file__)"
    where = run([str(installed.with_name("python")), "-c", code], cwd=shop, env=env)
    assert where.stdout.startswith(str(installed.parents[1])), where.stdout
    cli("devnet", "up")
    try:
        assert "registry deployed at 0x" in cli("deploy", "--account", "TEST::0")
        cli("brand", "add", BRAND, "--gtin", HONEY_GTIN, "--account", "TEST::0")
        (shop / "honey.json").write_text('{"product": "Acacia honey 500 g"}')
        cli(
            "lot",
            "create",
            "--gtin",
            HONEY_GTIN,
            "--lot",
            "L1",
            "--metadata",
            "honey.json",
            "--account",
            "TEST::1",
        )
        rows = "".join(f"{HONEY_GTIN},W-{n},L1\n" for n in range(3))
        (shop / "jars.csv").write_text("gtin,serial,lot\n" + rows)
        cli("register-batch", "jars.csv", "--yes", "--account", "TEST::1")
        assert (shop / "jars.receipt.csv").is_file()
        status = cli("status", f"https://id.example.com/01/{HONEY_GTIN}/21/W-2")
        assert "status: active" in " ".join(status.split()).replace(" :", ":")
        assert (tmp_path / "data" / "supplytrace" / "deployments").is_dir()
        assert sorted(p.name for p in shop.iterdir()) == ["honey.json", "jars.csv", "jars.receipt.csv"]
    finally:
        cli("devnet", "down")
