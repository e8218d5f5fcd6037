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


def test_stored_message_json_stays_uncompressed_in_the_row_on_postgresql(
    engine: Engine, desk: Desk
) -> None:
    """Decompressing renders was a third of PostgreSQL's time for a 1,000-row range.

    Migration 0011 (docs/performance.md, ninth look): no compression, and rows
    up to a page stay in the heap rather than in the TOAST table.
    """
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not compress")
    account = desk.account()
    # ~2.3 KB of text: past the 2 KB at which PostgreSQL compresses by default.
    message_id = desk.take(account, "Please call back about the invoice. " * 60)
    with engine.connect() as connection:
        storage = connection.exec_driver_sql(
            "SELECT attstorage FROM pg_attribute"
            " WHERE attrelid = 'messages'::regclass AND attname = 'wire'"
        ).scalar_one()
        options = connection.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE oid = 'messages'::regclass"
        ).scalar_one()
        method, stored, length = connection.exec_driver_sql(
            "SELECT pg_column_compression(wire), pg_column_size(wire), octet_length(wire)"
            f" FROM messages WHERE id = {int(message_id)}"
        ).one()
    assert storage == "e"
    assert "toast_tuple_target=8160" in options
    assert method is None and stored >= length > 2000
