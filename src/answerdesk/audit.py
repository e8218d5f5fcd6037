"""The audit log: who changed accounts, scripts, users and tokens, and when.

Rows are only ever added. The actor's e-mail is copied in, so an entry still
reads right after the user is renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.store.tables import audit_log
from answerdesk.users import User


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_email: str | None
    action: str
    target: str
    detail: str | None


def record(
    connection: sa.Connection,
    *,
    actor: User | None,
    action: str,
    target: str,
    detail: str | None = None,
) -> None:
    """Add one entry, in the caller's transaction: it commits with the change or not at all."""
    connection.execute(
        audit_log.insert().values(
            at=clock.utcnow(),
            actor_user_id=actor.id if actor else None,
            actor_email=actor.email if actor else None,
            action=action,
            target=target[:200],
            detail=detail,
        )
    )


def list_entries(
    connection: sa.Connection, *, before_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Return entries newest first, a page at a time (keyset on id)."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            actor_email=row.actor_email,
            action=row.action,
            target=row.target,
            detail=row.detail,
        )
        for row in connection.execute(query)
    ]
