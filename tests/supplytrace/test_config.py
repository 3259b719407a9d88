"""supplytrace.config: settings from SUPPLYTRACE_* environment variables."""

from __future__ import annotations

from supplytrace.config import load_settings

VARIABLES = (
    "SUPPLYTRACE_HOME",
    "SUPPLYTRACE_DEPLOYMENTS",
    "SUPPLYTRACE_DEVNET_HOST",
    "SUPPLYTRACE_DEVNET_PORT",
    "SUPPLYTRACE_DEVNET_CHAIN_ID",
    "SUPPLYTRACE_RESOLVER",
)


def test_load_settings__no_variables__documented_defaults(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.home == tmp_path.resolve() / ".supplytrace"
    assert settings.deployments == tmp_path.resolve() / "deployments"
    assert (settings.devnet_host, settings.devnet_port, settings.devnet_chain_id) == ("127.0.0.1", 8545, 1337)
    assert settings.devnet_url == "http://127.0.0.1:8545"
    assert settings.resolver == "http://127.0.0.1:8000"


def test_load_settings__all_variables_set__used_and_paths_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPPLYTRACE_HOME", "state")
    monkeypatch.setenv("SUPPLYTRACE_DEPLOYMENTS", str(tmp_path / "records"))
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_HOST", "localhost")
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_PORT", "18545")
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_CHAIN_ID", "31337")
    monkeypatch.setenv("SUPPLYTRACE_RESOLVER", "https://id.example.com")
    settings = load_settings()
    assert settings.home == tmp_path.resolve() / "state"
    assert settings.home.is_absolute()
    assert settings.deployments == (tmp_path / "records").resolve()
    assert settings.devnet_url == "http://localhost:18545"
    assert settings.devnet_chain_id == 31337
    assert settings.resolver == "https://id.example.com"
