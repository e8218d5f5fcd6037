"""Keep each message's stored wire JSON (`messages.wire`) in step with its row.

Every write to a message calls `refresh_wire` in the same transaction, so a
reader that finds `wire_zone` equal to the account's zone can serve `wire`
as it is. A time-zone change needs no write here: the zone no longer
matches, and readers render those rows from their columns until the
account's messages are refreshed with `refresh_account`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa

from answerdesk.messages.wire import stored_wire
from answerdesk.store.tables import accounts, messages

#: Rows re-rendered per statement by `refresh_account`.
REFRESH_BATCH = 500


def refresh_wire(connection: sa.Connection, *, message_id: int) -> None:
    """Re-render one message's stored wire JSON in its account's current zone."""
    row = connection.execute(
        sa.select(messages, accounts.c.timezone.label("account_timezone"))
        .join(accounts, accounts.c.id == messages.c.account_id)
        .where(messages.c.id == message_id)
    ).first()
    if row is None:
        return
    wire, zone = stored_wire(row, zone=ZoneInfo(row.account_timezone))
    connection.execute(
        messages.update().where(messages.c.id == message_id).values(wire=wire, wire_zone=zone)
    )


def refresh_account(connection: sa.Connection, *, account_id: int, limit: int | None = None) -> int:
    """Re-render the account's messages whose stored wire is missing or in another zone.

    Returns how many were refreshed; with `limit`, at most that many (so a
    caller can spread a big account over several short transactions).
    """
    timezone = connection.execute(
        sa.select(accounts.c.timezone).where(accounts.c.id == account_id)
    ).scalar_one()
    zone = ZoneInfo(timezone)
    stale = sa.select(messages).where(
        messages.c.account_id == account_id,
        sa.or_(messages.c.wire_zone.is_(None), messages.c.wire_zone != timezone),
    )
    done = 0
    while limit is None or done < limit:
        size = REFRESH_BATCH if limit is None else min(REFRESH_BATCH, limit - done)
        rows = connection.execute(stale.order_by(messages.c.id).limit(size)).all()
        if not rows:
            break
        connection.execute(
            messages.update().where(messages.c.id == sa.bindparam("message_id")),
            [
                dict(zip(("wire", "wire_zone"), stored_wire(row, zone=zone), strict=True))
                | {"message_id": row.id}
                for row in rows
            ],
        )
        done += len(rows)
    return done
