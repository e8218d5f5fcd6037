"""Register, list, disable, delete and re-key a client's webhook endpoints.

The signing secret is returned once, by `register_endpoint` and
`rotate_secret`; afterwards it is only ever decrypted to sign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.config import Settings
from answerdesk.errors import NotFound, ValidationFailed
from answerdesk.store.tables import webhook_deliveries, webhook_endpoints
from answerdesk.webhooks import EVENT_TYPES
from answerdesk.webhooks.crypto import encrypt_secret
from answerdesk.webhooks.signing import new_secret
from answerdesk.webhooks.ssrf import check_url


class EndpointNotFound(NotFound):
    default_message = "Webhook endpoint not found"


@dataclass(frozen=True)
class Endpoint:
    id: int
    account_id: int
    url: str
    events: tuple[str, ...]
    allow_private: bool
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def parse_events(raw: str | Iterable[str]) -> tuple[str, ...]:
    """Read event types (comma-separated or a list); unknown or none is an error."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    wanted = [item.strip() for item in items if item.strip()]
    unknown = [item for item in wanted if item not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            {"events": f"unknown {', '.join(unknown)}: choose from {', '.join(EVENT_TYPES)}"}
        )
    if not wanted:
        raise ValidationFailed({"events": f"choose at least one of {', '.join(EVENT_TYPES)}"})
    return tuple(event for event in EVENT_TYPES if event in wanted)


def _endpoint(row: sa.Row[tuple[object, ...]]) -> Endpoint:
    m = row._mapping
    return Endpoint(
        id=int(m["id"]),
        account_id=int(m["account_id"]),
        url=str(m["url"]),
        events=tuple(str(m["events"]).split(",")),
        allow_private=bool(m["allow_private"]),
        created_at=m["created_at"],
        disabled_at=m["disabled_at"],
    )


def register_endpoint(
    connection: sa.Connection,
    *,
    settings: Settings,
    account_id: int,
    url: str,
    events: str | Iterable[str],
    allow_private: bool = False,
) -> tuple[Endpoint, str]:
    """Add an endpoint; return it and its signing secret (shown this once).

    `allow_private` is for admins (CLI, admin console) only: callers acting
    for a client must pass False. The settings switch allows it everywhere.
    """
    types = parse_events(events)
    checked = check_url(url, allow_private=allow_private or settings.webhook_allow_private)
    secret = new_secret()
    endpoint_id = connection.execute(
        webhook_endpoints.insert()
        .values(
            account_id=account_id,
            url=checked,
            events=",".join(types),
            secret_encrypted=encrypt_secret(settings, secret),
            allow_private=allow_private,
            created_at=clock.utcnow(),
        )
        .returning(webhook_endpoints.c.id)
    ).scalar_one()
    return get_endpoint(connection, endpoint_id=int(endpoint_id), account_id=account_id), secret


def get_endpoint(
    connection: sa.Connection, *, endpoint_id: int, account_id: int | None = None
) -> Endpoint:
    """Return one endpoint; with `account_id`, another account's is not found."""
    query = sa.select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    if account_id is not None:
        query = query.where(webhook_endpoints.c.account_id == account_id)
    row = connection.execute(query).first()
    if row is None:
        raise EndpointNotFound()  # the same words for any id: nothing to tell apart
    return _endpoint(row)


def list_endpoints(connection: sa.Connection, *, account_id: int | None = None) -> list[Endpoint]:
    """List endpoints (of one account, or all), oldest first."""
    query = sa.select(webhook_endpoints).order_by(webhook_endpoints.c.id)
    if account_id is not None:
        query = query.where(webhook_endpoints.c.account_id == account_id)
    return [_endpoint(row) for row in connection.execute(query)]


def disable_endpoint(
    connection: sa.Connection, *, endpoint_id: int, account_id: int | None = None
) -> Endpoint:
    """Stop sending new events to an endpoint; deliveries already due stop too."""
    endpoint = get_endpoint(connection, endpoint_id=endpoint_id, account_id=account_id)
    if endpoint.active:
        now = clock.utcnow()
        connection.execute(
            webhook_endpoints.update()
            .where(webhook_endpoints.c.id == endpoint_id)
            .values(disabled_at=now)
        )
        _stop_pending(connection, endpoint_id, now, "endpoint disabled")
    return get_endpoint(connection, endpoint_id=endpoint_id)


def delete_endpoint(
    connection: sa.Connection, *, endpoint_id: int, account_id: int | None = None
) -> Endpoint:
    """Remove an endpoint and its delivery history (events stay for other endpoints)."""
    endpoint = get_endpoint(connection, endpoint_id=endpoint_id, account_id=account_id)
    connection.execute(
        webhook_deliveries.delete().where(webhook_deliveries.c.endpoint_id == endpoint_id)
    )
    connection.execute(webhook_endpoints.delete().where(webhook_endpoints.c.id == endpoint_id))
    return endpoint


def rotate_secret(
    connection: sa.Connection,
    *,
    settings: Settings,
    endpoint_id: int,
    account_id: int | None = None,
) -> str:
    """Give an endpoint a new signing secret; return it (shown this once)."""
    get_endpoint(connection, endpoint_id=endpoint_id, account_id=account_id)
    secret = new_secret()
    connection.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(secret_encrypted=encrypt_secret(settings, secret))
    )
    return secret


def _stop_pending(connection: sa.Connection, endpoint_id: int, now: datetime, why: str) -> None:
    connection.execute(
        webhook_deliveries.update()
        .where(
            webhook_deliveries.c.endpoint_id == endpoint_id,
            webhook_deliveries.c.next_attempt_at.is_not(None),
        )
        .values(next_attempt_at=None, dead_at=now, last_error=why)
    )
