"""wire inline: keep stored message JSON uncompressed in the row on PostgreSQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

A ~1,000-row date range read each row's render (~1.9 KB) lz4-compressed in
the row, and decompressing them was a third of PostgreSQL's time for the
statement: 2.4 ms of backend CPU, 1.7 ms uncompressed in the row
(docs/performance.md, ninth look). `STORAGE EXTERNAL` stops compressing the
column; `toast_tuple_target` 8160 (the most PostgreSQL allows) keeps rows
up to a page in the heap instead of moving the render to the TOAST table,
which would cost an index lookup per row. The table grows by about half (a
render is stored at full size); renders over ~8 KB still go out of line.

Only values written from now on are stored this way (`answerdesk messages
prerender --force` rewrites the rest). SQLite does not compress.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    if _postgres():
        op.execute("ALTER TABLE messages ALTER COLUMN wire SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE messages SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if _postgres():
        op.execute("ALTER TABLE messages ALTER COLUMN wire SET STORAGE EXTENDED")
        op.execute("ALTER TABLE messages RESET (toast_tuple_target)")
