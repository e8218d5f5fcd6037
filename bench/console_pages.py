"""Print the server time of each main console page with 100k messages in one account.

    python bench/console_pages.py [--messages 100000] [--days 365] [--database-url URL]

Seeds a fresh database (a temporary SQLite file unless a URL is given, which
must point at an empty database), bulk-loads the messages spread over the
last `--days` days (10% emergencies, half delivered), then requests every
main page in-process and prints the median and worst of several runs. Server
time here is the whole ASGI request inside the process: routing, session,
queries, template, no network. The issue's budget is 50 ms a page.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.testclient import TestClient

from answerdesk import accounts, clock, tokens, users
from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.store.engine import create_engine_for_url, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import messages

PASSWORD = "bench password 1"
RUNS = 15
BUDGET_MS = 50.0


def seed(url: str, count: int, days: int) -> dict[str, Any]:
    """Create the account, its users and `count` messages; return what pages need."""
    engine = create_engine_for_url(url)
    upgrade(engine)
    with write_transaction(engine) as connection:
        account = accounts.create_account(
            connection, number="10042", name="Harbor Dental Group", timezone="America/New_York"
        )
        for label, required in (("Reason for call", True), ("Date of birth", False)):
            accounts.add_script_field(
                connection, account_id=account.id, label=label, required=required
            )
        admin = users.create_user(
            connection, email="admin@bench.example", name="Admin", role="admin", password=PASSWORD
        )
        client = users.create_user(
            connection,
            email="client@bench.example",
            name="Dana Client",
            role="client",
            account_id=account.id,
            password=PASSWORD,
        )
        tokens.create_token(connection, user_id=client.id)
    rng = random.Random(42)
    now = clock.utcnow()
    start = now - timedelta(days=days)
    step = (now - start) / count
    rows: list[dict[str, Any]] = []
    for serial in range(count):
        created = start + step * serial + timedelta(seconds=rng.random())
        delivered = serial % 2 == 0
        rows.append(
            {
                "account_id": account.id,
                "resource": "Dana Client",
                "first_name": rng.choice(["Ann", "Bob", "Carla", "Dev", "Eli"]),
                "last_name": rng.choice(["Lee", "Patel", "Garcia", "Smith", "Kim"]),
                "phone": f"+1617555{serial % 10000:04d}",
                "content": f"Caller {serial} asked for a callback about appointment {serial % 97}.",
                "is_emergency": serial % 10 == 0,
                "fields": orjson.dumps(
                    [["reason_for_call", "Reason for call", "Appointment"]]
                ).decode(),
                "created_at": created,
                "created_second": math.floor(created.timestamp()),
                "status": "delivered" if delivered else "new",
                "delivered_at": created + timedelta(minutes=rng.randint(1, 120))
                if delivered
                else None,
                "delivered_to": "front@harbor.example" if delivered else None,
                "updated_at": created,
            }
        )
        if len(rows) == 10_000:
            with write_transaction(engine) as connection:
                connection.execute(messages.insert(), rows)
            rows = []
    if rows:
        with write_transaction(engine) as connection:
            connection.execute(messages.insert(), rows)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")
        connection.commit()
        newest = connection.execute(sa.select(sa.func.max(messages.c.id))).scalar_one()
        middle = connection.execute(
            sa.select(messages.c.created_second, messages.c.id)
            .where(messages.c.account_id == account.id)
            .order_by(messages.c.id)
            .offset(count // 2)
            .limit(1)
        ).one()
    engine.dispose()
    return {
        "account": account,
        "admin": admin,
        "client": client,
        "newest": newest,
        "middle": f"{middle.created_second}.{middle.id}",
    }


def sign_in(http: TestClient, email: str) -> str:
    page = http.get("/console/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = http.post(
        "/console/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = http.get("/console/tokens").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def timed(http: TestClient, method: str, path: str, **kwargs: Any) -> list[float]:
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        answer = http.request(method, path, follow_redirects=False, **kwargs)
        samples.append((time.perf_counter() - began) * 1000)
        assert answer.status_code < 400, (path, answer.status_code, answer.text[:300])
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    url = options.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    began = time.perf_counter()
    cast = seed(url, options.messages, options.days)
    print(
        f"seeded {options.messages} messages over {options.days} days in "
        f"{time.perf_counter() - began:.1f}s ({url.split(':')[0]})"
    )
    app = create_app(Settings(database_url=url))
    number, account_id = cast["account"].number, cast["account"].id
    base = f"/console/accounts/{number}"
    with TestClient(app) as admin, TestClient(app) as client:
        csrf = sign_in(admin, "admin@bench.example")
        sign_in(client, "client@bench.example")
        today = clock.utcnow().date()
        month_ago = (today - timedelta(days=30)).isoformat()
        pages: list[tuple[str, TestClient, str, str, dict[str, Any]]] = [
            ("sign-in form", client, "GET", "/console/sign-in", {}),
            ("accounts (agent's picker)", admin, "GET", "/console/accounts?q=harbor", {}),
            ("messages, newest page", client, "GET", f"{base}/messages", {}),
            (
                "messages, page in the middle",
                client,
                "GET",
                f"{base}/messages?before={cast['middle']}",
                {},
            ),
            (
                "messages, last 30 days",
                client,
                "GET",
                f"{base}/messages?from={month_ago}&to={today.isoformat()}",
                {},
            ),
            ("messages, emergencies only", client, "GET", f"{base}/messages?emergency=on", {}),
            ("messages, text search (common)", client, "GET", f"{base}/messages?q=callback", {}),
            ("messages, text search (no hit)", client, "GET", f"{base}/messages?q=zebra", {}),
            ("message detail", client, "GET", f"{base}/messages/{cast['newest']}", {}),
            ("message form", admin, "GET", f"{base}/messages/new", {}),
            (
                "take a message (POST)",
                admin,
                "POST",
                f"{base}/messages/new",
                {"data": {"csrf_token": csrf, "content": "Bench", "f_1": "Other"}},
            ),
            ("dashboard", client, "GET", f"{base}/dashboard", {}),
            ("API tokens", client, "GET", "/console/tokens", {}),
            ("admin: account settings", admin, "GET", f"/console/admin/accounts/{account_id}", {}),
            ("admin: script", admin, "GET", f"/console/admin/accounts/{account_id}/script", {}),
            ("admin: users", admin, "GET", "/console/admin/users", {}),
            ("admin: all tokens", admin, "GET", "/console/admin/tokens", {}),
            ("admin: audit log", admin, "GET", "/console/admin/audit", {}),
        ]
        print(f"{'page':40} {'median ms':>10} {'max ms':>8}")
        over = 0
        for name, http, method, path, kwargs in pages:
            timed(http, method, path, **kwargs)  # warm caches and templates
            samples = timed(http, method, path, **kwargs)
            median = statistics.median(samples)
            over += median > BUDGET_MS
            flag = "  over budget" if median > BUDGET_MS else ""
            print(f"{name:40} {median:10.1f} {max(samples):8.1f}{flag}")
    print(f"{over} page(s) over {BUDGET_MS:.0f} ms (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
