"""Running the verification page: configuration from the deployment record, uvicorn, and the
background mode used by ``supplytrace serve --background`` and ``make demo``.

The page listens where the QR codes point: the host and port of ``SUPPLYTRACE_RESOLVER``
(default ``http://127.0.0.1:8000``). A background page records its pid in
``$SUPPLYTRACE_HOME/web/serve.pid`` and logs to ``serve.log`` beside it;
``supplytrace serve --stop`` (and ``make demo-stop``) ends it by that pid.

History comes from the event index when there is one for this registry on the node's chain
(``--db``, else ``$SUPPLYTRACE_INDEX_DB``, else ``$SUPPLYTRACE_HOME/index.db``), with the chain's
events after the index's checkpoint added on every read; otherwise from the chain's logs. The
item's status never comes from history: it is read live on every request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eth_utils import keccak, to_checksum_address

from supplytrace.chain.devnet import pid_alive
from supplytrace.core.config import Settings
from supplytrace.core.deployments import Deployment, load
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.web.app import PageConfig, create_app
from supplytrace.web.rpc import ChainUnavailableError, RpcError, SyncRpc
from supplytrace.web.sources import HistorySource

DEVNET_NETWORK = "ethereum:local:node"


class ServeError(RuntimeError):
    """The page cannot start or stop; the message says what to do."""


def listen_address(resolver: str, host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Host and port to listen on: given ones, else those of the resolver base URL."""
    parts = urlsplit(resolver)
    default_port = 443 if parts.scheme == "https" else 80
    return host or parts.hostname or "127.0.0.1", port or parts.port or default_port


def check_chain(rpc: SyncRpc, deployment: Deployment) -> None:
    """The node must be the recorded chain and hold the recorded registry code."""
    try:
        chain_id = int(rpc.make_request("eth_chainId", []), 16)
        code = rpc.make_request("eth_getCode", [deployment.address, "latest"])
    except (ChainUnavailableError, RpcError) as exc:
        raise ServeError(f"cannot read the chain at {rpc.url}: {exc}") from None
    if chain_id != deployment.chain_id:
        raise ServeError(
            f"the node at {rpc.url} is chain {chain_id}, but the registry for {deployment.key} was deployed "
            f"on chain {deployment.chain_id}; check --network and --rpc-url."
        )
    if code in (None, "0x", ""):
        raise ServeError(
            f"no registry code at {deployment.address} on {deployment.key}; the chain was reset. "
            "Deploy again (`supplytrace deploy --force`) or run `make demo`."
        )
    if "0x" + keccak(bytes.fromhex(code[2:])).hex() != deployment.runtime_bytecode_keccak:
        raise ServeError(
            f"the code at {deployment.address} is not the code recorded for {deployment.key}; "
            "the record belongs to another deployment. Deploy again or fix deployments/."
        )


def history_source(config: PageConfig, *, db: str | None = None, home: Path) -> tuple[HistorySource, str]:
    """The page's history, and a line saying where it comes from: what
    ``supplytrace.service.history.open_history`` decides (the event index plus the chain after
    its checkpoint, else the chain's logs), seen through :class:`PortHistory` until the page
    reads the port itself."""
    from supplytrace.chain.rpc import Rpc as ChainRpc
    from supplytrace.service.history import open_history

    deployment = config.deployment or Deployment(
        config.ecosystem, config.network, config.chain_id, config.registry, "", config.deployment_block,
        "", "", "", "", "",
    )  # fmt: skip
    source, reason = open_history(ChainRpc(config.rpc_url), deployment, db=db, home=home)
    return PortHistory(source), f"history: {reason}"


class PortHistory:
    """The page's ``web.sources.HistorySource`` over a ``chain.history.HistorySource`` (``port``):
    events as the page's ``HistoryEvent`` (arguments keyed by the ABI's names, codes as their
    bytes32 words, strings as their safe rendering)."""

    def __init__(self, port: Any) -> None:
        self.port = port

    @staticmethod
    def _event(log: Any) -> Any:
        from supplytrace.core import abi
        from supplytrace.core.text import ChainText
        from supplytrace.web.sources import HistoryEvent

        inputs = abi.entries("event")[log.name]["inputs"]
        args = {}
        values = [getattr(log.event, f.name) for f in dataclasses.fields(log.event)]
        for param, value in zip(inputs, values, strict=True):
            if isinstance(value, ChainText):
                value = value.raw.ljust(32, b"\0") if param["type"] == "bytes32" else str(value)
            args[param["name"]] = value
        return HistoryEvent(log.name, log.block_number, log.log_index, log.tx_hash, log.timestamp or 0, args)

    def item_history(self, item_id: bytes) -> list[Any]:
        return [self._event(e) for e in self.port.item_history(item_id)]

    def lot(self, lot_id: int, item_limit: int = 50) -> Any:
        from supplytrace.web.sources import LotHistory, LotItem

        found = self.port.lot(lot_id, item_limit)
        if found is None:
            return None
        items = [LotItem(i.item_id, str(i.serial)) for i in found.items]
        return LotHistory(lot_id, [self._event(e) for e in found.events], found.item_count, items)

    def participants(self, addresses: Any) -> dict[str, Any]:
        from supplytrace.web.sources import Participant

        def text(value: Any) -> str | None:
            return None if value is None else str(value)

        return {
            a: Participant(a, text(p.verified_name), text(p.description))
            for a, p in self.port.participants(addresses).items()
        }

    def indexed_block(self) -> int | None:
        result: int | None = self.port.indexed_block()
        return result


def page_config(
    settings: Settings, network: str, rpc_url: str, *, links: ExplorerLinks | None = None
) -> PageConfig:
    """Configuration for ``network`` (ecosystem:network[:provider]) from its deployment record."""
    ecosystem, name = [*network.split(":"), "", ""][:2]
    deployment = load(settings.deployments, ecosystem, name)
    if links is None:
        links = ExplorerLinks.for_network(ecosystem, name, resolver=settings.resolver)
    return PageConfig(
        rpc_url=rpc_url,
        registry=to_checksum_address(deployment.address),
        chain_id=deployment.chain_id,
        ecosystem=ecosystem,
        network=name,
        deployment_block=deployment.block,
        resolver=settings.resolver,
        metadata_folder=settings.home / "metadata",
        links=links,
        deployment=deployment,
    )


def build(settings: Settings, network: str, rpc_url: str, *, db: str | None = None) -> tuple[Any, str]:
    """The checked app for ``network``, read from ``rpc_url`` (history: see :func:`history_source`),
    and a line saying where its history comes from."""
    config = page_config(settings, network, rpc_url)
    rpc = SyncRpc(rpc_url, timeout=10)
    assert config.deployment is not None  # page_config always reads the record
    try:
        check_chain(rpc, config.deployment)
    finally:
        rpc.close()
    try:
        source, note = history_source(config, db=db, home=settings.home)
    except (ChainUnavailableError, RpcError) as exc:
        raise ServeError(f"cannot read the chain at {rpc_url}: {exc}") from None
    return create_app(config, source), note


def run(app: Any, host: str, port: int) -> None:
    """Serve until interrupted (SIGINT/SIGTERM), in this process."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    )
    server.run()
    if not server.started:
        raise ServeError(f"the page could not listen on {host}:{port} (is the port taken?).")


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


def start_background(
    settings: Settings,
    *,
    network: str = DEVNET_NETWORK,
    rpc_url: str | None = None,
    host: str | None = None,
    port: int | None = None,
    db: str | None = None,
    timeout: float = 90.0,
) -> Background:
    """Start ``supplytrace serve`` as a background process and wait until it answers."""
    host, port = listen_address(settings.resolver, host, port)
    url = f"http://{host}:{port}"
    pid_file, log_file = _paths(settings)
    running = _recorded(settings)
    if running is not None:
        stop_background(settings)
    if healthy(url):
        raise ServeError(
            f"something already answers on {url}; stop it (`supplytrace serve --stop`) or set "
            "SUPPLYTRACE_RESOLVER to another port."
        )
    command = [sys.executable, "-m", "supplytrace.cli", "serve", "--network", network]
    command += ["--host", host, "--port", str(port)]
    if rpc_url:
        command += ["--rpc-url", rpc_url]
    if db:
        command += ["--db", db]
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:  # a fresh log per start: its last line explains a failed start
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
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
    os.killpg(process.pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    raise ServeError(f"the page did not answer on {url} within {timeout:.0f} s; see {log_file}.")


def stop_background(settings: Settings, timeout: float = 10.0) -> bool:
    """Stop the background page recorded in the pid file. False if none was running."""
    pid_file, _ = _paths(settings)
    record = _recorded(settings)
    if record is None:
        pid_file.unlink(missing_ok=True)
        return False
    pid = int(record["pid"])
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True
