"""supplytrace.core.config: settings from SUPPLYTRACE_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytrace.core.config import load_settings, project_root

VARIABLES = (
    "SUPPLYTRACE_HOME",
    "SUPPLYTRACE_DEPLOYMENTS",
    "SUPPLYTRACE_DEVNET_HOST",
    "SUPPLYTRACE_DEVNET_PORT",
    "SUPPLYTRACE_DEVNET_CHAIN_ID",
    "SUPPLYTRACE_RESOLVER",
    "SUPPLYTRACE_RESOLVER_LINKS",
)


def test_load_settings__no_variables_in_a_project__documented_defaults(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "deployments").mkdir()
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.project == tmp_path.resolve()
    assert settings.home == tmp_path.resolve() / ".supplytrace"
    assert settings.deployments == tmp_path.resolve() / "deployments"
    assert (settings.devnet_host, settings.devnet_port, settings.devnet_chain_id) == ("127.0.0.1", 8545, 1337)
    assert settings.devnet_url == "http://127.0.0.1:8545"
    assert settings.resolver == "http://127.0.0.1:8000"
    assert settings.rpc_timeout == 30.0
    assert settings.resolver_links is None


@pytest.mark.parametrize("marker", ["deployments", ".supplytrace", "ape-config.yaml"])
def test_load_settings__from_a_subfolder_of_a_project__the_projects_files(monkeypatch, tmp_path, marker):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "honey"
    (project / "labels" / "2026").mkdir(parents=True)
    if marker.endswith(".yaml"):
        (project / marker).write_text("name: honey\n")
    else:
        (project / marker).mkdir()
    monkeypatch.chdir(project / "labels" / "2026")
    settings = load_settings()
    assert settings.home == project.resolve() / ".supplytrace"
    assert settings.deployments == project.resolve() / "deployments"


def test_load_settings__outside_any_project__the_users_data_folder(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert project_root(tmp_path) == tmp_path / "data" / "supplytrace"
    settings = load_settings()
    assert settings.home == (tmp_path / "data" / "supplytrace" / ".supplytrace").resolve()
    assert settings.deployments == (tmp_path / "data" / "supplytrace" / "deployments").resolve()


def test_load_settings__all_variables_set__used_and_paths_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPPLYTRACE_HOME", "state")
    monkeypatch.setenv("SUPPLYTRACE_DEPLOYMENTS", str(tmp_path / "records"))
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_HOST", "localhost")
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_PORT", "18545")
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_CHAIN_ID", "31337")
    monkeypatch.setenv("SUPPLYTRACE_RESOLVER", "https://id.example.com")
    monkeypatch.setenv("SUPPLYTRACE_RESOLVER_LINKS", "links.toml")
    settings = load_settings()
    assert settings.home == tmp_path.resolve() / "state"
    assert settings.home.is_absolute()
    assert settings.deployments == (tmp_path / "records").resolve()
    assert settings.devnet_url == "http://localhost:18545"
    assert settings.devnet_chain_id == 31337
    assert settings.resolver == "https://id.example.com"
    assert settings.resolver_links == Path("links.toml")
