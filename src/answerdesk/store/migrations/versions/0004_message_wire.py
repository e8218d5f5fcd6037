"""message wire: each message's API JSON, rendered when it is written

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Lists are served by joining this stored text (issue 7). Rows written before
this revision have none and are rendered when read, exactly as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite): instant on a big table.
    op.add_column("messages", sa.Column("wire", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("wire_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("wire_zone")
        batch.drop_column("wire")
