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
