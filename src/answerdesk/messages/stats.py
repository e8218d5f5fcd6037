"""Figures for an account's dashboard: messages per local day, time to delivery.

Counts are grouped in the database by local day, against day boundaries
computed here in the account's zone, so daylight-saving days come out right
and only one row per day reaches Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from answerdesk.accounts import Account
from answerdesk.messages.reading import local_day_range
from answerdesk.store.tables import messages


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


def _midnights(zone: ZoneInfo, first: date, count: int) -> list[int]:
    """Return the epoch second of each local midnight from `first`, `count + 1` of them."""
    seconds = []
    for offset in range(count + 1):
        span = local_day_range(zone, first + timedelta(days=offset), None)
        assert span.start_second is not None
        seconds.append(span.start_second)
    return seconds


def _daily(connection: sa.Connection, account: Account, first: date, last: date) -> list[DayCount]:
    count = (last - first).days + 1
    edges = _midnights(account.zone, first, count)
    created = messages.c.created_second
    # Which local day a message falls on, decided in the database against the
    # day boundaries computed here (so daylight-saving days are 23 or 25 hours).
    day_index = sa.case(
        *((created < edge, index) for index, edge in enumerate(edges[1:-1])), else_=count - 1
    ).label("day_index")
    rows = connection.execute(
        sa.select(
            day_index,
            sa.func.count().label("total"),
            sa.func.sum(sa.case((messages.c.is_emergency.is_(True), 1), else_=0)).label("urgent"),
        )
        .where(
            messages.c.account_id == account.id,
            created >= edges[0],
            created < edges[-1],
        )
        .group_by(day_index)
    )
    totals = {int(row.day_index): (int(row.total), int(row.urgent or 0)) for row in rows}
    return [
        DayCount(first + timedelta(days=index), *totals.get(index, (0, 0)))
        for index in range(count)
    ]


def _delivery_seconds(connection: sa.Connection) -> Any:
    if connection.dialect.name == "postgresql":
        seconds = sa.cast(sa.func.extract("epoch", messages.c.delivered_at), sa.BigInteger)
    else:
        seconds = sa.cast(sa.func.strftime("%s", messages.c.delivered_at), sa.BigInteger)
    return seconds - messages.c.created_second


def _median_delivery(
    connection: sa.Connection, account_id: int, start: int, end: int
) -> tuple[int, int | None]:
    """Return how many were delivered and the median minutes from taking to delivery.

    Counted per whole minute in the database (a few hundred groups at most),
    so the median needs no sort of every delivered message.
    """
    minute = (_delivery_seconds(connection) // 60).label("minute")
    rows = connection.execute(
        sa.select(minute, sa.func.count().label("n"))
        .where(
            messages.c.account_id == account_id,
            messages.c.created_second >= start,
            messages.c.created_second < end,
            messages.c.delivered_at.is_not(None),
        )
        .group_by(minute)
        .order_by(minute)
    ).all()
    delivered = sum(int(row.n) for row in rows)
    if delivered == 0:
        return 0, None
    wanted = [(delivered - 1) // 2, delivered // 2]
    found: list[int] = []
    seen = 0
    for row in rows:
        seen += int(row.n)
        while wanted and wanted[0] < seen:
            found.append(max(0, int(row.minute)) * 60)
            wanted.pop(0)
    return delivered, round(sum(found) / len(found))


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
