"""The relayer's spending caps and its book of use, kept in SQLite so a restart resets nothing.

Per UTC day, each signer (the actor whose signature is relayed) may have at most
``actions_per_signer`` actions and ``gas_per_signer`` gas relayed, and the relayer spends at
most ``gas_per_day`` gas in all. Before a transaction is sent its gas limit is reserved
(:meth:`UsageBook.reserve`): the check and the reservation are one SQLite write transaction
(``BEGIN IMMEDIATE``), so two requests, in threads or processes, never both take the last slot.
Once mined the reservation is settled to the gas used (:meth:`UsageBook.settle`); a send the node
refused is released (:meth:`UsageBook.release`). Each relayed transaction is also recorded
(:meth:`UsageBook.record`, :meth:`UsageBook.lookup`).

The book is ``<SUPPLYTRACE_HOME>/relay/usage.sqlite3``: table ``usage(chain_id, day, signer,
actions, gas)`` (signer ``*``: the relayer's total) and ``relayed(tx_hash, ...)``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supplytrace.core.errors import SupplytraceError

ALL = "*"  # the signer column of the relayer's own daily total

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    chain_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    signer TEXT NOT NULL,
    actions INTEGER NOT NULL,
    gas INTEGER NOT NULL,
    PRIMARY KEY (chain_id, day, signer)
);
CREATE TABLE IF NOT EXISTS relayed (
    tx_hash TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    signer TEXT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    block INTEGER,
    status TEXT NOT NULL,
    gas_used INTEGER
);
"""


class CapExceededError(SupplytraceError):
    """A cap of the relayer would be passed; nothing was sent."""


@dataclass(frozen=True)
class Caps:
    """Per UTC day: actions and gas per signer, and the relayer's gas in all."""

    actions_per_signer: int = 200
    gas_per_signer: int = 10_000_000
    gas_per_day: int = 200_000_000


@dataclass(frozen=True)
class Reservation:
    chain_id: int
    day: str
    signer: str
    gas: int


def utc_day() -> str:
    return datetime.now(UTC).date().isoformat()


class UsageBook:
    """The book in the SQLite file ``path`` (made on first use); ``today`` gives the UTC day."""

    def __init__(self, path: Path, *, today: Callable[[], str] = utc_day) -> None:
        self.path = path
        self.today = today
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before anything is read (no two writers interleave)."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def used(self, chain_id: int, signer: str, day: str | None = None) -> tuple[int, int]:
        """(actions, gas) of ``signer`` (``*``: the relayer) on ``day`` (default today)."""
        with self._connection() as db:
            return _row(db, chain_id, day or self.today(), signer.lower())

    def reserve(self, chain_id: int, signer: str, gas: int, caps: Caps) -> Reservation:
        """Count one action of ``signer`` and ``gas`` against today's caps, or refuse."""
        day, signer = self.today(), signer.lower()
        with self._write() as db:
            actions, used = _row(db, chain_id, day, signer)
            _, total = _row(db, chain_id, day, ALL)
            if actions + 1 > caps.actions_per_signer:
                raise CapExceededError(
                    f"{signer} has had its {caps.actions_per_signer} relayed actions of today (UTC); "
                    "nothing was sent. Try again tomorrow, or send the action yourself."
                )
            if used + gas > caps.gas_per_signer:
                raise CapExceededError(
                    f"{signer} has used {used:,} of its {caps.gas_per_signer:,} relayed gas of today (UTC) "
                    f"and this action needs up to {gas:,}; nothing was sent. Try again tomorrow."
                )
            if total + gas > caps.gas_per_day:
                raise CapExceededError(
                    f"the relayer has spent its {caps.gas_per_day:,} gas of today (UTC); nothing was sent. "
                    "Try again tomorrow, or send the action yourself."
                )
            _add(db, chain_id, day, signer, 1, gas)
            _add(db, chain_id, day, ALL, 0, gas)
        return Reservation(chain_id, day, signer, gas)

    def settle(self, reservation: Reservation, gas_used: int) -> None:
        """The transaction is mined: count the gas it used instead of the gas reserved."""
        change = gas_used - reservation.gas
        with self._write() as db:
            _add(db, reservation.chain_id, reservation.day, reservation.signer, 0, change)
            _add(db, reservation.chain_id, reservation.day, ALL, 0, change)

    def release(self, reservation: Reservation) -> None:
        """Nothing was sent: give the action and its gas back."""
        with self._write() as db:
            _add(db, reservation.chain_id, reservation.day, reservation.signer, -1, -reservation.gas)
            _add(db, reservation.chain_id, reservation.day, ALL, 0, -reservation.gas)

    def record(self, reservation: Reservation, tx_hash: str, kind: str, item: str, **outcome: Any) -> None:
        """Record (or update) relayed transaction ``tx_hash``: ``status`` ("sent", "success",
        "reverted"), ``block``, ``gas_used``."""
        with self._write() as db:
            db.execute(
                "INSERT INTO relayed (tx_hash, chain_id, day, signer, kind, item, block, status, gas_used) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tx_hash) DO UPDATE SET "
                "block = excluded.block, status = excluded.status, gas_used = excluded.gas_used",
                (
                    tx_hash,
                    reservation.chain_id,
                    reservation.day,
                    reservation.signer,
                    kind,
                    item,
                    outcome.get("block"),
                    outcome.get("status", "sent"),
                    outcome.get("gas_used"),
                ),
            )

    def lookup(self, tx_hash: str) -> dict[str, Any] | None:
        """What was recorded of relayed transaction ``tx_hash``, or None."""
        with self._connection() as db:
            row = db.execute(
                "SELECT tx_hash, chain_id, day, signer, kind, item, block, status, gas_used "
                "FROM relayed WHERE tx_hash = ?",
                (tx_hash.lower(),),
            ).fetchone()
        if row is None:
            return None
        keys = ("tx_hash", "chain_id", "day", "signer", "kind", "item", "block", "status", "gas_used")
        return dict(zip(keys, row, strict=True))


def _row(db: sqlite3.Connection, chain_id: int, day: str, signer: str) -> tuple[int, int]:
    row = db.execute(
        "SELECT actions, gas FROM usage WHERE chain_id = ? AND day = ? AND signer = ?",
        (chain_id, day, signer),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _add(db: sqlite3.Connection, chain_id: int, day: str, signer: str, actions: int, gas: int) -> None:
    db.execute(
        "INSERT INTO usage (chain_id, day, signer, actions, gas) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (chain_id, day, signer) DO UPDATE SET "
        "actions = actions + excluded.actions, gas = gas + excluded.gas",
        (chain_id, day, signer, actions, gas),
    )
