"""Deals of leads and contacts: the source of a text message's `associated_deal_ids`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.crm.records import RecordRef
from answerdesk.store.tables import deals

STAGES = ("open", "won", "lost")
#: Deals in these stages are closed: no longer associated with new messages.
CLOSED_STAGES = ("won", "lost")


def create_deal(
    connection: sa.Connection,
    *,
    account_id: int,
    record: RecordRef,
    name: str,
    value: Decimal | None = None,
    stage: str = "open",
    now: datetime | None = None,
) -> int:
    """Insert a deal of a lead or a contact and return its id."""
    now = now or clock.utcnow()
    return int(
        connection.execute(
            deals.insert()
            .values(
                account_id=account_id,
                name=name,
                value=value,
                stage=stage,
                lead_id=record.id if record.type == "lead" else None,
                contact_id=record.id if record.type == "contact" else None,
                created_at=now,
                updated_at=now,
            )
            .returning(deals.c.id)
        ).scalar_one()
    )
