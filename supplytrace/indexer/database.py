"""The index database: where it is (URLs), engines (SQLite with WAL, or PostgreSQL), bulk
inserts, and the one-writer lock.

The schema is created with the engine; an index whose tables an older supplytrace made (another
:data:`~.schema.SCHEMA_VERSION`) is refused with the fix (``supplytrace index --reset``), which
drops and recreates them (:func:`recreate_tables`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, LargeBinary, UniqueConstraint, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, OperationalError

from supplytrace.indexer import schema
from supplytrace.indexer.errors import IndexerError

DB_ENV = "SUPPLYTRACE_INDEX_DB"
IN_BATCH = 500  # ids per IN (...) clause


# ----------------------------------------------------------------------------------------------
# Where the index is
# ----------------------------------------------------------------------------------------------


def resolve_url(db: str | os.PathLike[str] | None, home: Path) -> str:
    """The database URL: ``db`` (a URL or a file path), else ``$SUPPLYTRACE_INDEX_DB``, else
    ``<home>/index.db`` (SQLite). ``postgresql://`` URLs use the psycopg (3) driver."""
    value = str(db) if db else os.environ.get(DB_ENV) or str(home / "index.db")
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def display_url(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def exists(url: str) -> bool:
    """Whether an index database may exist at ``url`` (a missing SQLite file means no)."""
    path = sqlite_path(url)
    return path is None or path.exists()


# ----------------------------------------------------------------------------------------------
# Engines and tables
# ----------------------------------------------------------------------------------------------


#: Connections an engine keeps open: as many as the page's history threads read at once (a
#: connection made per read beyond them costs a connect and, for SQLite, its eight PRAGMAs).
POOL_SIZE = 16


def make_engine(url: str, *, create: bool = True, wait: float = 30.0) -> Engine:
    """An engine for ``url`` with the schema created (``create``); SQLite in WAL mode, a
    statement waiting at most ``wait`` seconds for another connection's write lock."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IndexerError(
            f"{url!r} is not a database URL; use a file path, sqlite:///PATH or postgresql://USER@HOST/DB."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
        event.listen(engine, "connect", functools.partial(_sqlite_connect, wait=wait))
        event.listen(engine, "begin", _sqlite_begin)
    elif backend == "postgresql":
        engine = create_engine(
            parsed, pool_pre_ping=True, paramstyle="format", pool_size=POOL_SIZE, max_overflow=POOL_SIZE
        )
    else:
        raise IndexerError(f"the index supports SQLite and PostgreSQL databases, not {backend!r} ({url}).")
    if create:
        try:
            create_tables(engine)
        except OperationalError as exc:
            raise IndexerError(
                f"cannot open the index database {display_url(url)}: {first_line(exc)}; check --db "
                f"(or ${DB_ENV}) and that the server is running."
            ) from None
    return engine


#: PostgreSQL's advisory lock (a number) held while a process creates missing tables.
_CREATING = 0x7375_7070_6C79  # "supply"


def create_tables(engine: Engine, tables: Sequence[Any] | None = None) -> None:
    """Create ``tables`` (default: all the index's) where missing, in one transaction that other
    processes doing the same wait for: an indexer and a page, or two pages, started together on a
    new database each find the tables the first made (each alone checked, then created, and the
    second failed on PostgreSQL on the first's half-made table, on SQLite on its lock)."""
    with engine.connect() as conn:
        conn.execution_options(immediate=True)  # SQLite: BEGIN IMMEDIATE (see _sqlite_begin)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATING})
            schema.metadata.create_all(conn, tables=tables, checkfirst=True)


def first_line(exc: BaseException) -> str:
    """The first line of a database error (the driver's own message)."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def tables_current(conn: Connection) -> bool:
    """Whether the tables are this schema version's: an older supplytrace kept serials, lot codes,
    names and reasons as text (PostgreSQL refuses their bytes; a rebuild recreates them), or knew
    no containers (issue #14)."""
    try:
        columns = {c["name"]: c["type"] for c in inspect(conn).get_columns(schema.items.name)}
    except NoSuchTableError:
        return True  # created with the engine; nothing to check
    return isinstance(columns.get("serial"), LargeBinary) and "container" in columns


def recreate_tables(engine: Engine) -> None:
    """Drop the index's tables (every chain's rows: they are of an older schema) and create them."""
    with engine.begin() as conn:
        schema.metadata.drop_all(conn)
        schema.metadata.create_all(conn)


def _sqlite_connect(dbapi_connection: Any, _record: Any, *, wait: float = 30.0) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={round(wait * 1000)}")  # first: another may be making it WAL
    # Before WAL, which fixes it: bulk inserts and commits ~15% faster than 16 KiB.
    cursor.execute("PRAGMA page_size=32768")
    _wal(cursor, wait)
    for pragma in (
        "synchronous=NORMAL",  # with WAL: a committed chunk survives a process crash
        "temp_store=MEMORY",
        "cache_size=-65536",
        "mmap_size=268435456",
        "wal_autocheckpoint=2500",  # pages of 32 KiB: checkpoint every ~80 MB of WAL, not every 32 MB
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _wal(cursor: sqlite3.Cursor, wait: float) -> None:
    """Make the file a write-ahead log's (once per file). Making it so takes the file alone, and
    SQLite does not wait for that in its busy handler: processes opening a new file together
    found it "locked" (1 in ~15 of six); each tries again for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE: the write lock at once (waiting busy_timeout for it), for a transaction that
    # reads before it writes and must not find its reads stale when it writes (create_tables).
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def read_connection(engine: Engine) -> Connection:
    """A connection whose transaction reads one snapshot (SQLite's WAL read transactions are;
    PostgreSQL's READ COMMITTED default is not, REPEATABLE READ is)."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


#: Prebuilt statements as SQLite's driver runs them (:func:`fetch`), by ``id`` of the statement.
_DIRECT: dict[int, tuple[Any, str, list[tuple[str, Any, bool, Any]], list[Any] | None]] = {}
_POSTCOMPILE = "__[POSTCOMPILE_{}]"
_REQUIRED = object()  # a bind parameter the caller must give


def fetch(conn: Connection, statement: Any, params: dict[str, Any]) -> list[Sequence[Any]]:
    """The rows of a prebuilt ``statement`` (a module-level constant with named bind parameters,
    lists for ``expanding`` ones) as tuples, in ``conn``'s transaction (begun if it is not).

    On SQLite it runs on the driver's connection with its SQL compiled once: SQLAlchemy's work
    around each execution (contexts, events, cache keys, result objects) cost an item page 40-60
    microseconds a statement, more than SQLite's answers. Values go through the column types'
    bind and result processors as SQLAlchemy's would (a Boolean column reads as a bool), and
    the driver's errors are raised as SQLAlchemy's; a parameter the statement needs and
    ``params`` lacks is a KeyError. Other databases: ``conn.execute`` (rows index like tuples)."""
    if conn.dialect.name != "sqlite":
        result = conn.execute(statement, params)
        return list(result) if result.returns_rows else []
    direct = _DIRECT.get(id(statement))
    if direct is None or direct[0] is not statement:
        direct = _DIRECT[id(statement)] = (statement, *_compiled(conn, statement))
    _statement, sql, binds, results = direct
    args: list[Any] = []
    for name, process, expanding, fixed in binds:
        value = params[name] if name in params or fixed is _REQUIRED else fixed
        if expanding:
            values = list(value)
            sql = sql.replace(_POSTCOMPILE.format(name), ", ".join("?" * len(values)) or "NULL", 1)
            args += values if process is None else map(process, values)
        else:
            args.append(value if process is None else process(value))
    if not conn.in_transaction():
        conn.begin()  # (as conn.execute would: one read transaction, one snapshot)
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        rows: list[Sequence[Any]] = driver.execute(sql, args).fetchall()
    except sqlite3.Error as exc:  # as SQLAlchemy raises it: callers catch its errors
        raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc
    if results is None:
        return rows
    return [tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True)) for row in rows]


def _compiled(
    conn: Connection, statement: Any
) -> tuple[str, list[tuple[str, Any, bool, Any]], list[Any] | None]:
    """The SQL, each positional parameter (name, bind processor, expanding, value when the
    statement holds it: a literal such as ``count + 1``) and the result columns' processors."""
    compiled = statement.compile(dialect=conn.dialect)
    binds = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        fixed = _REQUIRED if bind.required else bind.value
        binds.append((name, bind.type.bind_processor(conn.dialect), bool(bind.expanding), fixed))
    results = [column.type.result_processor(conn.dialect, None) for column in compiled._result_columns]
    return compiled.string, binds, (results if any(results) else None)


# ----------------------------------------------------------------------------------------------
# Bulk inserts
# ----------------------------------------------------------------------------------------------


def _insert(conn: Connection, table: Any) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


SQL: dict[tuple[Any, ...], str] = {}
#: Rows per INSERT statement at most: many rows per statement keep the GIL released while SQLite
#: works (sqlite3 releases it once per statement step, so executemany would re-acquire it per
#: row and stall behind the fetch thread). Statements hold a power of two of rows, so that a few
#: shapes serve every batch from sqlite3's statement cache: preparing a 2,000-row INSERT costs
#: ~10x running it.
ROWS_PER_STATEMENT = 2048
#: SQLite's limit on parameters per statement (32,766 since 3.32; 999 before).
_SQLITE_MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
Fixed = dict[str, int | None]


def _literal(value: int | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"only integers and None are written as SQL literals, not {value!r}")
    return str(int(value))


def _statement(conn: Connection, table: Any, mode: str, rows: int, fixed: Fixed) -> str:
    key = (conn.dialect.name, table.name, mode, rows, tuple(sorted(fixed.items())))
    sql = SQL.get(key)
    if sql is None:
        stmt = _insert(conn, table)
        if mode == "ignore":
            stmt = stmt.on_conflict_do_nothing()
        elif mode == "upsert":
            keys = key_columns(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
            )
        names = [c.name for c in table.columns]
        compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
        if not compiled.positional or list(compiled.positiontup or ()) != names:
            raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
        text_sql = compiled.string
        start = text_sql.index(" VALUES (") + len(" VALUES ")
        end = text_sql.index(")", start) + 1
        marks = text_sql[start + 1 : end - 1].split(", ")
        if len(marks) != len(names) or set(fixed) - set(names):
            raise RuntimeError(f"unexpected VALUES clause for {table.name}: {text_sql[start:end]}")
        values = [_literal(fixed[n]) if n in fixed else m for n, m in zip(names, marks, strict=True)]
        group = "(" + ", ".join(values) + ")"
        sql = SQL[key] = text_sql[:start] + ", ".join([group] * rows) + text_sql[end:]
    return sql


def key_columns(table: Any) -> list[str]:
    """The columns that identify a row: the primary key, else the first unique constraint."""
    keys = [c.name for c in table.primary_key.columns]
    if not keys:
        unique = next(c for c in table.constraints if isinstance(c, UniqueConstraint))
        keys = [c.name for c in unique.columns]
    return keys


def bulk(
    conn: Connection,
    table: Any,
    rows: Sequence[tuple[Any, ...]],
    mode: str = "insert",
    *,
    chain_id: int | None = None,
    fixed: Fixed | None = None,
) -> None:
    """Insert ``rows``: values of the table's columns in column order, except ``chain_id`` and
    the ``fixed`` ones (the same integer or NULL for every row, written into the statement as
    literals: binding a value costs more than SQLite's work for it). On SQLite multi-row INSERTs
    of up to ``ROWS_PER_STATEMENT`` rows (powers of two: 2,000 rows go as 1,024 + 512 + ...),
    on PostgreSQL one pipelined executemany; ``mode`` "ignore" skips rows whose
    key exists, "upsert" overwrites them.

    The statement is built with SQLAlchemy Core, compiled once per dialect and shape, and run
    with ``exec_driver_sql``: SQLAlchemy's per-row bind processing would cost more than the
    database.
    """
    if not rows:
        return
    fixed = {**({"chain_id": chain_id} if chain_id is not None else {}), **(fixed or {})}
    if conn.dialect.name == "postgresql":  # psycopg pipelines executemany; huge statements are slow
        conn.exec_driver_sql(_statement(conn, table, mode, 1, fixed), list(rows))
        return
    bound = len(table.columns) - len(fixed)
    size = _statement_rows(min(ROWS_PER_STATEMENT, _SQLITE_MAX_PARAMETERS // max(1, bound)))
    start = 0
    while start < len(rows):
        while size > len(rows) - start:
            size //= 2
        part = rows[start : start + size]
        conn.exec_driver_sql(
            _statement(conn, table, mode, size, fixed), tuple(itertools.chain.from_iterable(part))
        )
        start += size


def _statement_rows(limit: int) -> int:
    """The largest power of two at most ``limit`` (at least 1)."""
    return 1 << (max(1, limit).bit_length() - 1)


def chunks(values: Sequence[Any], size: int = IN_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ----------------------------------------------------------------------------------------------
# One writer at a time
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def writer_lock(engine: Engine, chain_id: int, url: str) -> Iterator[None]:
    """Hold the index's writer lock (one indexer per index and chain at a time): a lock file
    beside a SQLite file, a session advisory lock on PostgreSQL."""
    path = sqlite_path(str(engine.url))
    if path is not None:
        lock_path = path.with_name(path.name + ".lock")
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexerError(
                    f"another indexer is writing {path} (lock {lock_path}); stop it or wait for it to finish."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = 0x5A7E0000 ^ chain_id
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                raise IndexerError(
                    f"another indexer is writing chain {chain_id} in {url}; stop it or wait for it to finish."
                )
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    yield
