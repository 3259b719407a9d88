"""The persistent local devnet: anvil in the background, state kept under ``$SUPPLYTRACE_HOME``.

``up`` is idempotent (a running devnet is reused), refuses a port held by something else, and
dumps state on exit so ``down`` + ``up`` continues the same chain.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from supplytrace.chain.rpc import Rpc, RpcError, hex_int
from supplytrace.core.config import Settings
from supplytrace.core.errors import SupplytraceError


class DevnetError(SupplytraceError):
    """The devnet cannot be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class DevnetStatus:
    running: bool  # a node answers at ``url``
    url: str
    pid: int | None  # the anvil this project's home started (None: another folder's, or none)
    block: int | None
    state_file: Path

    @property
    def ours(self) -> bool:
        """Whether this project's home started the running devnet (so `down` can stop it)."""
        return self.running and self.pid is not None


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    folder = settings.home / "devnet"
    return folder / "anvil.pid", folder / "state.json", folder / "anvil.log"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (an exited child of ours is reaped first, not seen as alive)."""
    try:  # reap our own exited child first, or it lingers as a zombie that still "exists"
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def status(settings: Settings) -> DevnetStatus:
    pid_file, state_file, _ = _paths(settings)
    pid = _read_pid(pid_file)
    rpc = Rpc(settings.devnet_url, timeout=1.0)
    try:
        block: int | None = hex_int(rpc.request("eth_blockNumber", []))
    except (RpcError, ValueError):
        block = None
    finally:
        rpc.close()
    return DevnetStatus(block is not None, settings.devnet_url, pid, block, state_file)


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def anvil_executable() -> str:
    found = shutil.which("anvil")
    if found is None:
        raise DevnetError(
            "anvil is not installed: run `make install` (it installs @foundry-rs/anvil from npm)."
        )
    return found


def up(settings: Settings, timeout: float = 20.0) -> tuple[DevnetStatus, bool]:
    """Start the devnet if it is not running. Returns (status, started_now)."""
    current = status(settings)
    if current.running:
        return current, False
    if _port_taken(settings.devnet_host, settings.devnet_port):
        raise DevnetError(
            f"port {settings.devnet_port} on {settings.devnet_host} is taken by another program. Stop it, "
            "or set SUPPLYTRACE_DEVNET_PORT (and the node uri in ape-config.yaml) to a free port."
        )
    pid_file, state_file, log_file = _paths(settings)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    command = [
        anvil_executable(),
        "--host",
        settings.devnet_host,
        "--port",
        str(settings.devnet_port),
        "--chain-id",
        str(settings.devnet_chain_id),
        "--state",
        str(state_file),  # load on start, dump on exit
        "--state-interval",
        "5",  # and every 5 s, so a crash loses at most 5 s
        "--gas-limit",
        "30000000",
    ]
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevnetError(f"anvil exited with code {process.returncode}; see {log_file}.")
        current = status(settings)
        if current.running:
            return current, True
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise DevnetError(
        f"anvil did not answer on {settings.devnet_url} within {timeout:.0f} s; see {log_file}."
    )


def down(settings: Settings, timeout: float = 10.0) -> bool:
    """Stop the devnet (its state is dumped first). Returns False if it was not running."""
    pid_file, _, _ = _paths(settings)
    pid = _read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        if status(settings).running:
            raise DevnetError(
                f"a devnet answers at {settings.devnet_url}, but it was not started from this project "
                f"(no pid file under {settings.home}); stop it from the folder that started it."
            )
        return False
    # The npm `anvil` is a node wrapper: it passes SIGTERM on, and anvil dumps its state first.
    stop_process(pid, timeout=timeout, term_group=False)
    pid_file.unlink(missing_ok=True)
    return True


def stop_process(pid: int, *, timeout: float = 10.0, term_group: bool = True) -> None:
    """Stop process ``pid``, the leader of its own process group (the devnet, the background
    page): SIGTERM (to the whole group with ``term_group``), then SIGKILL to the group after
    ``timeout`` seconds."""
    try:
        if term_group:
            os.killpg(pid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
