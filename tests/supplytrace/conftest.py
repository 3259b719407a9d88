"""Fixtures for the package tests (the registry and the cast come from tests/conftest.py)."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A TCP port nothing listens on right now (never 8545, which the demo's devnet may hold)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 8545:
            return port


@pytest.fixture
def devnet_settings(tmp_path, monkeypatch):
    """Settings for a devnet on a free port with its home in tmp_path; any anvil left running is killed."""
    from supplytrace.config import load_settings

    monkeypatch.setenv("SUPPLYTRACE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SUPPLYTRACE_DEPLOYMENTS", str(tmp_path / "deployments"))
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_HOST", "127.0.0.1")
    monkeypatch.setenv("SUPPLYTRACE_DEVNET_PORT", str(free_port()))
    settings = load_settings()
    yield settings
    _kill_started_anvil(settings.home / "devnet" / "anvil.pid")


def _kill_started_anvil(pid_file) -> None:
    """Stop the devnet this test started, by the pid it recorded, and reap it if it is our child.

    ``anvil`` on PATH is npm's node wrapper; it runs the real binary as a child in the same process
    group (devnet.up starts a new session), so the whole group is signalled, or the binary is orphaned.
    """
    import os
    import signal
    import time

    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                try:
                    os.killpg(pid, 0)
                except ProcessLookupError:
                    return
            time.sleep(0.05)
