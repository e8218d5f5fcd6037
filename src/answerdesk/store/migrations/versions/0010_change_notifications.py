"""change notifications: PostgreSQL tells every process which account's answers changed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

The fast path keeps single answers in memory (api/kept_answers.py). On
SQLite a commit is seen in the shared WAL index; PostgreSQL has no such
signal, so these triggers send one: `NOTIFY answerdesk_changed` with the
account's id as payload (or `*`: forget everything) in the transaction of
every write that can change a kept answer. PostgreSQL delivers it to every
listening process once that transaction commits, and only then.

What a kept answer is made of, and so what notifies:

* a message's stored render (`messages.wire`) and its account's number and
  time zone: an update or delete of a message that had a render (one
  without has never been kept), a change of an account's number or zone, an
  account deleted;
* a text message's row and its lead's or contact's open deals: an update or
  delete of a text message, any write to a deal;
* `TRUNCATE` of any of them: everything.

New rows need no notice: only answers found are kept. A trigger rather than
the application's code, so that every writer (any version, any tool, plain
SQL) is covered. SQLite gets nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION answerdesk_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('answerdesk_changed', '*');
    ELSIF TG_TABLE_NAME = 'accounts' THEN
        PERFORM pg_notify('answerdesk_changed', OLD.id::text);
    ELSE
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('answerdesk_changed', OLD.account_id::text);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('answerdesk_changed', NEW.account_id::text);
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""

#: (trigger name, table, timing and events, level and condition)
_TRIGGERS = [
    ("answerdesk_messages_changed", "messages", "AFTER UPDATE OR DELETE",
     "FOR EACH ROW WHEN (OLD.wire IS NOT NULL)"),
    ("answerdesk_accounts_changed", "accounts", "AFTER UPDATE OF number, timezone",
     "FOR EACH ROW WHEN (OLD.number IS DISTINCT FROM NEW.number"
     " OR OLD.timezone IS DISTINCT FROM NEW.timezone)"),
    ("answerdesk_accounts_deleted", "accounts", "AFTER DELETE", "FOR EACH ROW"),
    ("answerdesk_text_messages_changed", "text_messages", "AFTER UPDATE OR DELETE",
     "FOR EACH ROW"),
    ("answerdesk_deals_changed", "deals", "AFTER INSERT OR UPDATE OR DELETE", "FOR EACH ROW"),
] + [
    (f"answerdesk_{table}_truncated", table, "AFTER TRUNCATE", "FOR EACH STATEMENT")
    for table in ("messages", "accounts", "text_messages", "deals")
]  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    for name, table, events, level in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} {events} ON {table} {level}"
            " EXECUTE FUNCTION answerdesk_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _events, _level in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS answerdesk_changed()")
