"""Figures for an account's dashboard: messages per local day, time to delivery.

Counts are grouped in the database by local day, against day boundaries
computed here in the account's zone, so daylight-saving days come out right
and only one row per day reaches Python. Delivery times are counted per
whole minute, so the median needs no sort of every delivered message.

The figures of past days hardly change, while an account with 100k messages
a month makes them cost a scan of every one: `PastDays` keeps them for a few
minutes, and only today's are read on every request.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from answerdesk.accounts import Account
from answerdesk.messages.reading import local_day_range
from answerdesk.store.tables import messages

#: How long the figures of past days are reused (a delivery marked on an old
#: message shows in the median at most this late).
PAST_DAYS_SECONDS = 300.0


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


@dataclass(frozen=True)
class Figures:
    """Per-day counts of a run of days, and their delivery times by minute."""

    days: list[DayCount]
    minutes: Counter[int] = field(default_factory=Counter)


class PastDays:
    """A small per-process cache of `Figures` for days before today."""

    def __init__(self, ttl: float = PAST_DAYS_SECONDS, size: int = 1000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[tuple[Any, ...], tuple[float, Figures]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Figures | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, key: tuple[Any, ...], figures: Figures) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()  # rare; cheaper than tracking ages
            self._entries[key] = (time.monotonic(), figures)


def _midnights(zone: ZoneInfo, first: date, count: int) -> list[int]:
    """Return the epoch second of each local midnight from `first`, `count + 1` of them."""
    seconds = []
    for offset in range(count + 1):
        span = local_day_range(zone, first + timedelta(days=offset), None)
        assert span.start_second is not None
        seconds.append(span.start_second)
    return seconds


def _delivery_seconds(connection: sa.Connection) -> Any:
    if connection.dialect.name == "postgresql":
        seconds = sa.cast(sa.func.extract("epoch", messages.c.delivered_at), sa.BigInteger)
    else:
        seconds = sa.cast(sa.func.strftime("%s", messages.c.delivered_at), sa.BigInteger)
    return seconds - messages.c.created_second


def figures(connection: sa.Connection, *, account: Account, first: date, last: date) -> Figures:
    """Read the counts and delivery minutes of the local days `first`..`last` (inclusive)."""
    count = (last - first).days + 1
    if count <= 0:
        return Figures([])
    edges = _midnights(account.zone, first, count)
    created = messages.c.created_second
    in_range = (messages.c.account_id == account.id, created >= edges[0], created < edges[-1])
    # Which local day a message falls on, decided in the database against the
    # day boundaries computed here (so daylight-saving days are 23 or 25 hours).
    inner = edges[1:-1]
    day_index = (
        sa.case(*((created < edge, index) for index, edge in enumerate(inner)), else_=count - 1)
        if inner
        else sa.literal(0)
    ).label("day_index")
    rows = connection.execute(
        sa.select(
            day_index,
            sa.func.count().label("total"),
            sa.func.sum(sa.case((messages.c.is_emergency.is_(True), 1), else_=0)).label("urgent"),
        )
        .where(*in_range)
        .group_by(day_index)
    )
    totals = {int(row.day_index): (int(row.total), int(row.urgent or 0)) for row in rows}
    minute = (_delivery_seconds(connection) // 60).label("minute")
    delivered = connection.execute(
        sa.select(minute, sa.func.count().label("n"))
        .where(*in_range, messages.c.delivered_at.is_not(None))
        .group_by(minute)
    )
    minutes: Counter[int] = Counter()
    for row in delivered:
        minutes[max(0, int(row.minute))] += int(row.n)
    days = [
        DayCount(first + timedelta(days=index), *totals.get(index, (0, 0)))
        for index in range(count)
    ]
    return Figures(days, minutes)


def _median_seconds(minutes: Counter[int]) -> int | None:
    delivered = sum(minutes.values())
    if delivered == 0:
        return None
    wanted = [(delivered - 1) // 2, delivered // 2]
    found: list[int] = []
    seen = 0
    for minute in sorted(minutes):
        seen += minutes[minute]
        while wanted and wanted[0] < seen:
            found.append(minute * 60)
            wanted.pop(0)
    return round(sum(found) / len(found))


def dashboard(
    connection: sa.Connection,
    *,
    account: Account,
    today: date,
    days: int = 30,
    past: PastDays | None = None,
) -> Dashboard:
    """Return the last `days` local days up to `today`, inclusive.

    With `past`, the days before today are read from it when it has them
    (fresh), and stored in it otherwise; today is always read.
    """
    first = today - timedelta(days=days - 1)
    key = (account.id, account.timezone, first, today)
    earlier = past.get(key) if past is not None else None
    if earlier is None:
        earlier = figures(connection, account=account, first=first, last=today - timedelta(days=1))
        if past is not None:
            past.put(key, earlier)
    latest = figures(connection, account=account, first=today, last=today)
    daily = earlier.days + latest.days
    minutes = earlier.minutes + latest.minutes
    return Dashboard(
        days=daily,
        total=sum(day.total for day in daily),
        emergencies=sum(day.emergencies for day in daily),
        delivered=sum(minutes.values()),
        median_delivery_seconds=_median_seconds(minutes),
    )
