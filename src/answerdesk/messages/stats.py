"""Figures for an account's dashboard: messages per local day, time to delivery.

Counts are grouped in the database by 15-minute buckets of `created_second`
(every time zone's offset is a multiple of 15 minutes), then folded into the
account's local days here, so daylight-saving days come out right without
per-row work in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from answerdesk.accounts import Account
from answerdesk.messages.reading import local_day_range
from answerdesk.store.tables import messages

BUCKET_SECONDS = 900


@dataclass(frozen=True)
class DayCount:
    day: date
    total: int
    emergencies: int


@dataclass(frozen=True)
class Dashboard:
    days: list[DayCount]
    total: int
    emergencies: int
    delivered: int
    median_delivery_seconds: int | None


def _daily(connection: sa.Connection, account: Account, first: date, last: date) -> list[DayCount]:
    span = local_day_range(account.zone, first, last)
    bucket = (messages.c.created_second // BUCKET_SECONDS).label("bucket")
    rows = connection.execute(
        sa.select(
            bucket,
            sa.func.count().label("total"),
            sa.func.sum(sa.case((messages.c.is_emergency.is_(True), 1), else_=0)).label("urgent"),
        )
        .where(
            messages.c.account_id == account.id,
            messages.c.created_second >= span.start_second,
            messages.c.created_second < span.end_second,
        )
        .group_by(bucket)
    )
    totals: dict[date, list[int]] = {}
    for row in rows:
        local = datetime.fromtimestamp(int(row.bucket) * BUCKET_SECONDS, UTC).astimezone(
            account.zone
        )
        entry = totals.setdefault(local.date(), [0, 0])
        entry[0] += int(row.total)
        entry[1] += int(row.urgent or 0)
    count = (last - first).days + 1
    return [
        DayCount(day, *totals.get(day, [0, 0]))
        for day in (first + timedelta(days=offset) for offset in range(count))
    ]


def _delivery_seconds(connection: sa.Connection) -> Any:
    if connection.dialect.name == "postgresql":
        return sa.func.extract("epoch", messages.c.delivered_at) - messages.c.created_second
    return (
        sa.cast(sa.func.strftime("%s", messages.c.delivered_at), sa.BigInteger)
        - messages.c.created_second
    )


def _median_delivery(
    connection: sa.Connection, account_id: int, start: int, end: int
) -> tuple[int, int | None]:
    """Return how many were delivered and the median seconds from taking to delivery."""
    where = (
        messages.c.account_id == account_id,
        messages.c.created_second >= start,
        messages.c.created_second < end,
        messages.c.delivered_at.is_not(None),
    )
    delivered = int(connection.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
    if delivered == 0:
        return 0, None
    duration = _delivery_seconds(connection)
    middle = (
        connection.execute(
            sa.select(duration.label("seconds"))
            .where(*where)
            .order_by(duration)
            .offset((delivered - 1) // 2)
            .limit(2 - delivered % 2)
        )
        .scalars()
        .all()
    )
    values = [max(0.0, float(value)) for value in middle]
    return delivered, round(sum(values) / len(values))


def dashboard(
    connection: sa.Connection, *, account: Account, today: date, days: int = 30
) -> Dashboard:
    """Return the last `days` local days up to `today`, inclusive."""
    first = today - timedelta(days=days - 1)
    daily = _daily(connection, account, first, today)
    span = local_day_range(account.zone, first, today)
    assert span.start_second is not None and span.end_second is not None
    delivered, median = _median_delivery(connection, account.id, span.start_second, span.end_second)
    return Dashboard(
        days=daily,
        total=sum(day.total for day in daily),
        emergencies=sum(day.emergencies for day in daily),
        delivered=delivered,
        median_delivery_seconds=median,
    )
