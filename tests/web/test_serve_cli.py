"""`supplytrace serve`: the start-up checks say what is wrong in one sentence, never a traceback.
(The background page on a real devnet is exercised end to end by test_browser.py via the demo.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from supplytrace.web.server import RPC_URL_ENV, ServeError, _listen_each, background_command, listen_address
from tests.indexer.conftest import pg_server  # noqa: F401  (a real PostgreSQL server)
from tests.indexer.postgres import create_database
from tests.web.conftest import RELAYER, ROOT, Coded, World, free_port, head_block


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        SUPPLYTRACE_HOME=str(tmp_path / "home"),
        SUPPLYTRACE_DEPLOYMENTS=str(tmp_path / "deployments"),
        SUPPLYTRACE_DEVNET_PORT=str(free_port()),
        SUPPLYTRACE_RESOLVER=f"http://127.0.0.1:{free_port()}",
        PYTHONPATH=str(ROOT),
        COLUMNS="200",
    )
    return subprocess.run(
        [sys.executable, "-m", "supplytrace.cli", "serve", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_serve__devnet_not_running__one_sentence_error(tmp_path: Path) -> None:
    result = _serve(tmp_path)
    assert result.returncode == 1
    assert "the local devnet is not running" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_background__devnet_not_running__reports_the_page_s_error(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--background")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "the page could not start (exit code 1): the local devnet is not running" in message
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "home" / "web" / "serve.pid").exists()


def test_serve_stop__nothing_running__says_so(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--stop")
    assert result.returncode == 0
    assert "verification page was not running." in result.stdout


@pytest.mark.parametrize(
    ("resolver", "expected"),
    [
        ("http://127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("https://id.example.com", ("id.example.com", 443)),
        ("http://localhost/resolver", ("localhost", 80)),
    ],
)
def test_listen_address__resolver_base__host_and_port_of_the_qr_codes(
    resolver: str, expected: tuple[str, int]
) -> None:
    assert listen_address(resolver) == expected
    assert listen_address(resolver, "0.0.0.0", 9000) == ("0.0.0.0", 9000)


SECRET_URL = "https://eth-sepolia.example.com/v2/SECRET-API-KEY-123"


def test_serve_background__rpc_url_with_an_api_key__never_in_the_log_or_the_command_line(
    tmp_path: Path,
) -> None:
    result = _serve(tmp_path, "--background", "--rpc-url", SECRET_URL)
    assert result.returncode == 1  # no deployment recorded: the page says so and stops
    log = (tmp_path / "home" / "web" / "serve.log").read_text()
    assert "no deployment is recorded" in log
    assert "SECRET-API-KEY" not in log + result.stdout + result.stderr


def test_background_command__rpc_url__passed_in_the_environment_not_the_arguments() -> None:
    command, env = background_command(
        network="ethereum:sepolia:node", rpc_url=SECRET_URL, host="127.0.0.1", port=8000, db=None
    )
    assert not any("SECRET-API-KEY" in part for part in command)  # argv is readable by every local user
    assert env[RPC_URL_ENV] == SECRET_URL


def test_background_command__workers__passed_on_to_the_page() -> None:
    command, _env = background_command(
        network="ethereum:local:node", rpc_url=None, host="127.0.0.1", port=8000, db=None, workers=3
    )
    assert command[command.index("--workers") + 1] == "3"
    single, _env = background_command(network="ethereum:local:node", rpc_url=None, host="h", port=1, db=None)
    assert "--workers" not in single


def test_settle__before_serving__garbage_collected_first_then_the_heap_set_aside() -> None:
    """What a page process does before serving (``server._settle``): a start-up object held only
    by garbage (a cycle; say a pooled connection's holder) is collected, not kept for good; the
    live heap is frozen (the collector no longer walks it) and young collections are rarer."""
    import gc
    import weakref

    from supplytrace.web.server import GC_THRESHOLD, _settle

    class Holder:
        pass

    threshold = gc.get_threshold()
    cycle = Holder()
    cycle.me = cycle  # type: ignore[attr-defined]
    held = weakref.ref(cycle)
    del cycle
    try:
        _settle()
        assert held() is None
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold() == (GC_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_listen_each__two_workers__a_socket_each_on_one_port_and_both_get_connections() -> None:
    """One socket per worker (SO_REUSEPORT): a burst of connections is spread over both, where
    one shared socket gave them to whichever worker woke first (21/11, once 30/2 of 32)."""
    import socket

    port = free_port()
    sockets = _listen_each("127.0.0.1", port, 2)
    clients = []
    try:
        assert [s.getsockname()[1] for s in sockets] == [port, port]
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        accepted = [0, 0]
        for index, sock in enumerate(sockets):
            sock.setblocking(False)
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[index] += 1
        assert sum(accepted) == 64 and min(accepted) >= 8, accepted
    finally:
        for sock in [*sockets, *clients]:
            sock.close()


def test_listen_each__port_taken__one_sentence_and_never_joins_another_group() -> None:
    import socket

    for reuse_port in (False, True):  # a plain server, or another group of workers on the port
        port = free_port()
        other = socket.create_server(("127.0.0.1", port), reuse_port=reuse_port)
        try:
            with pytest.raises(ServeError, match=f"could not listen on 127.0.0.1:{port} .*is the port taken"):
                _listen_each("127.0.0.1", port, 2)
        finally:
            other.close()


def test_serve__two_workers__both_answer_and_a_sigterm_ends_every_process(
    world: World, tmp_path: Path
) -> None:
    """`serve --workers 2`: two processes share the socket, each with its own reads; ending the
    serving process ends them all."""
    import signal
    import time

    import httpx

    from supplytrace.core.deployments import save

    save(tmp_path / "deployments", world.deployment, force=True)
    port = free_port()
    env = dict(os.environ)
    env.update(
        SUPPLYTRACE_HOME=str(world.home),
        SUPPLYTRACE_DEPLOYMENTS=str(tmp_path / "deployments"),
        SUPPLYTRACE_RESOLVER=f"http://127.0.0.1:{port}",
        PYTHONPATH=str(ROOT),
    )
    command = [sys.executable, "-m", "supplytrace.cli", "serve", "--network", "ethereum:local"]
    process = subprocess.Popen(
        [*command, "--rpc-url", world.rpc_url, "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        workers = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(workers) == 2
        path = f"/item/{world.key('genuine').id_hex}"
        with httpx.Client(base_url=url, timeout=30) as client:
            assert all(client.get(path).status_code == 200 for _ in range(10))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    finally:
        if process.poll() is None:
            process.kill()


def test_serve__two_processes_one_postgresql__one_rate_limit_and_one_scan_count(
    world: World,
    register_coded: Callable[[int], Coded],
    codes_folder: Path,
    pg_server: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Two `supplytrace serve` processes (a brand outgrowing one server, behind a load balancer)
    on one PostgreSQL database: one count of checks and one limit of wrong codes between them."""
    import concurrent.futures
    import time

    import httpx

    from supplytrace.core.deployments import save
    from supplytrace.web.claims import ITEM_LIMITS

    coded = register_coded(1)
    db = create_database(pg_server, "supplytrace_two_page_processes")
    save(tmp_path / "deployments", world.deployment, force=True)
    ports = [free_port(), free_port()]
    processes = []
    for port in ports:
        env = dict(os.environ)
        env.update(
            SUPPLYTRACE_HOME=str(world.home),
            SUPPLYTRACE_DEPLOYMENTS=str(tmp_path / "deployments"),
            SUPPLYTRACE_RESOLVER=f"http://127.0.0.1:{port}",
            SUPPLYTRACE_PAGE_SECRET="one secret for every page server of the brand",
            PYTHONPATH=str(ROOT),
        )
        command = [sys.executable, "-m", "supplytrace.cli", "serve", "--network", "ethereum:local"]
        options = ["--rpc-url", world.rpc_url, "--db", db, "--codes-dir", str(codes_folder)]
        processes.append(
            subprocess.Popen(
                [*command, *options, "--relayer", f"TEST::{RELAYER}"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
        )
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=True):
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert process.poll() is None, f"the page at {url} did not start"
        clients = [httpx.Client(base_url=url, timeout=60, headers={"Origin": url}) for url in urls]
        item = f"/item/0x{coded.keys[0].id.hex()}"
        assert clients[0].get(item).status_code == clients[1].get(item).status_code == 200
        assert "Checked 3 times since" in " ".join(clients[0].get(item).text.split())
        code = coded.code()
        wrong = ("2" if code[0] != "2" else "3") + code[1:]
        before = head_block(world)

        def post(n: int) -> int:
            return clients[n % 2].post(f"{item}/claim", data={"code": wrong}).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(post, range(24)))
        allowed = ITEM_LIMITS[0][1]
        assert sorted(answers) == [400] * allowed + [429] * (24 - allowed)
        assert head_block(world) == before  # no wrong code sent anything
        for client in clients:
            client.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
