"""Show deliveries with their attempts and last error; replay an event.

A replay sends the same event (same id, same body) to the account's
endpoints again, with a fresh 24-hour window: the receiver that already
has it dedupes it; the one that lost it gets it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.errors import NotFound
from answerdesk.store.tables import accounts, webhook_deliveries, webhook_endpoints, webhook_events
from answerdesk.webhooks.events import DELIVERY_WINDOW


class EventNotFound(NotFound):
    default_message = "Webhook event not found"


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    type: str
    account_number: str
    endpoint_id: int
    url: str
    attempts: int
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    dead_at: datetime | None
    created_at: datetime

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.dead_at is not None:
            return "dead"
        return "retrying" if self.attempts else "pending"


def list_deliveries(
    connection: sa.Connection, *, account_id: int | None = None, limit: int = 100
) -> list[Delivery]:
    """List deliveries (of one account, or all), newest first."""
    d = webhook_deliveries.c
    query = (
        sa.select(
            d.id,
            webhook_events.c.event_id,
            webhook_events.c.type,
            accounts.c.number,
            d.endpoint_id,
            webhook_endpoints.c.url,
            d.attempts,
            d.last_attempt_at,
            d.last_status,
            d.last_error,
            d.next_attempt_at,
            d.delivered_at,
            d.dead_at,
            d.created_at,
        )
        .join(webhook_events, webhook_events.c.id == d.event_id)
        .join(webhook_endpoints, webhook_endpoints.c.id == d.endpoint_id)
        .join(accounts, accounts.c.id == d.account_id)
        .order_by(d.id.desc())
        .limit(limit)
    )
    if account_id is not None:
        query = query.where(d.account_id == account_id)
    rows: Iterable[Any] = connection.execute(query)
    return [Delivery(*row) for row in rows]


def replay_event(
    connection: sa.Connection,
    *,
    event_id: str,
    account_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Queue the event again for its active endpoints; return how many deliveries.

    With `account_id`, another account's event is not found.
    """
    query = sa.select(webhook_events.c.id).where(webhook_events.c.event_id == event_id.strip())
    if account_id is not None:
        query = query.where(webhook_events.c.account_id == account_id)
    row_id = connection.execute(query).scalar()
    if row_id is None:
        raise EventNotFound()  # the same words for any id: nothing to tell apart
    now = now or clock.utcnow()
    active = sa.select(webhook_endpoints.c.id).where(webhook_endpoints.c.disabled_at.is_(None))
    result = connection.execute(
        webhook_deliveries.update()
        .where(
            webhook_deliveries.c.event_id == row_id,
            webhook_deliveries.c.endpoint_id.in_(active),
        )
        .values(
            next_attempt_at=now,
            expires_at=now + DELIVERY_WINDOW,
            delivered_at=None,
            dead_at=None,
            attempts=0,
        )
    )
    return int(result.rowcount)
