"""The deliverer: claim due deliveries, POST them signed, record the outcome.

A claim is a lease, not a held lock: due rows are locked just long enough
(`FOR UPDATE SKIP LOCKED` on PostgreSQL) to push their `next_attempt_at` a
few minutes ahead, and that short transaction commits before any POST, so
a slow receiver never holds a database transaction (or SQLite's single
write lock) open. A deliverer that dies mid-POST leaves the row to come due
again when the lease ends: delivery is at least once, always with the same
event id, which the receiver dedupes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk import clock
from answerdesk.config import Settings
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import webhook_deliveries, webhook_endpoints, webhook_events
from answerdesk.sync.retry import RetryPolicy
from answerdesk.webhooks.crypto import decrypt_secret
from answerdesk.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from answerdesk.webhooks.ssrf import PinnedTransport, UnsafeURL

log = logging.getLogger("answerdesk.webhooks")

#: Backoff between attempts: 10 s doubling to an hour, jittered.
DELIVERY_POLICY = RetryPolicy(base_delay=10.0, max_delay=3600.0, max_attempts=1_000_000)
#: How long a claimed delivery is left alone before another deliverer may take it.
LEASE = timedelta(minutes=5)
TIMEOUT = httpx.Timeout(10.0)
BATCH_SIZE = 20
#: Bytes of a receiver's answer kept with a failed attempt.
KEPT_RESPONSE_BYTES = 300
MAX_ERROR_LENGTH = 1000
USER_AGENT = "answerdesk-webhooks/1"

#: Makes the HTTP transport for one batch; tests inject theirs.
TransportFactory = Callable[[bool], httpx.BaseTransport]


@dataclass(frozen=True)
class Claimed:
    id: int
    url: str
    secret_encrypted: str
    allow_private: bool
    event_id: str
    type: str
    body: str
    attempts: int
    expires_at: datetime


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def claim_due(engine: Engine, *, now: datetime, limit: int = BATCH_SIZE) -> list[Claimed]:
    """Lease up to `limit` due deliveries to this deliverer (one short transaction)."""
    d = webhook_deliveries.c
    with write_transaction(engine) as connection:
        due = (
            sa.select(d.id)
            .where(d.next_attempt_at <= now)
            .order_by(d.next_attempt_at, d.id)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(connection.execute(due).scalars())
        if not ids:
            return []
        connection.execute(
            webhook_deliveries.update().where(d.id.in_(ids)).values(next_attempt_at=now + LEASE)
        )
        rows = connection.execute(
            sa.select(
                d.id,
                webhook_endpoints.c.url,
                webhook_endpoints.c.secret_encrypted,
                webhook_endpoints.c.allow_private,
                webhook_events.c.event_id,
                webhook_events.c.type,
                webhook_events.c.body,
                d.attempts,
                d.expires_at,
            )
            .join(webhook_endpoints, webhook_endpoints.c.id == d.endpoint_id)
            .join(webhook_events, webhook_events.c.id == d.event_id)
            .where(d.id.in_(ids))
            .order_by(d.id)
        )
        return [Claimed(*row) for row in rows]


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max((when - now).total_seconds(), 0.0)


def post(client: httpx.Client, settings: Settings, claimed: Claimed, now: datetime) -> Outcome:
    """POST one delivery, signed; never raise (every failure is an outcome)."""
    body = claimed.body.encode()
    try:
        secret = decrypt_secret(settings, claimed.secret_encrypted)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: claimed.event_id,
            EVENT_TYPE_HEADER: claimed.type,
            # Wall-clock time, not `now`: the receiver checks it against its own clock.
            SIGNATURE_HEADER: signature_header(secret, body, int(time.time())),
        }
        with client.stream("POST", claimed.url, content=body, headers=headers) as response:
            kept = b""
            for chunk in response.iter_raw():
                kept += chunk
                if len(kept) >= KEPT_RESPONSE_BYTES:
                    break
    except UnsafeURL as error:
        return Outcome(ok=False, error=f"refused: {error.reason}")
    except httpx.TimeoutException as error:
        return Outcome(ok=False, error=f"timeout: {type(error).__name__}")
    except httpx.HTTPError as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}")
    except Exception as error:  # a bad key, say: recorded, never fatal to the batch
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}")
    if 200 <= response.status_code < 300:
        return Outcome(ok=True, status=response.status_code)
    text = kept[:KEPT_RESPONSE_BYTES].decode("utf-8", "replace")
    retry_after = _retry_after(response, now) if response.status_code in (429, 503) else None
    return Outcome(
        ok=False,
        status=response.status_code,
        error=f"HTTP {response.status_code}: {text}".strip(),
        retry_after=retry_after,
    )


def record(
    connection: sa.Connection,
    *,
    claimed: Claimed,
    outcome: Outcome,
    now: datetime,
    policy: RetryPolicy = DELIVERY_POLICY,
) -> bool:
    """Write an attempt's outcome; return True when the delivery is now dead."""
    attempts = claimed.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status": outcome.status,
    }
    dead = False
    if outcome.ok:
        values |= {"delivered_at": now, "next_attempt_at": None, "last_error": None}
    else:
        delay = policy.delay(attempts)
        if outcome.retry_after is not None:
            delay = timedelta(seconds=min(max(outcome.retry_after, 1.0), policy.max_delay))
        next_at = now + delay
        dead = next_at > claimed.expires_at
        values |= {
            "next_attempt_at": None if dead else next_at,
            "dead_at": now if dead else None,
            "last_error": (outcome.error or "failed")[:MAX_ERROR_LENGTH],
        }
    connection.execute(
        webhook_deliveries.update().where(webhook_deliveries.c.id == claimed.id).values(**values)
    )
    return dead


def _pinned(allow_private: bool) -> httpx.BaseTransport:
    return PinnedTransport(allow_private=allow_private)


def deliver_due(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    transport_factory: TransportFactory = _pinned,
    policy: RetryPolicy = DELIVERY_POLICY,
) -> int:
    """Claim and POST what is due, in parallel; return how many deliveries were tried."""
    now = now or clock.utcnow()
    claimed = claim_due(engine, now=now, limit=limit)
    if not claimed:
        return 0
    clients = {
        private: httpx.Client(
            transport=transport_factory(private),
            timeout=TIMEOUT,
            follow_redirects=False,
            trust_env=False,
        )
        for private in {c.allow_private or settings.webhook_allow_private for c in claimed}
    }
    try:
        with ThreadPoolExecutor(max_workers=min(len(claimed), 8)) as pool:
            outcomes = list(
                pool.map(
                    lambda c: post(
                        clients[c.allow_private or settings.webhook_allow_private],
                        settings,
                        c,
                        now,
                    ),
                    claimed,
                )
            )
    finally:
        for client in clients.values():
            client.close()
    with write_transaction(engine) as connection:
        for one, outcome in zip(claimed, outcomes, strict=True):
            if record(connection, claimed=one, outcome=outcome, now=now, policy=policy):
                log.error("webhook %s to %s is dead: %s", one.event_id, one.url, outcome.error)
    return len(claimed)
