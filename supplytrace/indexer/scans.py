"""The verification page's own records in the index database: checks of an item per day
(``scans``) and hidden-code claim attempts per window (``claim_attempts``), see
:mod:`~supplytrace.indexer.schema`.

Every change is one atomic statement (an upsert that adds to the stored count and returns it), so
page processes sharing one database (PostgreSQL, or one SQLite file) share one count and one
rate limit. :class:`PageBook` answers ``supplytrace.web.claims.Book``; the page calls it from
worker threads.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, and_, bindparam, case, create_engine, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from supplytrace.indexer import schema
from supplytrace.indexer.database import create_tables, fetch, make_engine

#: A day number past every real one: "checks after" a day that is not there counts none.
NO_DAY = 2**31 - 1


def _insert(dialect: str, table: Any) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


@functools.cache
def _count_scan(dialect: str) -> Any:
    """One more check of an item on a day (every page view runs it: built once per dialect)."""
    c = schema.scans.c
    return (
        _insert(dialect, schema.scans)
        .values(chain_id=bindparam("chain"), item_id=bindparam("item_id"), day=bindparam("day"), count=1)
        .on_conflict_do_update(index_elements=[c.chain_id, c.item_id, c.day], set_={"count": c.count + 1})
    )


_c = schema.scans.c
#: An item's checks: in all, the first day, days with ``busy`` or more, and after day ``after``.
_TALLY = select(
    func.coalesce(func.sum(_c.count), 0),
    func.min(_c.day),
    func.coalesce(func.sum(case((_c.count >= bindparam("busy"), 1), else_=0)), 0),
    func.coalesce(func.sum(case((_c.day > bindparam("after"), _c.count), else_=0)), 0),
).where(and_(_c.chain_id == bindparam("chain"), _c.item_id == bindparam("item_id")))


class PageBook:
    """Scans and claim attempts of chain ``chain_id`` in the database of ``engine``."""

    def __init__(
        self, engine: Engine, chain_id: int, *, shared_connection: bool = False, quick: Engine | None = None
    ) -> None:
        self.engine = engine
        self.chain_id = chain_id
        #: The same SQLite file, never waiting for another connection's lock (:meth:`try_scanned`).
        self._quick = quick
        # SQLite: one writer at a time, and a writer that finds the database locked sleeps in
        # SQLite's busy handler (1, 2, 5 ... 100 ms): the page's threads take turns here instead
        # (every HTML view counts a scan; under 32 clients the sleeps made 2 s answers). One
        # in-memory connection also serves every thread one at a time. PostgreSQL locks rows.
        self._lock: threading.Lock | None = (
            threading.Lock() if shared_connection or engine.dialect.name == "sqlite" else None
        )
        self._count_scan = _count_scan(engine.dialect.name)

    @classmethod
    def open(cls, url: str, chain_id: int) -> PageBook:
        """The book in the database at ``url``; its two tables are created if missing (and only
        they: an index database the indexer has not made stays one it has not made)."""
        engine = make_engine(url, create=False)
        create_tables(engine, schema.PAGE)
        quick = make_engine(url, create=False, wait=0) if engine.dialect.name == "sqlite" else None
        return cls(engine, chain_id, quick=quick)

    @classmethod
    def in_memory(cls, chain_id: int) -> PageBook:
        """A book of this process alone (no index database): counts end with the process."""
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        for table in schema.PAGE:
            table.create(engine)
        return cls(engine, chain_id, shared_connection=True)

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self._lock or contextlib.nullcontext(), self.engine.begin() as conn:
            yield conn

    # -- scans -------------------------------------------------------------------------------------

    def scanned(
        self, item_id: bytes, day: int | None, *, busy: int, after_day: int | None
    ) -> tuple[int, int | None, int, int]:
        """Count one check of ``item_id`` on ``day`` (None: count nothing), then (checks in all,
        the first day checked, days with ``busy`` checks or more, checks on days after
        ``after_day``): one upsert and one aggregate of the item's rows, in one transaction."""
        with self._begin() as conn:
            return self._scan(conn, item_id, day, busy, after_day)

    def try_scanned(
        self, item_id: bytes, day: int | None, *, busy: int, after_day: int | None
    ) -> tuple[int, int | None, int, int] | None:
        """:meth:`scanned` if it can be done at once, without waiting for a lock (a SQLite file
        that no other connection is writing to: a page runs it on its event loop); None, having
        counted nothing, if it cannot."""
        lock = self._lock
        if self._quick is None or lock is None or not lock.acquire(blocking=False):
            return None
        try:
            with self._quick.begin() as conn:
                return self._scan(conn, item_id, day, busy, after_day)
        except OperationalError as exc:
            if "locked" in str(exc.orig) or "busy" in str(exc.orig):
                return None  # another process writes now: rolled back, to be counted by scanned()
            raise
        finally:
            lock.release()

    def _scan(
        self, conn: Connection, item_id: bytes, day: int | None, busy: int, after_day: int | None
    ) -> tuple[int, int | None, int, int]:
        item, chain = bytes(item_id), self.chain_id
        if day is not None:
            fetch(conn, self._count_scan, {"chain": chain, "item_id": item, "day": day})
        after = NO_DAY if after_day is None else after_day
        (row,) = fetch(conn, _TALLY, {"chain": chain, "item_id": item, "busy": busy, "after": after})
        total, first, busy_days, later = row
        return int(total), (int(first) if first is not None else None), int(busy_days), int(later)

    # -- claim attempts ----------------------------------------------------------------------------

    def attempt(self, counters: Sequence[tuple[str, bytes, int]]) -> list[int]:
        """Add one to each counter (scope, key, window start) and return their counts after, in
        one transaction: each is one upsert ... RETURNING, so concurrent attempts (in any process)
        each see a count of their own."""
        c = schema.claim_attempts.c
        counts: dict[tuple[str, bytes, int], int] = {}
        with self._begin() as conn:
            for scope, key, window in sorted(counters):  # one order: no deadlock between two attempts
                stmt = _insert(conn.dialect.name, schema.claim_attempts).values(
                    chain_id=self.chain_id, scope=scope, key=bytes(key), window_start=window, count=1
                )
                stmt = stmt.on_conflict_do_update(
                    index_elements=[c.chain_id, c.scope, c.key, c.window_start], set_={"count": c.count + 1}
                ).returning(c.count)
                counts[(scope, key, window)] = int(conn.execute(stmt).scalar_one())
        return [counts[(scope, key, window)] for scope, key, window in counters]

    def refund(self, counters: Sequence[tuple[str, bytes, int]]) -> None:
        """Take back one attempt of each counter (one that turned out not to be a wrong code)."""
        c = schema.claim_attempts.c
        with self._begin() as conn:
            for scope, key, window in sorted(counters):
                conn.execute(
                    update(schema.claim_attempts)
                    .where(
                        and_(
                            c.chain_id == self.chain_id,
                            c.scope == scope,
                            c.key == bytes(key),
                            c.window_start == window,
                            c.count > 0,
                        )
                    )
                    .values(count=c.count - 1)
                )

    def prune(self, before: int) -> int:
        """Forget the attempts of windows that started before ``before`` (unix seconds)."""
        c = schema.claim_attempts.c
        with self._begin() as conn:
            deleted = conn.execute(
                schema.claim_attempts.delete().where(
                    and_(c.chain_id == self.chain_id, c.window_start < before)
                )
            )
        return int(deleted.rowcount or 0)

    def close(self) -> None:
        self.engine.dispose()
        if self._quick is not None:
            self._quick.dispose()
