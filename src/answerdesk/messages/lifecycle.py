"""A message's status: new → delivered → read → archived, never backwards."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.errors import Conflict, MessageNotFound, ValidationFailed
from answerdesk.messages.prerender import refresh_wire
from answerdesk.store.tables import messages
from answerdesk.webhooks.events import enqueue_event  # webhooks (issue 6)

STATUSES = ("new", "delivered", "read", "archived")


def change_status(
    connection: sa.Connection,
    *,
    account_id: int,
    message_id: int,
    status: str,
    delivered_to: str | None = None,
    delivered_at: datetime | None = None,
) -> None:
    """Move a message of this account forward to `status`.

    Delivering records to whom and when (now, unless given); a message read or
    archived without a recorded delivery keeps `delivered_at` null.
    """
    if status not in STATUSES:
        raise ValidationFailed({"status": f"must be one of {', '.join(STATUSES)}"})
    row = connection.execute(
        sa.select(messages.c.status, messages.c.delivered_at).where(
            messages.c.id == message_id, messages.c.account_id == account_id
        )
    ).first()
    if row is None:
        raise MessageNotFound()
    if STATUSES.index(status) < STATUSES.index(row.status):
        raise Conflict(f"a {row.status} message cannot become {status} again")
    now = clock.utcnow()
    values: dict[str, object] = {"status": status, "updated_at": now}
    if status == "delivered":
        values["delivered_at"] = delivered_at or now
        if delivered_to is not None:
            values["delivered_to"] = delivered_to.strip() or None
    connection.execute(
        messages.update()
        .where(messages.c.id == message_id, messages.c.account_id == account_id)
        .values(**values)
    )
    refresh_wire(connection, message_id=message_id)  # issue 7: the stored API JSON
    if status == "delivered" and row.status != "delivered":  # webhooks (issue 6)
        enqueue_event(
            connection, account_id=account_id, type="message.delivered", message_id=message_id
        )
