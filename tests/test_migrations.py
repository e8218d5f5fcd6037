"""The migrated schema is exactly the metadata in `store/tables.py`, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from answerdesk.store.migrate import current_revision, head_revision, upgrade
from answerdesk.store.tables import metadata
from tests.factories import Desk


def test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()


def test_migrations_match_metadata(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_again_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_upgrade_to_0002_queues_existing_messages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from answerdesk.store.engine import create_engine_for_url

    engine = create_engine_for_url(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO accounts (id, number, name, timezone, region, created_at)"
            " VALUES (1, '1', 'A', 'UTC', 'US', '2024-01-01 00:00:00.000000')"
        )
        for message_id in (1, 2):
            connection.exec_driver_sql(
                "INSERT INTO messages (id, account_id, content, is_emergency, fields, created_at,"
                " created_second, status, updated_at) VALUES (?, 1, 'x', 0, '[]',"
                " '2024-01-01 00:00:00.000000', 1704067200, 'new', '2024-01-01 00:00:00.000000')",
                (message_id,),
            )
    upgrade(engine, "0002")
    with engine.connect() as connection:
        queued = connection.execute(sa.text("SELECT message_id, attempts FROM outbox")).all()
    engine.dispose()
    assert sorted(queued) == [(1, 0), (2, 0)]


def test_stored_message_json_is_compressed_with_lz4_on_postgresql(
    engine: Engine, desk: Desk
) -> None:
    """pglz decompression was ~40 % of PostgreSQL's time for a 1,000-row range (docs/performance.md)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not compress")
    with engine.connect() as connection:
        methods = connection.exec_driver_sql(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
        ).scalar_one()
        if "lz4" not in methods:
            pytest.skip("this PostgreSQL was built without lz4 (the migration keeps pglz)")
    account = desk.account()
    message_id = desk.take(account, "Please call back about the invoice. " * 60)
    with engine.connect() as connection:
        method = connection.exec_driver_sql(
            f"SELECT pg_column_compression(wire) FROM messages WHERE id = {int(message_id)}"
        ).scalar_one()
    assert method == "lz4"
