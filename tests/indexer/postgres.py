"""A throwaway PostgreSQL server for the tests and the benchmark (not a test module).

``temporary_server()`` runs ``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package (or any
PostgreSQL whose ``pg_ctl`` is on PATH) in a temporary folder, on a free loopback port, and
removes it afterwards. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user the package creates. ``make test`` installs the package when it is missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

URL_ENV = "SUPPLYTRACE_TEST_POSTGRES_URL"


class PostgresMissingError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    raise PostgresMissingError(
        "PostgreSQL is not installed (no initdb/pg_ctl): run `make test`, which installs Debian's "
        f"postgresql package, or set {URL_ENV} to a server's URL."
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], as_postgres: bool) -> None:
    command = ["runuser", "-u", "postgres", "--", *args] if as_postgres else args
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@contextlib.contextmanager
def temporary_server(*, durable: bool = False) -> Iterator[str]:
    """The URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``) of a new server.
    ``durable=False`` turns fsync off (tests); the benchmark keeps PostgreSQL's defaults."""
    bindir = _bin_dir()
    as_postgres = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="supplytrace-pg-"))
    data = folder / "data"
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=50"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            as_postgres,
        )
        _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            as_postgres,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], as_postgres)
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
