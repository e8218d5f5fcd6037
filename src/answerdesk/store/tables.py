"""Table definitions (SQLAlchemy Core). Migrations must produce exactly these.

`tests/test_migrations.py` compares a migrated database with this metadata, so
a table changed here without a migration fails the suite.
"""

from __future__ import annotations

import sqlalchemy as sa

from answerdesk.store.types import Id, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

#: The account's script: extra fields an agent fills in, in `position` order.
script_fields = sa.Table(
    "script_fields",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("required", sa.Boolean, nullable=False, default=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Id, primary_key=True),
    # Stored lower-cased: e-mail addresses are unique case-insensitively.
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=True, index=True),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('admin', 'agent', 'client')", name="role"),
    sa.CheckConstraint("role <> 'client' OR account_id IS NOT NULL", name="client_account"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False, index=True),
    # SHA-256 of the token, hex. The token itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(12), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("taken_by_user_id", Id, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("for_user_id", Id, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("resource", sa.String(200), nullable=True),
    sa.Column("first_name", sa.String(200), nullable=True),
    sa.Column("last_name", sa.String(200), nullable=True),
    sa.Column("company_name", sa.String(200), nullable=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("caller_id", sa.String(40), nullable=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("is_emergency", sa.Boolean, nullable=False, default=False),
    # JSON list of [labelName, label, value], script order, filled fields only:
    # a snapshot, so later script edits never change a stored message.
    sa.Column("fields", sa.Text, nullable=False, default="[]"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # created_at truncated to whole epoch seconds: the documented list order
    # is (second, id), and an index on it makes that order a range scan.
    sa.Column("created_second", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="new"),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Column("delivered_to", sa.String(320), nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('new', 'delivered', 'read', 'archived')", name="status"),
    sa.Index("ix_messages_account_created", "account_id", "created_second", "id"),
    sa.Index("ix_messages_account_id", "account_id", "id"),
    # Never reuse an id on SQLite, even after the newest row is deleted:
    # pollers resume with after_id and must never see an id twice.
    sqlite_autoincrement=True,
)

#: A repeated agent POST with the same Idempotency-Key returns the first result.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("message_id", Id, sa.ForeignKey("messages.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("user_id", "key"),
)
