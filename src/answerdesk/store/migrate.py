"""Run Alembic migrations from code, safely when several processes start at once."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from answerdesk.store.engine import WRITE_OPTION

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Arbitrary but fixed: every answerdesk process upgrading one PostgreSQL
#: database takes this advisory lock, so only one of them migrates at a time.
UPGRADE_LOCK_KEY = 0x616E7377  # "answ"


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is already there."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            connection.commit()
        try:
            # One transaction for the whole upgrade. On SQLite it begins
            # IMMEDIATE: a second process waits for the write lock, then finds
            # the schema current and does nothing.
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                command.upgrade(_alembic_config(connection), revision)
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK_KEY}
                )
                connection.commit()


def head_revision() -> str | None:
    """Return the newest migration this code knows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Tell whether the database schema matches this code."""
    return current_revision(engine) == head_revision()
