"""What a list asks for (days in the account's zone, extensions), and single messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.errors import MessageNotFound
from answerdesk.messages.localtime import localise
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import messages


@dataclass(frozen=True)
class DayRange:
    """Whole local days as a half-open range of epoch seconds [start, end)."""

    start_second: int | None
    end_second: int | None


def _local_midnight(day: date, zone: ZoneInfo) -> int:
    naive = datetime.combine(day, time())
    try:
        aware = localise(naive, zone)
    except ValueError:
        # A zone that skips midnight (a DST change at 00:00): the day starts
        # at the first instant that exists, one hour later at most.
        aware = localise(naive + timedelta(hours=1), zone)
    return int(aware.timestamp())


def local_day_range(zone: ZoneInfo, from_date: date | None, to_date: date | None) -> DayRange:
    """Turn calendar days in the account's zone (both inclusive) into seconds."""
    return DayRange(
        start_second=_local_midnight(from_date, zone) if from_date else None,
        end_second=_local_midnight(to_date + timedelta(days=1), zone) if to_date else None,
    )


@dataclass(frozen=True)
class ListQuery:
    """What a list request asks for; `by_id` is the after_id/limit extension's order."""

    account_id: int
    days: DayRange
    after_id: int | None = None
    limit: int | None = None

    @property
    def by_id(self) -> bool:
        return self.after_id is not None or self.limit is not None


def has_more(engine: Engine, query: ListQuery, last_id: int) -> bool:
    """Tell whether an id-ordered list has a row after `last_id` (for the Link header)."""
    c = messages.c
    probe = sa.select(c.id).where(c.account_id == query.account_id, c.id > last_id)
    if query.days.start_second is not None:
        probe = probe.where(c.created_second >= query.days.start_second)
    if query.days.end_second is not None:
        probe = probe.where(c.created_second < query.days.end_second)
    with read_transaction(engine) as connection:
        return connection.execute(probe.order_by(c.id).limit(1)).first() is not None


def get_message(connection: sa.Connection, *, account_id: int, message_id: int) -> sa.Row[Any]:
    """Return one message of this account; another account's id is not found."""
    row = connection.execute(
        sa.select(messages).where(messages.c.id == message_id, messages.c.account_id == account_id)
    ).first()
    if row is None:
        raise MessageNotFound()
    return row
