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
    # Zone changes that no finished re-render walk has caught up with yet
    # (messages/rerender.py): `serve` resumes the walk of any account above 0.
    sa.Column("rerender_owed", sa.Integer, nullable=False, server_default="0"),
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
    # The message's API JSON without `account_number` (messages/wire.py
    # `stored_wire`), rendered in the account's zone `wire_zone` when the
    # message was written, so lists join stored text (issue 7). Every write
    # to a message refreshes it (messages/prerender.py); NULL, or a zone that
    # is no longer the account's, makes readers render the row instead.
    sa.Column("wire", sa.Text, nullable=True),
    sa.Column("wire_zone", sa.String(64), nullable=True),
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


# ---------------------------------------------------------------------------
# CRM and outbox (issue 3): the built-in CRM every message is carried into,
# and the transactional outbox that carries it. Migration 0002.
# ---------------------------------------------------------------------------

#: Lead statuses the pipeline and `crm convert` set; others may be imported.
LEAD_CONVERTED = "Converted"

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("first_name", sa.String(200), nullable=True),
    sa.Column("last_name", sa.String(200), nullable=True),
    sa.Column("organization_name", sa.String(200), nullable=True),
    # E.164 when the account's region makes it a possible number, else as given.
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("mobile", sa.String(40), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    # `email` lower-cased: e-mails match case-insensitively through an index.
    sa.Column("email_key", sa.String(320), nullable=True),
    sa.Column("status", sa.String(64), nullable=False),
    sa.Column("source", sa.String(200), nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Every lookup ends in `id`, so "the lowest id" is the first index entry.
    sa.Index("ix_leads_account_id", "account_id", "id"),
    sa.Index("ix_leads_account_phone", "account_id", "phone", "id"),
    sa.Index("ix_leads_account_mobile", "account_id", "mobile", "id"),
    sa.Index("ix_leads_account_email", "account_id", "email_key", "id"),
    sa.Index("ix_leads_account_created", "account_id", "created_at", "id"),
    sa.Index("ix_leads_account_updated", "account_id", "updated_at", "id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("is_organization", sa.Boolean, nullable=False, default=False),
    sa.Column("first_name", sa.String(200), nullable=True),
    sa.Column("last_name", sa.String(200), nullable=True),
    sa.Column("organization_name", sa.String(200), nullable=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("mobile", sa.String(40), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_key", sa.String(320), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_contacts_account_id", "account_id", "id"),
    sa.Index("ix_contacts_account_phone", "account_id", "phone", "id"),
    sa.Index("ix_contacts_account_mobile", "account_id", "mobile", "id"),
    sa.Index("ix_contacts_account_email", "account_id", "email_key", "id"),
    sa.Index("ix_contacts_account_created", "account_id", "created_at", "id"),
    sa.Index("ix_contacts_account_updated", "account_id", "updated_at", "id"),
)

deals = sa.Table(
    "deals",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("value", sa.Numeric(18, 2), nullable=True),
    sa.Column("stage", sa.String(16), nullable=False),
    # Exactly one of the two: the deal's lead, or its contact.
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=True),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("stage IN ('open', 'won', 'lost')", name="stage"),
    sa.CheckConstraint("(lead_id IS NULL) <> (contact_id IS NULL)", name="one_record"),
    sa.Index("ix_deals_lead", "lead_id", "id"),
    sa.Index("ix_deals_contact", "contact_id", "id"),
)

#: Incoming text messages: one per carried message (unique `message_id`).
text_messages = sa.Table(
    "text_messages",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    # 1, 2, 3, ... per account with no gaps (carrying is serialised per
    # account), so Sell's page number maps to a range of `seq`: page 1000 is
    # an index range scan, not an OFFSET over 100k rows.
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_id", Id, sa.ForeignKey("messages.id"), nullable=False, unique=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("user_phone_number", sa.String(40), nullable=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("incoming", sa.Boolean, nullable=False),
    sa.Column("resource_phone_number", sa.String(40), nullable=True),
    sa.Column("resource_type", sa.String(16), nullable=False),
    sa.Column("resource_id", Id, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("resource_type IN ('lead', 'contact', 'none')", name="resource_type"),
    sa.UniqueConstraint("account_id", "seq"),
    sa.Index("ix_text_messages_account_id", "account_id", "id"),
    sa.Index("ix_text_messages_resource", "account_id", "resource_type", "resource_id", "id"),
)

#: The transactional outbox: one row per message still to carry into the CRM.
#: Written in the message's own transaction; deleted in the transaction that
#: carries it, so a crash at any point leaves it either carried or still here.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("message_id", Id, sa.ForeignKey("messages.id"), nullable=False, unique=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    # Set when the row is parked as a dead letter; `worker --retry-dead` clears it.
    sa.Column("dead_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_outbox_due", "dead_at", "next_attempt_at", "id"),
)


# ---------------------------------------------------------------------------
# Console: sign-in sessions, sign-in throttling, password links, audit log.
# Created by migration 0003.
# ---------------------------------------------------------------------------

#: A signed-in browser. Only the SHA-256 of the cookie's token is stored, so a
#: copy of the database does not let anyone sign in as anybody.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

#: Failed sign-ins (and reset requests), counted per client address and per
#: e-mail over a sliding window; old rows are pruned as new ones arrive.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("key", sa.String(320), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_sign_in_failures_scope_key_at", "scope", "key", "at"),
)

#: One-use links that set a password: invitations and password resets.
password_links = sa.Table(
    "password_links",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),
)

#: What admins (and token owners) changed, newest last; never updated.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor_user_id", Id, sa.ForeignKey("users.id"), nullable=True, index=True),
    sa.Column("actor_email", sa.String(320), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
)


# ---------------------------------------------------------------------------
# Remote pull (issue 6): `answerdesk sync pull` copies messages from another
# Messages API (another answerdesk, or a vendor's) into a local account.
# Created by migration 0005.
# ---------------------------------------------------------------------------

#: How far a pull from one source into one local account has got.
pull_checkpoints = sa.Table(
    "pull_checkpoints",
    metadata,
    sa.Column("id", Id, primary_key=True),
    # The source's base URL, normalised (remote_pull/checkpoints.py `source_key`).
    sa.Column("source_url", sa.String(500), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    # The highest remote message_id copied: the next pull asks for what is after it.
    sa.Column("last_remote_id", sa.BigInteger, nullable=True),
    sa.Column("last_pulled_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("source_url", "account_id"),
)

#: Every remote message a pull has handled, written in the transaction that
#: takes its local copy: the UNIQUE constraint makes a second copy impossible.
pulled_messages = sa.Table(
    "pulled_messages",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("source_url", sa.String(500), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("remote_message_id", sa.BigInteger, nullable=False),
    # NULL when the remote message could not be taken here; `error` says why.
    sa.Column("local_message_id", Id, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("pulled_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("source_url", "account_id", "remote_message_id"),
)


# ---------------------------------------------------------------------------
# Webhooks (issue 6): endpoints a client registers, the events written in the
# transaction that caused them, and one delivery per (endpoint, event).
# Created by migration 0006.
# ---------------------------------------------------------------------------

#: A URL a client wants events POSTed to. The signing secret is kept
#: encrypted (webhooks/crypto.py): it must be recovered to sign.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    # Comma-separated event types, e.g. "message.created,crm.lead_created".
    sa.Column("events", sa.String(200), nullable=False),
    sa.Column("secret_encrypted", sa.Text, nullable=False),
    # Set only by an admin: may resolve to private or loopback addresses.
    sa.Column("allow_private", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
)

#: One event, its whole JSON body as sent (so a retry or replay sends the same bytes).
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("event_id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

#: One event to one endpoint: due while `next_attempt_at` is set, then
#: delivered or dead (both clear it). Claimed by leasing `next_attempt_at`.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("event_id", Id, sa.ForeignKey("webhook_events.id"), nullable=False),
    sa.Column("endpoint_id", Id, sa.ForeignKey("webhook_endpoints.id"), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    # Retries stop after this instant (24 h from the event, or from a replay).
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Column("dead_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("endpoint_id", "event_id"),
    sa.Index("ix_webhook_deliveries_due", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_account_id", "account_id", "id"),
)


# ---------------------------------------------------------------------------
# API rate limits shared by every process (issue 5). Created by migration
# 0007: UNLOGGED on PostgreSQL (a crash may zero the counters, and no request
# writes WAL for them); on SQLite the table exists but stays empty, since
# counters there are kept in each process (ratelimit.py).
# ---------------------------------------------------------------------------

#: One row per limited key ("token:<id>", "auth-failure:<address>"): the two
#: fixed windows of ratelimit.py, written by one atomic upsert per hit.
rate_limit_counters = sa.Table(
    "rate_limit_counters",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    # floor(epoch seconds / window): wall-clock, so machines share windows.
    sa.Column("window_index", sa.BigInteger, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("previous", sa.Integer, nullable=False),
    # Whether the row's last hit was refused: the upsert's only way to say so.
    sa.Column("refused", sa.Boolean, nullable=False),
    # Epoch second after which the row counts nothing (two windows on); pruned then.
    sa.Column("stale_after", sa.BigInteger, nullable=False),
)


# ---------------------------------------------------------------------------
# Kept answers on SQLite (api/hot_readers.py). Created by migration 0012:
# one row, whose count triggers raise on every write that can change a kept
# single answer, so a commit of anything else (a new message, a token's
# `last_used_at`) leaves the answers kept. On PostgreSQL the table exists but
# stays empty: notices tell the processes there (migration 0010).
# ---------------------------------------------------------------------------

answer_changes = sa.Table(
    "answer_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("changes", sa.BigInteger, nullable=False),
)
