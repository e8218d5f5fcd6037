"""The dashboard: messages per local day, emergencies, median time to delivery."""

from __future__ import annotations

import re
from datetime import date, timedelta

from answerdesk import clock
from answerdesk.messages.stats import dashboard
from answerdesk.store.engine import read_transaction
from tests.console.conftest import PASSWORD, Console
from tests.factories import Desk


def test_figures_fold_into_local_days(desk: Desk) -> None:
    account = desk.account(timezone="America/New_York")
    # 23:30 local on Mar 9 is already Mar 10 in UTC: it must count for Mar 9.
    desk.take(account, "late", created_at="2024-03-09T23:30:00")
    desk.take(
        account,
        "urgent",
        created_at="2024-03-10T08:00:00",
        is_emergency=True,
        delivered_at="2024-03-10T08:10:00",
    )
    desk.take(account, "slow", created_at="2024-03-10T09:00:00", delivered_at="2024-03-10T09:30:00")
    desk.take(
        account, "slower", created_at="2024-03-10T09:00:00", delivered_at="2024-03-10T10:00:00"
    )
    desk.take(account, "too old", created_at="2024-02-01T09:00:00")
    with read_transaction(desk.engine) as connection:
        figures = dashboard(connection, account=account, today=date(2024, 3, 11), days=30)
    assert len(figures.days) == 30 and figures.days[-1].day == date(2024, 3, 11)
    by_day = {day.day: (day.total, day.emergencies) for day in figures.days if day.total}
    assert by_day == {date(2024, 3, 9): (1, 0), date(2024, 3, 10): (3, 1)}
    assert (figures.total, figures.emergencies, figures.delivered) == (4, 1, 3)
    assert figures.median_delivery_seconds == 30 * 60


def test_dashboard_page_draws_the_chart(console: Console, desk: Desk) -> None:
    account = desk.account(timezone="UTC")
    now = clock.utcnow()
    for days_ago in (0, 0, 3):
        desk.take(account, "hello", created_at=(now - timedelta(days=days_ago)).isoformat())
    desk.take(account, "fire", is_emergency=True)
    client = console.sign_in(desk.user(role="client", account=account, password=PASSWORD))
    page = client.get("/console/dashboard", follow_redirects=True)
    assert page.status_code == 200
    svg = re.search(r'<svg class="chart".*?</svg>', page.text, re.S).group(0)
    assert len(re.findall(r'<rect class="bar"', svg)) == 2
    assert len(re.findall(r'<rect class="bar-emergency"', svg)) == 1
    assert "3 messages, 1 emergency" in svg
    assert "—" in page.text  # nothing delivered: no median


def test_past_days_are_reused_and_today_is_always_read(desk: Desk) -> None:
    from answerdesk.messages.stats import PastDays

    account = desk.account(timezone="UTC")
    today = clock.utcnow().date()
    yesterday = (clock.utcnow() - timedelta(days=1)).replace(hour=12).isoformat()
    desk.take(account, "old", created_at=yesterday)
    past = PastDays()
    with read_transaction(desk.engine) as connection:
        assert dashboard(connection, account=account, today=today, past=past).total == 1
    desk.take(account, "late import", created_at=yesterday)
    desk.take(account, "now")
    with read_transaction(desk.engine) as connection:
        cached = dashboard(connection, account=account, today=today, past=past)
        fresh = dashboard(connection, account=account, today=today)
    assert (cached.total, fresh.total) == (2, 3)
    assert cached.days[-1].total == 1 and len(cached.days) == 30
