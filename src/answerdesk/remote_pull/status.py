"""Bring a local copy's status and delivery up to its remote original, never backwards."""

from __future__ import annotations

import sqlalchemy as sa

from answerdesk.client import Message
from answerdesk.messages import STATUSES, change_status
from answerdesk.store.tables import messages

_DELIVERED = STATUSES.index("delivered")


def catch_up(
    connection: sa.Connection, *, account_id: int, message_id: int, remote: Message
) -> bool:
    """Move the local message forward to the remote's status; return whether it changed.

    A remote delivery (time, recipient) is recorded first when the local copy
    has none, so `new` → `read` on the remote still shows when and to whom
    it was delivered. A remote status behind the local one is ignored.
    """
    if remote.status not in STATUSES:
        return False
    row = connection.execute(
        sa.select(messages.c.status, messages.c.delivered_at).where(
            messages.c.id == message_id, messages.c.account_id == account_id
        )
    ).one()
    target = STATUSES.index(remote.status)
    current = STATUSES.index(row.status)
    changed = False
    has_delivery = remote.delivered_at is not None or remote.delivered_to is not None
    if target >= _DELIVERED >= current and has_delivery and row.delivered_at is None:
        change_status(
            connection,
            account_id=account_id,
            message_id=message_id,
            status="delivered",
            delivered_to=remote.delivered_to,
            delivered_at=remote.delivered_at,
        )
        current, changed = _DELIVERED, True
    if target > current:
        change_status(
            connection, account_id=account_id, message_id=message_id, status=remote.status
        )
        changed = True
    return changed
