"""Write an event and its deliveries in the transaction that caused it.

A transactional outbox: the event commits with the message (or lead) it
describes or not at all, so there is never an event for something that
did not happen, nor something that happened without its event. One event
per cause, with one id: every retry and replay sends that id, and the
receiver dedupes on it.

Cheap when nobody listens: one indexed SELECT of the account's active
endpoints, and nothing rendered or written when none wants the type.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa

from answerdesk import clock
from answerdesk.crm.wire import iso_utc, lead_data
from answerdesk.messages.wire import message_json, object_prefix
from answerdesk.store.tables import (
    accounts,
    leads,
    messages,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from answerdesk.webhooks import EVENT_TYPES

#: Deliveries are retried for this long after their event (or a replay).
DELIVERY_WINDOW = timedelta(hours=24)
EVENT_ID_PREFIX = "evt_"


def new_event_id() -> str:
    """Return a fresh, unguessable event id."""
    return EVENT_ID_PREFIX + secrets.token_hex(12)


def _subscribed(connection: sa.Connection, account_id: int, type_: str) -> list[int]:
    rows = connection.execute(
        sa.select(webhook_endpoints.c.id, webhook_endpoints.c.events).where(
            webhook_endpoints.c.account_id == account_id,
            webhook_endpoints.c.disabled_at.is_(None),
        )
    )
    return [int(row.id) for row in rows if type_ in row.events.split(",")]


def message_object(connection: sa.Connection, message_id: int) -> bytes:
    """Return the message object exactly as the Messages API serves it."""
    row = connection.execute(
        sa.select(messages, accounts.c.number, accounts.c.timezone.label("account_timezone"))
        .join(accounts, accounts.c.id == messages.c.account_id)
        .where(messages.c.id == message_id)
    ).one()
    if row.wire is not None and row.wire_zone == row.account_timezone:
        body: bytes = (object_prefix(row.number) + row.wire).encode()
        return body
    return message_json(row, account_number=row.number, zone=ZoneInfo(row.account_timezone))


def lead_object(connection: sa.Connection, lead_id: int) -> bytes:
    """Return the lead object as the Sell API renders it."""
    row = connection.execute(sa.select(leads).where(leads.c.id == lead_id)).one()
    return orjson.dumps(lead_data(row))


def event_body(event_id: str, type_: str, created_at: datetime, data: bytes) -> bytes:
    """Assemble the event JSON around `data`, kept byte for byte."""
    head = orjson.dumps({"id": event_id, "type": type_, "created_at": iso_utc(created_at)})
    return head[:-1] + b',"data":' + data + b"}"


def enqueue_event(
    connection: sa.Connection,
    *,
    account_id: int,
    type: str,
    message_id: int | None = None,
    lead_id: int | None = None,
    now: datetime | None = None,
) -> str | None:
    """Queue an event for the account's endpoints that want it; return its id.

    `message_id` is the subject of `message.*` events, `lead_id` of
    `crm.lead_created`. Returns None, having written nothing, when no
    active endpoint of the account subscribes to `type`.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    endpoint_ids = _subscribed(connection, account_id, type)
    if not endpoint_ids:
        return None
    if type.startswith("message."):
        assert message_id is not None, "message events need message_id"
        data = message_object(connection, message_id)
    else:
        assert lead_id is not None, "crm.lead_created needs lead_id"
        data = lead_object(connection, lead_id)
    now = now or clock.utcnow()
    event_id = new_event_id()
    row_id = connection.execute(
        webhook_events.insert()
        .values(
            event_id=event_id,
            account_id=account_id,
            type=type,
            body=event_body(event_id, type, now, data).decode(),
            created_at=now,
        )
        .returning(webhook_events.c.id)
    ).scalar_one()
    connection.execute(
        webhook_deliveries.insert(),
        [
            {
                "event_id": row_id,
                "endpoint_id": endpoint_id,
                "account_id": account_id,
                "attempts": 0,
                "next_attempt_at": now,
                "expires_at": now + DELIVERY_WINDOW,
                "created_at": now,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    return event_id
