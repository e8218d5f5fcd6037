"""wire lz4: compress stored message JSON with lz4 on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

Most stored renders are ~2 KB, past PostgreSQL's TOAST threshold, so each is
compressed; with the default pglz, decompressing them was ~40 % of
PostgreSQL's time for a 1,000-row date range (docs/performance.md). lz4
decompresses several times faster at about the same size. Only values
written from now on use it (`answerdesk messages prerender --force`
rewrites the rest). A server built without lz4 keeps pglz; SQLite does not
compress.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods: list[str] | None = bind.exec_driver_sql(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
    ).scalar()
    return methods is not None and "lz4" in methods


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE messages ALTER COLUMN wire SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE messages ALTER COLUMN wire SET COMPRESSION pglz")
