"""Running the verification page: uvicorn, the address it listens on, and the background mode used
by ``supplytrace serve --background`` and ``make demo``.

The page listens where the QR codes point: the host and port of ``SUPPLYTRACE_RESOLVER``
(default ``http://127.0.0.1:8000``). A background page records its pid in
``$SUPPLYTRACE_HOME/web/serve.pid`` and logs to ``serve.log`` beside it;
``supplytrace serve --stop`` (and ``make demo-stop``) ends it by that pid. The app itself is put
together by ``supplytrace.service.page.build_page``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from supplytrace.chain.devnet import pid_alive, stop_process
from supplytrace.core.config import SERVE_RPC_URL_ENV, Settings
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.networks import DEVNET_NETWORK


class ServeError(SupplytraceError):
    """The page cannot start or stop; the message says what to do."""


def listen_address(resolver: str, host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Host and port to listen on: given ones, else those of the resolver base URL."""
    parts = urlsplit(resolver)
    default_port = 443 if parts.scheme == "https" else 80
    return host or parts.hostname or "127.0.0.1", port or parts.port or default_port


def _server(app: Any, host: str, port: int) -> Any:
    import uvicorn

    return uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    )


def run(
    app: Any, host: str, port: int, *, workers: int = 1, make_app: Callable[[], Any] | None = None
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM): ``app`` in this process, or with ``workers`` > 1
    that many processes on the port (:func:`_listen_each`), each with its own app from ``make_app``
    (its own connections to the node and the index; forked before any is opened)."""
    if workers > 1 and make_app is not None:
        _run_workers(make_app, host, port, workers)
        return
    server = _server(app, host, port)
    _settle()
    server.run()
    if not server.started:
        raise ServeError(f"the page could not listen on {host}:{port} (is the port taken?).")


def _run_workers(make_app: Callable[[], Any], host: str, port: int, workers: int) -> None:
    sockets = _listen_each(host, port, workers)
    children: list[int] = []
    for index in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: its own app, serving its own socket until told to stop
            code = 0
            try:
                _die_with_parent()
                for other in sockets[:index] + sockets[index + 1 :]:
                    other.close()  # (a worker that dies takes its socket, and its share, with it)
                server = _server(make_app(), host, port)
                _settle()
                server.run(sockets=[sockets[index]])
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    for sock in sockets:
        sock.close()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue


#: Allocations (net) between two collections of the youngest generation (CPython's default 700).
GC_THRESHOLD = 10_000


def _settle() -> None:
    """Before serving: the start-up's objects (the app, templates, ABI, SQLAlchemy's tables and
    compiled statements: most of the heap) are collected once and then set aside from the cyclic
    garbage collector, which no longer walks them, and it runs less often. Measured under 32
    clients: full collections of a worker's heap stopped every request for up to 142 ms (the p99
    was theirs); after, nine young collections of ~3 ms in 10 s. Unreachable start-up objects are
    collected first, so nothing held only by garbage (a pooled connection) is kept for good."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def _listen_each(host: str, port: int, workers: int) -> list[socket.socket]:
    """A listening socket per worker on one port (``SO_REUSEPORT``): the kernel spreads new
    connections over them by a hash of their addresses and ports. One socket shared by every
    worker gave each burst of
    connections to whichever worker wakes first: 32 keep-alive clients were split 21/11, even
    30/2, and the busier worker's answers took twice as long."""
    try:  # taken by anything, another group of SO_REUSEPORT sockets too: say so, never join it
        socket.create_server((host, port), reuse_port=False).close()
        sockets = [socket.create_server((host, port), reuse_port=True, backlog=2048) for _ in range(workers)]
    except OSError as exc:
        raise ServeError(
            f"the page could not listen on {host}:{port} ({exc.strerror}; is the port taken?)."
        ) from None
    for sock in sockets:
        sock.set_inheritable(True)
        # Accepted connections inherit it: without it a keep-alive answer written in two parts
        # waits for the client's delayed ACK (Nagle), 40 ms a request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sockets


def _die_with_parent() -> None:
    """On Linux, a worker gets SIGTERM when the serving process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# ----------------------------------------------------------------------------------------------
# Background mode
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    pid: int
    url: str
    log: Path


def _paths(settings: Settings) -> tuple[Path, Path]:
    folder = settings.home / "web"
    return folder / "serve.pid", folder / "serve.log"


def _recorded(settings: Settings) -> dict[str, Any] | None:
    pid_file, _ = _paths(settings)
    try:
        record = json.loads(pid_file.read_text())
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if pid_alive(pid) else None


def healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
            return bool(json.loads(response.read()).get("ok"))
    except (OSError, urllib.error.URLError, ValueError):
        return False


RPC_URL_ENV = SERVE_RPC_URL_ENV


def background_command(
    *,
    network: str,
    rpc_url: str | None,
    host: str,
    port: int,
    db: str | None,
    workers: int = 1,
    codes_dir: Path | None = None,
    relayer: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a background page: the RPC URL goes in the
    environment (:data:`RPC_URL_ENV`), never in the arguments."""
    command = [sys.executable, "-m", "supplytrace.cli", "serve", "--network", network]
    command += ["--host", host, "--port", str(port)]
    if db:
        command += ["--db", db]
    if workers > 1:
        command += ["--workers", str(workers)]
    if codes_dir is not None:
        command += ["--codes-dir", str(codes_dir)]
    if relayer:
        command += ["--relayer", relayer]
    env = {key: value for key, value in os.environ.items() if key != RPC_URL_ENV}
    if rpc_url:
        env[RPC_URL_ENV] = rpc_url
    return command, env


def start_background(
    settings: Settings,
    *,
    network: str = DEVNET_NETWORK,
    rpc_url: str | None = None,
    host: str | None = None,
    port: int | None = None,
    db: str | None = None,
    workers: int = 1,
    codes_dir: Path | None = None,
    relayer: str | None = None,
    timeout: float = 90.0,
) -> Background:
    """Start ``supplytrace serve`` as a background process and wait until it answers."""
    host, port = listen_address(settings.resolver, host, port)
    url = f"http://{host}:{port}"
    pid_file, log_file = _paths(settings)
    if _recorded(settings) is not None:
        stop_background(settings)
    if healthy(url):
        raise ServeError(
            f"something already answers on {url}; stop it (`supplytrace serve --stop`) or set "
            "SUPPLYTRACE_RESOLVER to another port."
        )
    command, env = background_command(
        network=network,
        rpc_url=rpc_url,
        host=host,
        port=port,
        db=db,
        workers=workers,
        codes_dir=codes_dir,
        relayer=relayer,
    )
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:  # a fresh log per start: its last line explains a failed start
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    pid_file.write_text(json.dumps({"pid": process.pid, "url": url}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            lines = log_file.read_text(errors="replace").strip().splitlines() or ["(no output)"]
            reason = lines[-1].removeprefix("error: ")
            raise ServeError(
                f"the page could not start (exit code {process.returncode}): {reason} (log: {log_file})"
            )
        if healthy(url):
            return Background(process.pid, url, log_file)
        time.sleep(0.2)
    stop_process(process.pid, timeout=0)
    pid_file.unlink(missing_ok=True)
    raise ServeError(f"the page did not answer on {url} within {timeout:.0f} s; see {log_file}.")


def stop_background(settings: Settings, timeout: float = 10.0) -> bool:
    """Stop the background page recorded in the pid file. False if none was running."""
    pid_file, _ = _paths(settings)
    record = _recorded(settings)
    if record is None:
        pid_file.unlink(missing_ok=True)
        return False
    stop_process(int(record["pid"]), timeout=timeout)
    pid_file.unlink(missing_ok=True)
    return True
