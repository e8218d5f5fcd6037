"""rerender owed: a time-zone change records that the account's stored JSON needs a walk

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

`accounts.rerender_owed` counts the zone changes no finished walk has caught
up with yet (0: none), so `answerdesk serve` can finish a walk that a
restart cut short (messages/rerender.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN with a default (no table rebuild on SQLite).
    op.add_column(
        "accounts",
        sa.Column("rerender_owed", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("rerender_owed")
