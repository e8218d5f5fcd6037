"""Create a bench database and bulk-load synthetic messages into it.

Accounts, users and tokens go through answerdesk's own domain functions (so
they are exactly what the product makes); messages are bulk-loaded, because
taking a million of them one by one would take longer than the benchmark.
Columns the product derives at write time (a pre-rendered wire form, when
the schema has one) are computed with the product's own functions.
"""

from __future__ import annotations

import bisect
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from answerdesk import accounts, tokens, users
from answerdesk.messages import wire as wire_module
from answerdesk.store.engine import create_engine_for_url, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import messages, text_messages
from bench.synth import COLUMNS, SCRIPT, messages_for

ZONE = "America/New_York"
BATCH = 20_000


@dataclass(frozen=True)
class Spec:
    """Messages to load for one account; `track` keeps its ids and seconds."""

    account_id: int
    count: int
    seed: int
    track: bool = False
    texts: bool = False


@dataclass
class Loaded:
    """A tracked account's message ids and creation seconds, both ascending."""

    ids: list[int] = field(default_factory=list)
    seconds: list[int] = field(default_factory=list)


def migrated_engine(url: str) -> Engine:
    """Return an engine on a freshly migrated database."""
    engine = create_engine_for_url(url)
    upgrade(engine)
    return engine


def add_account(engine: Engine, number: str) -> tuple[int, str, str]:
    """Create an account with the 8-field script and one client with a token."""
    with write_transaction(engine) as connection:
        account = accounts.create_account(
            connection, number=number, name=f"Bench {number}", timezone=ZONE
        )
        for label in SCRIPT:
            accounts.add_script_field(connection, account_id=account.id, label=label)
        email = f"client{number}@bench.example"
        user = users.create_user(
            connection, email=email, name="Bench Client", role="client", account_id=account.id
        )
        _info, token = tokens.create_token(connection, user_id=user.id)
    return account.id, email, token


def _derived(values: tuple[object, ...], zone: ZoneInfo) -> tuple[object, ...]:
    """Append what the product computes at write time, if its schema has it."""
    if "wire" not in messages.c:
        return values
    row = SimpleNamespace(**dict(zip(("id", *COLUMNS), values, strict=True)))
    return (*values, *wire_module.stored_wire(row, zone=zone))


def _columns() -> tuple[str, ...]:
    base = ("id", *COLUMNS)
    return (*base, "wire", "wire_zone") if "wire" in messages.c else base


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


TEXT_COLUMNS = (
    "id, account_id, seq, message_id, user_phone_number, content, incoming, "
    "resource_phone_number, resource_type, sent_at, created_at, updated_at"
)


def _text_row(row: tuple[object, ...], seq: int) -> tuple[object, ...]:
    at = ("id", *COLUMNS).index
    created = row[at("created_at")]
    return (
        row[0], row[at("account_id")], seq, row[0], "+16175550100", row[at("content")],
        True, row[at("phone")], "none", created, created, created,
    )  # fmt: skip


def _rows(
    specs: list[Spec], first_id: int, loaded: dict[int, Loaded]
) -> Iterator[tuple[tuple[object, ...], int | None]]:
    """Yield (message row, text seq or None), the accounts' messages interleaved.

    Interleaving at random (as real traffic is) spreads a big account's rows
    over the whole table instead of one tidy run of pages.
    """
    zone = ZoneInfo(ZONE)
    schedule = [n for n, spec in enumerate(specs) for _ in range(spec.count)]
    random.Random(99).shuffle(schedule)
    streams = [messages_for(s.account_id, s.count, seed=s.seed) for s in specs]
    seqs = [0] * len(specs)
    at_second = COLUMNS.index("created_second")
    for offset, n in enumerate(schedule):
        spec = specs[n]
        values = (first_id + offset, *next(streams[n]).values)
        if spec.track:
            loaded[spec.account_id].ids.append(first_id + offset)
            loaded[spec.account_id].seconds.append(values[1 + at_second])  # type: ignore[arg-type]
        seqs[n] += 1
        yield _derived(values, zone), seqs[n] if spec.texts else None


def load(url: str, specs: list[Spec], *, first_id: int = 1) -> dict[int, Loaded]:
    """Bulk-load the messages of `specs` (SQLite: executemany; PostgreSQL: COPY)."""
    loaded = {spec.account_id: Loaded() for spec in specs if spec.track}
    rows = _rows(specs, first_id, loaded)
    columns = _columns()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _load_sqlite(str(parsed.database), columns, rows)
    else:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        _load_postgres(dsn, columns, rows)
    return loaded


Rows = Iterator[tuple[tuple[object, ...], int | None]]


def _load_sqlite(path: str, columns: tuple[str, ...], rows: Rows) -> None:
    connection = sqlite3.connect(path)
    insert = f"INSERT INTO messages ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    text_insert = f"INSERT INTO text_messages ({TEXT_COLUMNS}) VALUES ({', '.join('?' * 12)})"
    with connection:
        for batch in _batches(rows):
            connection.executemany(insert, [tuple(map(_sqlite_value, r)) for r, _ in batch])
            texts = [tuple(map(_sqlite_value, _text_row(r, q))) for r, q in batch if q]
            connection.executemany(text_insert, texts)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _load_postgres(dsn: str, columns: tuple[str, ...], rows: Rows) -> None:
    import psycopg

    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        for batch in _batches(rows):
            with cursor.copy(f"COPY messages ({', '.join(columns)}) FROM STDIN") as copy:
                for row, _seq in batch:
                    copy.write_row(row)
            with cursor.copy(f"COPY text_messages ({TEXT_COLUMNS}) FROM STDIN") as copy:
                for row, seq in batch:
                    if seq:
                        copy.write_row(_text_row(row, seq))


def _batches(rows: Rows) -> Iterator[list[tuple[tuple[object, ...], int | None]]]:
    batch: list[tuple[tuple[object, ...], int | None]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fix_sequences(engine: Engine) -> None:
    """After explicit ids on PostgreSQL, move the id sequences past them."""
    if engine.dialect.name != "postgresql":
        return
    with write_transaction(engine) as connection:
        for table in (messages, text_messages):
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                )
            )
        connection.exec_driver_sql("ANALYZE")


def day_range(seconds: list[int], rows: int, *, middle: float = 0.5) -> tuple[date, date, int]:
    """Choose whole local days around `middle` of the data holding about `rows` messages."""
    zone = ZoneInfo(ZONE)

    def local_day(second: int) -> date:
        return datetime.fromtimestamp(second, zone).date()

    def midnight(day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())

    first = last = local_day(seconds[int(len(seconds) * middle)])
    while True:
        lo = bisect.bisect_left(seconds, midnight(first))
        hi = bisect.bisect_left(seconds, midnight(last + timedelta(days=1)))
        if hi - lo >= rows or (lo == 0 and hi == len(seconds)):
            return first, last, hi - lo
        last += timedelta(days=1)


def as_args(value: Any) -> str:
    """Format a date as the API's MM-DD-YYYY."""
    return f"{value.month:02d}-{value.day:02d}-{value.year:04d}"
