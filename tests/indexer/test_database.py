"""``database.fetch``: the page's prebuilt statements run on SQLite's driver directly answer
exactly what SQLAlchemy's execution answers, on either backend, whatever the rows hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from supplytrace.indexer import reader, scans, schema
from supplytrace.indexer.database import fetch, make_engine

CHAIN_ID = 1337
ADDRESSES = [f"0x{n:040X}" for n in range(1, 7)]

participants = st.lists(
    st.tuples(
        st.sampled_from(ADDRESSES),
        st.none() | st.binary(max_size=40),  # any bytes a name may hold: NUL, invalid UTF-8
        st.none() | st.binary(max_size=40),
        st.booleans(),
        st.booleans(),
        st.integers(0, 2**62),
    ),
    max_size=6,
    unique_by=lambda p: p[0],
)


def _fill(engine: Engine, rows: Sequence[tuple[Any, ...]]) -> None:
    with engine.begin() as conn:
        conn.execute(schema.participants.delete())
        for address, name, description, registrar, admin, block in rows:
            conn.execute(
                insert(schema.participants).values(
                    chain_id=CHAIN_ID, address=address, verified_name=name, description=description,
                    registrar=registrar, admin=admin, last_block=block, last_log_index=0,
                )
            )  # fmt: skip


def _both(engine: Engine, statement: Any, params: dict[str, Any]) -> tuple[list[tuple[Any, ...]], ...]:
    """(fetch's rows, SQLAlchemy's rows) of ``statement``, each in a transaction of its own."""
    with engine.connect() as conn:
        direct = [tuple(r) for r in fetch(conn, statement, params)]
    with engine.connect() as conn:
        executed = [tuple(r) for r in conn.execute(statement, params)]
    return direct, executed


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite file for the property test's examples (each empties the table first)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fetch') / 'index.db'}", create=True)
    yield engine
    engine.dispose()


@settings(max_examples=60, deadline=None)
@given(rows=participants, wanted=st.lists(st.sampled_from(ADDRESSES), max_size=6))
def test_fetch__participants_of_any_bytes_and_roles__as_sqlalchemy_answers(
    sqlite_engine: Engine, rows: list[tuple[Any, ...]], wanted: list[str]
) -> None:
    """An expanding IN (none, one or several addresses), raw bytes and Boolean columns (a bool,
    not SQLite's 0/1)."""
    _fill(sqlite_engine, rows)
    params = {"chain": CHAIN_ID, "addresses": wanted}
    direct, executed = _both(sqlite_engine, reader._PARTICIPANTS, params)
    assert sorted(direct) == sorted(executed)
    assert len(direct) == len(set(wanted) & {r[0] for r in rows})
    assert all(type(r[3]) is bool and type(r[4]) is bool for r in direct)


def test_fetch__every_page_statement__as_sqlalchemy_answers_on_either_backend(
    make_db: Callable[[], str],
) -> None:
    engine = make_engine(make_db(), create=True)
    try:
        _fill(engine, [(ADDRESSES[0], b"Acme\x00", None, True, False, 7)])
        chain = {"chain": CHAIN_ID}
        item = bytes(range(32))
        cases: list[tuple[Any, dict[str, Any]]] = [
            (reader._STATUS, chain),
            (reader._ITEM_AND_LOT, chain | {"item": item}),
            (reader._OWN_EVENTS, chain | {"key": schema.item_key(item)}),
            (reader._LOT_EVENTS, chain | {"lot": 1}),
            (reader._CONTAINER, chain | {"box": item}),
            (reader._CONTAINERS_OF, chain | {"members": [item, bytes(32)]}),
            (reader._PARTICIPANTS, chain | {"addresses": ADDRESSES[:2]}),
            (reader._PARTICIPANTS, chain | {"addresses": []}),
        ]
        for statement, params in cases:
            direct, executed = _both(engine, statement, params)
            assert direct == executed, statement
        # A statement holding its own values (count = 1, count + 1) and an aggregate.
        count = scans._count_scan(engine.dialect.name)
        tally = {"chain": CHAIN_ID, "item_id": item, "busy": 2, "after": 0}
        for day in (20_000, 20_000, 20_001):
            with engine.begin() as conn:
                assert fetch(conn, count, {"chain": CHAIN_ID, "item_id": item, "day": day}) == []
        assert _both(engine, scans._TALLY, tally) == ([(3, 20_000, 1, 3)], [(3, 20_000, 1, 3)])
    finally:
        engine.dispose()


def test_fetch__outside_a_transaction__reads_begin_one_so_every_read_sees_one_snapshot(
    make_db: Callable[[], str],
) -> None:
    """On SQLite the driver runs each statement on its own unless a transaction is open: fetch
    opens one as SQLAlchemy would, so a writer between two reads is seen by neither."""
    url = make_db()
    engine, writer = make_engine(url, create=True), make_engine(url, create=False)
    try:
        _fill(engine, [(ADDRESSES[0], None, None, False, False, 1)])
        params = {"chain": CHAIN_ID, "addresses": ADDRESSES}
        with reader.read_connection(engine) as conn:
            assert len(fetch(conn, reader._PARTICIPANTS, params)) == 1
            assert conn.in_transaction()
            _fill(writer, [(a, None, None, False, False, 1) for a in ADDRESSES])
            assert len(fetch(conn, reader._PARTICIPANTS, params)) == 1
        with engine.connect() as conn:
            assert len(fetch(conn, reader._PARTICIPANTS, params)) == len(ADDRESSES)
    finally:
        engine.dispose()
        writer.dispose()


def test_fetch__sqlite_driver_fails__raised_as_sqlalchemy_raises_it(make_db: Callable[[], str]) -> None:
    """Callers catch SQLAlchemy's errors (a locked file, a missing table): the driver's own
    exception never escapes them."""
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(make_db(), create=False)  # no tables
    try:
        with engine.connect() as conn:
            try:
                fetch(conn, reader._STATUS, {"chain": CHAIN_ID})
            except DBAPIError as exc:
                assert "checkpoint" in str(exc.orig)
            else:
                raise AssertionError("a read of a missing table answered")
    finally:
        engine.dispose()


def test_fetch__a_parameter_missing__refused_not_read_as_null(make_db: Callable[[], str]) -> None:
    """A read that forgot its key must fail, not quietly find nothing (an item "not indexed")."""
    from sqlalchemy.exc import StatementError

    engine = make_engine(make_db(), create=True)
    try:
        with engine.connect() as conn, pytest.raises((KeyError, StatementError)):
            fetch(conn, reader._ITEM_AND_LOT, {"chain": CHAIN_ID})
    finally:
        engine.dispose()
