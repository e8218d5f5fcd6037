"""answer changes: on SQLite, count the writes that can change a kept answer

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23

Each server process keeps single answers in memory (api/hot_readers.py).
On SQLite it saw that the database changed from the WAL index, which every
commit rewrites, so any commit at all dropped every kept answer: each new
message taken, each token's once-a-minute `last_used_at`. These triggers
count only the writes that can change a kept answer, the same list as
PostgreSQL's notices (0010), in `answer_changes`' one row; a process that
sees the WAL index change reads that count, and keeps its answers when the
count has not moved:

* a message that had a render, updated or deleted;
* an account's number or time zone changed, or the account deleted;
* a text message updated or deleted; any write to a deal.

A trigger rather than the application's code, so that every writer (any
version, any tool, plain SQL) is covered. On PostgreSQL the table is created
and left empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: (trigger name, table, event, condition)
_TRIGGERS = [
    ("answerdesk_messages_updated", "messages", "UPDATE", "OLD.wire IS NOT NULL"),
    ("answerdesk_messages_deleted", "messages", "DELETE", "OLD.wire IS NOT NULL"),
    ("answerdesk_accounts_changed", "accounts", "UPDATE OF number, timezone",
     "OLD.number IS NOT NEW.number OR OLD.timezone IS NOT NEW.timezone"),
    ("answerdesk_accounts_deleted", "accounts", "DELETE", None),
    ("answerdesk_text_messages_updated", "text_messages", "UPDATE", None),
    ("answerdesk_text_messages_deleted", "text_messages", "DELETE", None),
    ("answerdesk_deals_inserted", "deals", "INSERT", None),
    ("answerdesk_deals_updated", "deals", "UPDATE", None),
    ("answerdesk_deals_deleted", "deals", "DELETE", None),
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "answer_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("INSERT INTO answer_changes (id, changes) VALUES (1, 0)")
    for name, table, event, condition in _TRIGGERS:
        when = f" WHEN {condition}" if condition else ""
        op.execute(  # the names and conditions are the constants above
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} BEGIN"  # noqa: S608
            " UPDATE answer_changes SET changes = changes + 1 WHERE id = 1; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, _table, _event, _condition in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("answer_changes")
