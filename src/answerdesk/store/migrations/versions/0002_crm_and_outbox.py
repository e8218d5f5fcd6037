"""CRM (leads, contacts, deals, text messages) and the outbox that carries messages into it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from answerdesk.store.types import Id, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("is_organization", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("organization_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("mobile", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contacts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(
        "ix_contacts_account_created", "contacts", ["account_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_contacts_account_email", "contacts", ["account_id", "email_key", "id"], unique=False
    )
    op.create_index("ix_contacts_account_id", "contacts", ["account_id", "id"], unique=False)
    op.create_index(
        "ix_contacts_account_mobile", "contacts", ["account_id", "mobile", "id"], unique=False
    )
    op.create_index(
        "ix_contacts_account_phone", "contacts", ["account_id", "phone", "id"], unique=False
    )
    op.create_index(
        "ix_contacts_account_updated", "contacts", ["account_id", "updated_at", "id"], unique=False
    )
    op.create_table(
        "leads",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("organization_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("mobile", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_leads_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index(
        "ix_leads_account_created", "leads", ["account_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_leads_account_email", "leads", ["account_id", "email_key", "id"], unique=False
    )
    op.create_index("ix_leads_account_id", "leads", ["account_id", "id"], unique=False)
    op.create_index(
        "ix_leads_account_mobile", "leads", ["account_id", "mobile", "id"], unique=False
    )
    op.create_index("ix_leads_account_phone", "leads", ["account_id", "phone", "id"], unique=False)
    op.create_index(
        "ix_leads_account_updated", "leads", ["account_id", "updated_at", "id"], unique=False
    )
    op.create_table(
        "deals",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("lead_id", Id, nullable=True),
        sa.Column("contact_id", Id, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("stage IN ('open', 'won', 'lost')", name=op.f("ck_deals_stage")),
        sa.CheckConstraint(
            "(lead_id IS NULL) <> (contact_id IS NULL)", name=op.f("ck_deals_one_record")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_deals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_deals_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_deals_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    op.create_index("ix_deals_contact", "deals", ["contact_id", "id"], unique=False)
    op.create_index("ix_deals_lead", "deals", ["lead_id", "id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("message_id", Id, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("dead_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_outbox_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_outbox_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index("ix_outbox_due", "outbox", ["dead_at", "next_attempt_at", "id"], unique=False)
    op.create_table(
        "text_messages",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("user_phone_number", sa.String(length=40), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("incoming", sa.Boolean(), nullable=False),
        sa.Column("resource_phone_number", sa.String(length=40), nullable=True),
        sa.Column("resource_type", sa.String(length=16), nullable=False),
        sa.Column("resource_id", Id, nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "resource_type IN ('lead', 'contact', 'none')",
            name=op.f("ck_text_messages_resource_type"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_text_messages_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_text_messages_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_text_messages_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_messages")),
        sa.UniqueConstraint("account_id", "seq", name=op.f("uq_text_messages_account_id_seq")),
        sa.UniqueConstraint("message_id", name=op.f("uq_text_messages_message_id")),
    )
    op.create_index(
        "ix_text_messages_account_id", "text_messages", ["account_id", "id"], unique=False
    )
    op.create_index(
        "ix_text_messages_resource",
        "text_messages",
        ["account_id", "resource_type", "resource_id", "id"],
        unique=False,
    )

    # Messages taken before the CRM existed are carried too: queue every one.
    op.execute(
        "INSERT INTO outbox (account_id, message_id, attempts, next_attempt_at, created_at)"
        " SELECT account_id, id, 0, updated_at, updated_at FROM messages ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index("ix_text_messages_resource", table_name="text_messages")
    op.drop_index("ix_text_messages_account_id", table_name="text_messages")
    op.drop_table("text_messages")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_deals_lead", table_name="deals")
    op.drop_index("ix_deals_contact", table_name="deals")
    op.drop_table("deals")
    op.drop_index("ix_leads_account_updated", table_name="leads")
    op.drop_index("ix_leads_account_phone", table_name="leads")
    op.drop_index("ix_leads_account_mobile", table_name="leads")
    op.drop_index("ix_leads_account_id", table_name="leads")
    op.drop_index("ix_leads_account_email", table_name="leads")
    op.drop_index("ix_leads_account_created", table_name="leads")
    op.drop_table("leads")
    op.drop_index("ix_contacts_account_updated", table_name="contacts")
    op.drop_index("ix_contacts_account_phone", table_name="contacts")
    op.drop_index("ix_contacts_account_mobile", table_name="contacts")
    op.drop_index("ix_contacts_account_id", table_name="contacts")
    op.drop_index("ix_contacts_account_email", table_name="contacts")
    op.drop_index("ix_contacts_account_created", table_name="contacts")
    op.drop_table("contacts")
