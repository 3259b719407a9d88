"""Nonces of one account, handed out one at a time across threads and processes of this host.

Two senders of one account that ask the node for its pending nonce at the same moment get the
same number; the second transaction then replaces the first (anvil takes any higher fee) or is
refused. So a nonce is allocated and its transaction handed to the node under a per-account lock:
a thread lock within the process and ``fcntl.flock`` on ``<lock_dir>/<address>.lock`` across
processes (where ``fcntl`` exists; elsewhere only the thread lock). The lock is held from asking
for the nonce until the node has answered the send, never while waiting for a block.

The next nonce is the larger of the node's pending count and the next one this host handed out
(``<lock_dir>/<address>.json``): a node behind a load balancer may not count a transaction the
previous send gave to another of its nodes. The host's number is trusted only while the node
knows the transaction it was recorded with; a dropped one would leave a gap nothing fills.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supplytrace.chain.rpc import Rpc, hex_int

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()
#: The host's record when there is no lock folder: address -> (next nonce, hash of the last).
_memory: dict[str, tuple[int, str]] = {}


def _thread_lock(key: str) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(key, threading.Lock())


class NonceBook:
    """The nonces of ``address`` on ``rpc``; the lock and record live in ``lock_dir`` (None: in
    this process only)."""

    def __init__(self, rpc: Rpc, address: str, lock_dir: Path | None) -> None:
        self.rpc = rpc
        self.address = address
        self.lock_dir = lock_dir
        name = address.lower()
        self._lock_path = lock_dir / f"{name}.lock" if lock_dir else None
        self._record_path = lock_dir / f"{name}.json" if lock_dir else None
        self._key = str(self._lock_path or name)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the account's lock (threads of this process, then other processes)."""
        with _thread_lock(self._key):
            if self._lock_path is None or fcntl is None:
                yield
                return
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock_path.open("a+") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def next_nonce(self, *, at_least: int = 0) -> int:
        """The nonce for the next transaction (call with the lock held): the node's pending count,
        the host's next one while the node knows the transaction recorded with it, or
        ``at_least`` (past a nonce found taken), whichever is largest."""
        nonce = max(at_least, hex_int(self.rpc.request("eth_getTransactionCount", [self.address, "pending"])))
        recorded = self._recorded()
        if recorded is not None and recorded[0] > nonce and self._known(recorded[1]):
            nonce = recorded[0]
        return nonce

    def handed_out(self, nonce: int, tx_hash: str) -> None:
        """Record that ``nonce`` went to the node with ``tx_hash`` (call with the lock held)."""
        recorded = self._recorded()
        if recorded is not None and recorded[0] > nonce + 1 and self._known(recorded[1]):
            return  # a later nonce is already out (a replacement of an earlier one)
        entry = (nonce + 1, tx_hash)
        if self._record_path is None:
            _memory[self._key] = entry
            return
        temporary = self._record_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"next": entry[0], "tx": entry[1]}))
        temporary.replace(self._record_path)

    def _recorded(self) -> tuple[int, str] | None:
        if self._record_path is None:
            return _memory.get(self._key)
        try:
            data: Any = json.loads(self._record_path.read_text())
            return int(data["next"]), str(data["tx"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _known(self, tx_hash: str) -> bool:
        return self.rpc.request("eth_getTransactionByHash", [tx_hash]) is not None
