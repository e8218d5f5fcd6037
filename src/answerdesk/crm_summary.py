"""What the console shows of one CRM record beyond the CRM's own reads: its open deals.

The API reads only open deals' ids (with each text message, `crm.single`);
a person looking at a lead wants the deals' names and values too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from answerdesk.crm.deals import CLOSED_STAGES
from answerdesk.crm.records import RecordRef
from answerdesk.store.tables import deals


@dataclass(frozen=True)
class DealRow:
    id: int
    name: str
    value: Decimal | None
    stage: str


def open_deals(connection: sa.Connection, *, account_id: int, record: RecordRef) -> list[DealRow]:
    """Return the record's deals that are not won or lost, oldest first."""
    column = deals.c.lead_id if record.type == "lead" else deals.c.contact_id
    rows = connection.execute(
        sa.select(deals.c.id, deals.c.name, deals.c.value, deals.c.stage)
        .where(
            deals.c.account_id == account_id,
            column == record.id,
            deals.c.stage.not_in(CLOSED_STAGES),
        )
        .order_by(deals.c.id)
    )
    return [DealRow(row.id, row.name, row.value, row.stage) for row in rows]
