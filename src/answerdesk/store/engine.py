"""Build SQLAlchemy engines for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with `synchronous=FULL`, so a write acknowledged to an
agent survives a crash of the process or the machine, and readers never wait
for the writer. Foreign keys are on; a busy writer is waited for, not failed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Open SQLite connections kept per process (a file handle and a page cache each).
SQLITE_POOL_SIZE = 48
WRITE_OPTION = "answerdesk_write"


def _normalise_url(url: str) -> sa.URL:
    """Map plain `postgresql://` URLs to the psycopg 3 driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT;
    # take it over so SQLAlchemy's BEGIN is the one that counts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _on_sqlite_begin(connection: sa.Connection) -> None:
    # A write transaction takes the write lock up front (IMMEDIATE): two
    # writers queue on busy_timeout instead of one failing with "database is
    # locked" when it upgrades a read to a write. Reads stay DEFERRED so they
    # never wait for a writer (WAL).
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def create_engine_for_url(url: str, *, pool_size: int = 10) -> Engine:
    """Return an engine configured for answerdesk's needs on this backend."""
    parsed = _normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # One kept connection per thread that may ask for one (Starlette's
            # pool has 40): with SQLAlchemy's default of 5 + 10 overflow, busy
            # servers queued for connections and opened and closed overflow
            # ones (with their PRAGMAs) on every request (issue 7's profile).
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        sa.event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # The same at most 2 x pool_size connections per process as before,
        # all kept open once made: with pool_size + pool_size overflow, busy
        # servers closed overflow connections on return and opened new ones
        # (230 new PostgreSQL sessions in 5 s at 32 concurrent requests),
        # halving single-message throughput and quadrupling its p99 (issue 7).
        # UTF-8 whatever the environment's PGCLIENTENCODING says: the stored
        # renders are read as the client encoding's bytes (`textsend`,
        # messages/listing.py) and served as UTF-8 JSON.
        return sa.create_engine(
            parsed,
            pool_size=2 * pool_size,
            max_overflow=0,
            pool_pre_ping=True,
            connect_args={"client_encoding": "utf8"},
        )
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


def is_sqlite(engine: Engine | sa.Connection) -> bool:
    """Tell whether the engine or connection talks to SQLite."""
    return engine.dialect.name == "sqlite"


def is_postgres(engine: Engine | sa.Connection) -> bool:
    """Tell whether the engine or connection talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """Open one connection and one write transaction; commit on success."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """Open one connection and one read-only snapshot (never takes a write lock)."""
    with engine.connect() as connection, connection.begin():
        yield connection
