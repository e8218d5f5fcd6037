"""Fixtures: a real database per test (SQLite file; PostgreSQL when its URL is set).

Every test that takes `engine` (or anything built on it) runs once on SQLite
and once on PostgreSQL when `ANSWERDESK_TEST_POSTGRES_URL` is set. Under
`CI=true` a configured but unreachable PostgreSQL fails the run instead of
skipping it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from starlette.testclient import TestClient

from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.store.engine import create_engine_for_url
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import metadata
from tests.crm_support import carry_all
from tests.factories import ClientLogin, Desk

POSTGRES_URL = os.environ.get("ANSWERDESK_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "answerdesk.db"
    engine = create_engine_for_url(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped after."""
    if not POSTGRES_URL:
        pytest.skip("ANSWERDESK_TEST_POSTGRES_URL is not set")
    admin = sa.create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"answerdesk_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unreachable: {error}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine_for_url(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "answerdesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine_for_url(url)
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for_url(database_url, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, stream_chunk_size=100)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    return create_app(settings, engine=engine)


@pytest.fixture
def http(app: Any) -> Iterator[TestClient]:
    """An HTTP client talking to the app in-process."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def desk(engine: Engine) -> Desk:
    """Factories for accounts, users, tokens and messages on the test database."""
    return Desk(engine)


@pytest.fixture
def hot_world(desk: Desk, engine: Engine) -> tuple[Any, ClientLogin, int, int]:
    """An account with a client, one message taken and carried: (account, login, message id,
    text message id), for the fast path's tests."""
    account = desk.account(fields=[("Reason", False)])
    login = desk.client_of(account)
    message_id = desk.take(
        account, "Läuft: call back «today»", phone="(617) 555-0123", fields={"Reason": "Leak"}
    )
    carry_all(engine)
    with engine.connect() as connection:
        text_id = connection.execute(sa.text("SELECT max(id) FROM text_messages")).scalar_one()
    return account, login, message_id, text_id
