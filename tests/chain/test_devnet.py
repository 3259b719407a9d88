"""supplytrace.chain.devnet: a real anvil (from PATH) on a free port, its state under a temporary home."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from supplytrace.chain import devnet
from supplytrace.chain.devnet import DevnetError


def rpc(url: str, method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["result"]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_status__nothing_started__not_running(devnet_settings):
    state = devnet.status(devnet_settings)
    assert not state.running
    assert state.pid is None and state.block is None
    assert state.url == f"http://127.0.0.1:{devnet_settings.devnet_port}"
    assert state.state_file == devnet_settings.home / "devnet" / "state.json"


def test_up_status_down__fresh_home__lifecycle_keeps_chain_state(devnet_settings):
    state, started = devnet.up(devnet_settings)
    assert started
    assert state.running and state.block == 0 and state.pid is not None
    pid_file = devnet_settings.home / "devnet" / "anvil.pid"
    assert pid_file.read_text().strip() == str(state.pid)
    assert int(str(rpc(state.url, "eth_chainId", [])), 16) == devnet_settings.devnet_chain_id

    again, started_again = devnet.up(devnet_settings)
    assert not started_again
    assert again.pid == state.pid and again.running

    rpc(state.url, "anvil_mine", ["0x7"])
    assert devnet.status(devnet_settings).block == 7

    assert devnet.down(devnet_settings) is True
    stopped = devnet.status(devnet_settings)
    assert not stopped.running and stopped.pid is None
    assert not pid_file.exists()
    assert stopped.state_file.exists()

    resumed, started = devnet.up(devnet_settings)
    assert started and resumed.pid != state.pid
    assert resumed.block == 7  # the dumped state was loaded again
    assert devnet.down(devnet_settings) is True


def test_up__port_held_by_another_program__raises_naming_the_port(devnet_settings):
    port = devnet_settings.devnet_port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        with pytest.raises(DevnetError, match=f"port {port} on 127.0.0.1 is taken") as info:
            devnet.up(devnet_settings)
    assert "SUPPLYTRACE_DEVNET_PORT" in str(info.value)
    assert not (devnet_settings.home / "devnet" / "anvil.pid").exists()


def test_up__anvil_not_on_path__raises_install_hint(devnet_settings, monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(DevnetError, match="anvil is not installed"):
        devnet.up(devnet_settings)


def test_down__not_running__returns_false(devnet_settings):
    assert devnet.down(devnet_settings) is False


def test_down__stale_pid_file__returns_false_and_removes_it(devnet_settings):
    pid_file = devnet_settings.home / "devnet" / "anvil.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(str(dead_pid()))
    assert not devnet.status(devnet_settings).running
    assert devnet.down(devnet_settings) is False
    assert not pid_file.exists()


def test_status__garbage_pid_file__not_running(devnet_settings):
    pid_file = devnet_settings.home / "devnet" / "anvil.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text("not a pid")
    assert devnet.status(devnet_settings).pid is None


def test_down__devnet_started_in_this_process__returns_promptly(devnet_settings):
    # anvil exits within a second of SIGTERM, but it stays a zombie child of the process that started it
    # (nothing waits on the Popen), so os.kill(pid, 0) keeps succeeding and down() waits its whole timeout.
    state, _ = devnet.up(devnet_settings)
    started = time.monotonic()
    assert devnet.down(devnet_settings) is True
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(state.pid, 0)
