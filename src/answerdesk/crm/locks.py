"""Serialise writes to one account's CRM across processes (PostgreSQL).

Two workers carrying two messages of one new caller at the same moment must
not both find "no lead" and both create one. Every writer of an account's
CRM (the worker, `crm import`, `crm convert`) takes this lock first; it is
released when the transaction ends. SQLite has a single writer already.
"""

from __future__ import annotations

import sqlalchemy as sa

#: Advisory-lock namespace of the CRM, distinct from the messages' one.
CRM_LOCK_NAMESPACE = 0x63726D  # "crm"


def lock_account_crm(connection: sa.Connection, account_id: int) -> None:
    """Wait for, then hold until commit, the account's CRM write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": CRM_LOCK_NAMESPACE, "key": account_id % 2_147_483_647},
        )
