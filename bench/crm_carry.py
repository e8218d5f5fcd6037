"""Benchmark carrying messages into the CRM: messages/s, and cost with 1M vs 10k records.

    .venv/bin/python bench/crm_carry.py [--big 1000000] [--small 10000] [--messages 5000]
                                        [--database postgresql://...]

For each CRM size, an account gets that many existing records (half leads,
half contacts, each with a phone and an e-mail), then `--messages` messages
are taken (a third from known callers, a third from new callers calling
twice, a third with no number) and carried by the worker's `carry_batch`.
Only carrying is timed. The issue asks for per-message cost at 1M records
<= 1.5x the cost at 10k (indexed lookups, no scans) and >= 2,000 messages/s
on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from answerdesk.accounts import create_account
from answerdesk.messages import take_message_data
from answerdesk.store.engine import create_engine_for_url, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import contacts, leads
from answerdesk.sync import carry_batch

CHUNK = 20_000


def _records(engine: sa.Engine, account_id: int, count: int) -> None:
    now = datetime.now(UTC)
    for table in (leads, contacts):
        half = count // 2
        for start in range(0, half, CHUNK):
            rows = []
            for n in range(start, min(start + CHUNK, half)):
                key = n * 2 + (table is contacts)
                row = {
                    "account_id": account_id,
                    "first_name": f"First{key}",
                    "last_name": f"Last{key}",
                    "organization_name": None,
                    "phone": f"+1212{key:07d}",
                    "mobile": None,
                    "email": f"person{key}@example.com",
                    "email_key": f"person{key}@example.com",
                    "created_at": now,
                    "updated_at": now,
                }
                if table is leads:
                    row.update(status="New", source="import", description=None)
                else:
                    row.update(is_organization=False)
                rows.append(row)
            with write_transaction(engine) as connection:
                connection.execute(table.insert(), rows)


def _messages(engine: sa.Engine, account: object, count: int, known: int) -> None:
    with write_transaction(engine) as connection:
        for n in range(count):
            kind = n % 3
            data: dict[str, object] = {"content": f"message {n}", "first_name": "Caller"}
            if kind == 0:  # a known record, by phone
                data["phone"] = f"+1212{(n * 7919) % known:07d}"
            elif kind == 1:  # a new caller, each calling twice
                data["phone"] = f"+1646{n // 6:07d}"
            take_message_data(connection, account=account, data=data, taken_by_user_id=None)  # type: ignore[arg-type]


def run(url: str, records: int, messages: int, batch: int, cache_mb: int | None) -> float:
    """Return seconds per carried message with `records` existing CRM records."""
    engine = create_engine_for_url(url)
    if cache_mb and engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _cache(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")

    upgrade(engine)
    with write_transaction(engine) as connection:
        account = create_account(
            connection, number=f"b{records}", name="Bench", phone="+12125550100"
        )
    started = time.perf_counter()
    _records(engine, account.id, records)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
    print(f"  {records:>9,} records loaded in {time.perf_counter() - started:.1f} s")
    _messages(engine, account, messages, records)
    started, cpu = time.perf_counter(), time.process_time()
    carried = 0
    while True:
        result = carry_batch(engine, batch_size=batch)
        if result.claimed == 0:
            break
        carried += result.carried
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert carried == messages, (carried, messages)
    engine.dispose()
    print(
        f"  {messages:,} messages carried in {elapsed:.2f} s: {messages / elapsed:,.0f}/s"
        f" ({cpu:.2f} s CPU: {messages / cpu:,.0f}/s of CPU)"
    )
    return elapsed / messages


@contextmanager
def _database(server_url: str | None, sqlite_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file, or a scratch PostgreSQL database."""
    if server_url is None:
        yield f"sqlite:///{sqlite_path}"
        return
    name = f"answerdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=6_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument(
        "--database",
        help="a PostgreSQL server URL: a scratch database is made there per size and dropped"
        " (default: temporary SQLite files)",
    )
    parser.add_argument(
        "--sqlite-cache-mb", type=int, help="SQLite page cache per connection (default: 2 MB)"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs,"
        f" load average {load:.1f} (others' work makes wall times noisy)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        costs = {}
        for size in (args.small, args.big):
            with _database(args.database, Path(tmp) / f"bench{size}.db") as url:
                print(f"{size:,} existing records ({url.split(':')[0]}):")
                costs[size] = run(url, size, args.messages, args.batch, args.sqlite_cache_mb)
    small, big = costs[args.small], costs[args.big]
    print(f"per message: {small * 1e6:.0f} us with {args.small:,} records,", end=" ")
    print(f"{big * 1e6:.0f} us with {args.big:,}")
    print(f"ratio {args.big:,} / {args.small:,} = {big / small:.2f}x (target <= 1.5x)")
    print(f"throughput with {args.small:,} records: {1 / small:,.0f} messages/s (target >= 2,000)")


if __name__ == "__main__":
    main()
