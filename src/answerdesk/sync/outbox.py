"""The outbox table: queue a message, claim due rows, record failures, dead letters.

A row is written in the transaction that takes the message and deleted in
the transaction that carries it, so a message is carried exactly once even
if a worker dies at any instant: its transaction rolls back and the row is
claimed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.store.tables import accounts, outbox
from answerdesk.sync.retry import DEFAULT_POLICY, RetryPolicy

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class OutboxRow:
    id: int
    account_id: int
    message_id: int
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    id: int
    message_id: int
    account_number: str
    attempts: int
    dead_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class OutboxStatus:
    """How far behind carrying is, and what has been given up on."""

    due: int
    waiting: int
    dead: int
    oldest_due_at: datetime | None
    dead_letters: list[DeadLetter]


def enqueue(
    connection: sa.Connection, *, account_id: int, message_id: int, now: datetime | None = None
) -> None:
    """Queue a message for carrying, in the caller's (the taking) transaction."""
    now = now or clock.utcnow()
    connection.execute(
        outbox.insert().values(
            account_id=account_id,
            message_id=message_id,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def claim_due(connection: sa.Connection, *, limit: int, now: datetime) -> list[OutboxRow]:
    """Lock up to `limit` due rows for this transaction, oldest due first.

    On PostgreSQL rows another worker holds are skipped (`SKIP LOCKED`), so
    several workers share the queue without waiting on each other. On SQLite
    the write transaction is the only writer, so there is nothing to skip.
    """
    query = (
        sa.select(outbox.c.id, outbox.c.account_id, outbox.c.message_id, outbox.c.attempts)
        .where(outbox.c.dead_at.is_(None), outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [OutboxRow(*row) for row in connection.execute(query)]


def remove(connection: sa.Connection, ids: Sequence[int]) -> None:
    """Delete carried rows."""
    if ids:
        connection.execute(outbox.delete().where(outbox.c.id.in_(ids)))


def record_failure(
    connection: sa.Connection,
    *,
    row: OutboxRow,
    error: BaseException,
    policy: RetryPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> bool:
    """Schedule the row's next attempt, or park it as dead; tell whether it died."""
    now = now or clock.utcnow()
    attempts = row.attempts + 1
    dead = policy.is_dead(attempts)
    connection.execute(
        outbox.update()
        .where(outbox.c.id == row.id)
        .values(
            attempts=attempts,
            next_attempt_at=now + policy.delay(attempts),
            dead_at=now if dead else None,
            last_error=f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH],
        )
    )
    return dead


def retry_dead(
    connection: sa.Connection, *, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Put dead letters (all, or these ids) back in the queue, due now; return how many."""
    now = now or clock.utcnow()
    statement = outbox.update().where(outbox.c.dead_at.is_not(None))
    if ids is not None:
        statement = statement.where(outbox.c.id.in_(list(ids)))
    result = connection.execute(statement.values(dead_at=None, attempts=0, next_attempt_at=now))
    return int(result.rowcount)


def _dead_letters(connection: sa.Connection, limit: int) -> list[DeadLetter]:
    rows: Iterable[Any] = connection.execute(
        sa.select(
            outbox.c.id,
            outbox.c.message_id,
            accounts.c.number,
            outbox.c.attempts,
            outbox.c.dead_at,
            outbox.c.last_error,
        )
        .join(accounts, accounts.c.id == outbox.c.account_id)
        .where(outbox.c.dead_at.is_not(None))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [DeadLetter(*row) for row in rows]


def outbox_status(
    connection: sa.Connection, *, now: datetime | None = None, dead_limit: int = 50
) -> OutboxStatus:
    """Count due, waiting (backing off) and dead rows; list the first dead letters."""
    now = now or clock.utcnow()
    live = outbox.c.dead_at.is_(None)
    due_now = sa.and_(live, outbox.c.next_attempt_at <= now)
    row = connection.execute(
        sa.select(
            sa.func.count().filter(due_now),
            sa.func.count().filter(sa.and_(live, outbox.c.next_attempt_at > now)),
            sa.func.count().filter(outbox.c.dead_at.is_not(None)),
            sa.func.min(outbox.c.created_at).filter(due_now),
        )
    ).one()
    oldest = row[3]
    if isinstance(oldest, str):  # SQLite returns an aggregate's text as is
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=now.tzinfo)
    return OutboxStatus(
        due=int(row[0]),
        waiting=int(row[1]),
        dead=int(row[2]),
        oldest_due_at=oldest,
        dead_letters=_dead_letters(connection, dead_limit),
    )
