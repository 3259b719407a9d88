"""The page's book in the index database (PageBook): a scan counted on the page's event loop
only when nothing has to wait for it (``try_scanned``), else by ``scanned`` from a thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import pytest

from supplytrace.indexer.database import sqlite_path
from supplytrace.indexer.scans import PageBook

ITEM = bytes(range(32))
CHAIN_ID = 1337


def _open(url: str) -> PageBook:
    return PageBook.open(url, CHAIN_ID)


def test_try_scanned__sqlite_file_no_other_writer__counts_as_scanned_does(
    make_db: Callable[[], str], backend: str
) -> None:
    url = make_db()
    book, other = _open(url), _open(url)
    try:
        quick = book.try_scanned(ITEM, 20_000, busy=5, after_day=None)
        if backend != "sqlite":  # a database server is never asked on the event loop
            assert quick is None
            return
        assert quick == (1, 20_000, 0, 0)
        assert other.scanned(ITEM, 20_001, busy=5, after_day=20_000) == (2, 20_000, 0, 1)
        assert book.try_scanned(ITEM, None, busy=1, after_day=None) == (2, 20_000, 2, 0)
    finally:
        book.close()
        other.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_try_scanned__another_process_holds_the_write_lock__none_at_once_and_nothing_counted(
    make_db: Callable[[], str],
) -> None:
    """Another page process writing its own count holds SQLite's write lock: the quick count
    does not wait for it (scanned() would, from a thread) and leaves no half-count behind."""
    url = make_db()
    book = _open(url)
    path = sqlite_path(url)
    assert path is not None
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert book.try_scanned(ITEM, 20_000, busy=5, after_day=None) is None
        assert time.monotonic() - started < 5  # not SQLite's 30 s wait
        writer.execute("COMMIT")
        assert book.scanned(ITEM, None, busy=5, after_day=None) == (0, None, 0, 0)
        assert book.try_scanned(ITEM, 20_000, busy=5, after_day=None) == (1, 20_000, 0, 0)
    finally:
        writer.close()
        book.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_try_scanned__a_thread_of_this_process_in_the_book__none(make_db: Callable[[], str]) -> None:
    book = _open(make_db())
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with book._begin():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        assert book.try_scanned(ITEM, 20_000, busy=5, after_day=None) is None
    finally:
        leave.set()
        thread.join()
    assert book.try_scanned(ITEM, 20_000, busy=5, after_day=None) == (1, 20_000, 0, 0)
    book.close()


def test_try_scanned__book_in_memory__none() -> None:
    book = PageBook.in_memory(CHAIN_ID)
    assert book.try_scanned(ITEM, 20_000, busy=5, after_day=None) is None
    assert book.scanned(ITEM, 20_000, busy=5, after_day=None) == (1, 20_000, 0, 0)
    book.close()


def _at_once(count: int, open_one: Callable[[], object]) -> list[BaseException]:
    """``open_one()`` in ``count`` threads released together (each its own engine, as processes
    starting together have); the errors they raised."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait(30)
        try:
            opened = open_one()
        except BaseException as exc:  # (collected: the test names them)
            errors.append(exc)
        else:
            close = getattr(opened, "close", None) or opened.dispose  # type: ignore[attr-defined]
            close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_open__page_processes_starting_together_on_a_new_database__each_opens_the_book(
    make_db: Callable[[], str],
) -> None:
    """Two page servers of one brand started at once (a load balancer's pair, a rolling start)
    on a database with no book yet: both create its tables if missing. On PostgreSQL one of them
    failed with the other's table half-made (``pg_type`` duplicate key) and served with a book in
    its own memory: its own check counts and its own limit of wrong codes."""
    for _ in range(3):
        url = make_db()
        assert _at_once(6, lambda url=url: _open(url)) == []


def test_make_engine__indexers_and_pages_starting_together__each_creates_or_finds_the_tables(
    make_db: Callable[[], str],
) -> None:
    """``supplytrace index`` and ``serve`` (or two indexers of two chains) started together on a
    new database: each creates the index's tables if missing, none fails on the other's."""
    from supplytrace.indexer.database import make_engine

    for _ in range(3):
        url = make_db()
        assert _at_once(6, lambda url=url: make_engine(url, create=True)) == []
