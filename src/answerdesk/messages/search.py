"""Browse and search one account's messages for the console, newest first.

Every page is an index range scan on (account_id, created_second, id) with a
keyset cursor, so page 1 and page 2,000 cost the same. A text, emergency or
status filter is applied inside a bounded window of the newest rows after
the cursor: a rare search term cannot make one page read 100k messages;
instead the page says how far back it looked and offers to look further.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from answerdesk.messages.reading import DayRange
from answerdesk.store.tables import messages

PAGE_SIZE = 50
#: Rows one filtered page may examine; keeps a page well under 50 ms.
SCAN_WINDOW = 5000
FIRST_WINDOW = 500

Cursor = tuple[int, int]


@dataclass(frozen=True)
class MessageFilter:
    days: DayRange = field(default_factory=lambda: DayRange(None, None))
    text: str | None = None
    emergency_only: bool = False
    status: str | None = None

    @property
    def narrows(self) -> bool:
        """Tell whether rows must be examined beyond the index (text, flag, status)."""
        return bool(self.text) or self.emergency_only or self.status is not None


@dataclass(frozen=True)
class MessagePage:
    rows: list[sa.Row[Any]]
    #: Where the next page starts (older messages), or None at the end.
    next_cursor: Cursor | None
    #: True when the window ran out before the page filled: older messages
    #: were not examined yet (the next cursor continues from there).
    window_exhausted: bool = False


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _range(
    select: sa.Select[Any], account_id: int, days: DayRange, cursor: Cursor | None
) -> sa.Select[Any]:
    c = messages.c
    select = select.where(c.account_id == account_id)
    if days.start_second is not None:
        select = select.where(c.created_second >= days.start_second)
    if days.end_second is not None:
        select = select.where(c.created_second < days.end_second)
    if cursor is not None:
        second, last_id = cursor
        select = select.where(
            c.created_second <= second, sa.or_(c.created_second < second, c.id < last_id)
        )
    return select.order_by(c.created_second.desc(), c.id.desc())


def _narrow(select: sa.Select[Any], filters: MessageFilter, table: Any) -> sa.Select[Any]:
    c = table.c
    if filters.emergency_only:
        select = select.where(c.is_emergency.is_(True))
    if filters.status is not None:
        select = select.where(c.status == filters.status)
    if filters.text:
        pattern = f"%{_escape_like(filters.text.lower())}%"
        select = select.where(
            sa.or_(
                *(
                    sa.func.lower(column).like(pattern, escape="\\")
                    for column in (
                        c.content,
                        c.first_name,
                        c.last_name,
                        c.company_name,
                        c.resource,
                        c.phone,
                        c.fields,
                    )
                )
            )
        )
    return select


def _windows(window: int) -> list[int]:
    first = min(window, FIRST_WINDOW)
    return [first] if first == window else [first, window]


def search_messages(
    connection: sa.Connection,
    *,
    account_id: int,
    filters: MessageFilter,
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
    window: int = SCAN_WINDOW,
) -> MessagePage:
    """Return one page of the account's messages, newest first, after `cursor`."""
    if not filters.narrows:
        rows = list(
            connection.execute(
                _range(sa.select(messages), account_id, filters.days, cursor).limit(limit + 1)
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return MessagePage(rows, (rows[-1].created_second, rows[-1].id) if more else None)
    # A small window first: a common filter (emergencies, a frequent word)
    # fills the page from a few hundred rows; only a sparse one pays for the
    # whole window.
    for size in _windows(window):
        # The window holds whole rows and the filter applies outside it, so no
        # planner can turn this into a scan of every message of the account.
        scan = _range(sa.select(messages), account_id, filters.days, cursor).limit(size).subquery()
        query = _narrow(sa.select(scan), filters, scan).order_by(
            scan.c.created_second.desc(), scan.c.id.desc()
        )
        rows = list(connection.execute(query.limit(limit + 1)))
        if len(rows) > limit:
            rows = rows[:limit]
            return MessagePage(rows, (rows[-1].created_second, rows[-1].id))
    # The window's last row, if the window was full: the next look starts there.
    edge = connection.execute(
        _range(
            sa.select(messages.c.created_second, messages.c.id), account_id, filters.days, cursor
        )
        .offset(window - 1)
        .limit(1)
    ).first()
    if edge is None:
        return MessagePage(rows, None)
    return MessagePage(rows, (edge.created_second, edge.id), window_exhausted=True)
