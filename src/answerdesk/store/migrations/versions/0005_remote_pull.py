"""remote pull: checkpoints and the remote-to-local message map of `sync pull`

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from answerdesk.store.types import Id, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_checkpoints",
        sa.Column("id", Id, nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("last_remote_id", sa.BigInteger(), nullable=True),
        sa.Column("last_pulled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_pull_checkpoints_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_checkpoints")),
        sa.UniqueConstraint(
            "source_url", "account_id", name=op.f("uq_pull_checkpoints_source_url_account_id")
        ),
    )
    op.create_table(
        "pulled_messages",
        sa.Column("id", Id, nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("remote_message_id", sa.BigInteger(), nullable=False),
        sa.Column("local_message_id", Id, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_pulled_messages_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["local_message_id"],
            ["messages.id"],
            name=op.f("fk_pulled_messages_local_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulled_messages")),
        sa.UniqueConstraint(
            "source_url",
            "account_id",
            "remote_message_id",
            name=op.f("uq_pulled_messages_source_url_account_id_remote_message_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("pulled_messages")
    op.drop_table("pull_checkpoints")
