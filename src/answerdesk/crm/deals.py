"""Deals of leads and contacts: the source of a text message's `associated_deal_ids`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

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


def open_deal_ids(
    connection: sa.Connection, records: Iterable[RecordRef]
) -> dict[RecordRef, list[int]]:
    """Return the ids of each record's open deals, ascending, in one query.

    Read live on every request (CONTRACT §3): a deal won yesterday is no
    longer associated with last week's messages.
    """
    refs = set(records)
    lead_ids = sorted(ref.id for ref in refs if ref.type == "lead")
    contact_ids = sorted(ref.id for ref in refs if ref.type == "contact")
    result: dict[RecordRef, list[int]] = {}
    if not lead_ids and not contact_ids:
        return result
    # An empty list matches nothing, so one cached statement serves every mix.
    rows = connection.execute(_open_deals(), {"lead_ids": lead_ids, "contact_ids": contact_ids})
    for deal_id, lead_id, contact_id in rows:
        ref = (
            RecordRef("lead", lead_id) if lead_id is not None else RecordRef("contact", contact_id)
        )
        result.setdefault(ref, []).append(deal_id)
    return result


@cache
def _open_deals() -> sa.Select[Any]:
    return (
        sa.select(deals.c.id, deals.c.lead_id, deals.c.contact_id)
        .where(
            sa.or_(
                deals.c.lead_id.in_(sa.bindparam("lead_ids", expanding=True)),
                deals.c.contact_id.in_(sa.bindparam("contact_ids", expanding=True)),
            ),
            deals.c.stage.not_in(CLOSED_STAGES),
        )
        .order_by(deals.c.id)
    )
