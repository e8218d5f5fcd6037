"""The fast path's own connections.

PostgreSQL: capped per event loop, and self-healing. SQLite: a read snapshot
held across reads on an event loop sees every commit, and is let go when idle.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from answerdesk.api.hot_readers import READ_ERRORS, SNAPSHOT_SECONDS, PostgresReads, SqliteReads
from answerdesk.store import async_postgres
from answerdesk.store.async_postgres import LoopConnections, asyncpg_dsn, asyncpg_statement
from answerdesk.store.engine import is_sqlite, write_transaction
from tests.crm_support import carry_all
from tests.factories import Desk

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh event loop in its own thread (another test's loop may be running here)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def reads(engine: Any) -> Any:
    if is_sqlite(engine):
        pytest.skip("SQLite reads need no connections of their own")
    readers = PostgresReads(engine, size=2)
    yield readers
    readers.close()


def test_many_requests_at_once_share_at_most_size_connections(reads: PostgresReads) -> None:
    async def main() -> list[Any]:
        results = await asyncio.gather(
            *(reads.fetch("SELECT %s::int, pg_sleep(0.01)", (n,)) for n in range(12))
        )
        mine = reads.connections._loops[asyncio.get_running_loop()]
        assert len(mine.opened) <= 2
        return [rows[0][0] for rows in results]

    assert run(main()) == list(range(12))


def test_broken_connections_give_their_slots_back(reads: PostgresReads) -> None:
    async def main() -> list[int]:
        await asyncio.gather(*(reads.fetch("SELECT pg_sleep(0.01)", ()) for _ in range(4)))
        mine = reads.connections._loops[asyncio.get_running_loop()]
        for connection in list(mine.opened):
            connection.terminate()  # the server went away under them
        outcomes = await asyncio.gather(
            *(reads.fetch("SELECT %s::int", (n,)) for n in range(6)), return_exceptions=True
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(failures) <= 2  # at most one per broken connection
        again = await asyncio.wait_for(
            asyncio.gather(*(reads.fetch("SELECT %s::int", (n,)) for n in range(6))), timeout=10
        )
        assert len(mine.opened) <= 2
        return [rows[0][0] for rows in again]

    assert run(main()) == list(range(6))


def test_close_closes_every_connection(reads: PostgresReads) -> None:
    async def main() -> list[Any]:
        await asyncio.gather(*(reads.fetch("SELECT 1", ()) for _ in range(3)))
        return list(reads.connections._loops[asyncio.get_running_loop()].opened)

    opened = run(main())
    reads.close()
    assert opened and all(connection.is_closed() for connection in opened)


def test_a_slot_given_back_goes_to_the_request_that_waited_longest() -> None:
    async def main() -> list[str]:
        slots = LoopConnections(1)
        first = await slots.take()
        served: list[str] = []

        async def request(name: str) -> None:
            slot = await slots.take()
            served.append(name)
            slots.give(slot)

        waiting = asyncio.create_task(request("waiting"))
        await asyncio.sleep(0)
        slots.give(first)
        await request("arriving")  # asks before the waiting one has run again
        await waiting
        return served

    assert run(main()) == ["waiting", "arriving"]


def test_a_slot_handed_to_a_cancelled_request_is_passed_on() -> None:
    async def main() -> bool:
        slots = LoopConnections(1)
        first = await slots.take()
        cancelled = asyncio.create_task(slots.take())
        next_in_line = asyncio.create_task(slots.take())
        await asyncio.sleep(0)
        slots.give(first)  # handed to `cancelled`, which has not run yet
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await asyncio.wait_for(next_in_line, timeout=1)
        return not slots.waiting

    assert run(main())


def test_connections_close_when_their_loop_shuts_down(reads: PostgresReads) -> None:
    async def main() -> list[Any]:
        await asyncio.gather(*(reads.fetch("SELECT pg_sleep(0.01)", ()) for _ in range(3)))
        opened = list(reads.connections._loops[asyncio.get_running_loop()].opened)
        assert opened and not any(connection.is_closed() for connection in opened)
        return opened

    # asyncio.run ends the loop; nothing calls reads.close().
    assert all(connection.is_closed() for connection in run(main()))


def test_close_on_the_loop_closes_its_connections_at_once(reads: PostgresReads) -> None:
    async def main() -> bool:
        await reads.fetch("SELECT 1", ())
        opened = list(reads.connections._loops[asyncio.get_running_loop()].opened)
        reads.close()
        return bool(opened) and all(connection.is_closed() for connection in opened)

    assert run(main())


def test_a_refused_connection_is_not_retried_on_every_read(
    engine: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL connections")
    closed_port = engine.url.set(port=1)
    reads = PostgresReads(sa.create_engine(closed_port), size=2)
    attempts: list[str] = []
    real_connect = async_postgres.asyncpg.connect

    async def counted(dsn: str, **kwargs: Any) -> Any:
        attempts.append(dsn)
        return await real_connect(dsn, **kwargs)

    monkeypatch.setattr(async_postgres.asyncpg, "connect", counted)

    async def main() -> list[BaseException | list[Any]]:
        first = await asyncio.gather(
            *(reads.fetch("SELECT 1", ()) for _ in range(5)), return_exceptions=True
        )
        assert len(attempts) <= reads.connections.size  # at most one per slot, at once
        tried = len(attempts)
        later = await asyncio.gather(
            *(reads.fetch("SELECT 1", ()) for _ in range(5)), return_exceptions=True
        )
        assert len(attempts) == tried  # then none while the last failure is recent
        return first + later

    with caplog.at_level(logging.WARNING, logger="answerdesk.store.async_postgres"):
        outcomes = run(main())
    assert all(isinstance(outcome, READ_ERRORS) for outcome in outcomes)
    assert [r.getMessage() for r in caplog.records] == [
        "fast-path PostgreSQL connection failed (ConnectionRefusedError); retrying in 5 s"
    ]
    reads.close()


def test_a_url_with_libpq_client_settings_still_connects(engine: Any) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL connections")
    url = engine.url.update_query_dict(
        {"connect_timeout": "7", "keepalives": "1", "application_name": "answerdesk-test"}
    )
    reads = PostgresReads(sa.create_engine(url), size=1)

    async def main() -> Any:
        return (await reads.fetch("SELECT current_setting('application_name')", ()))[0][0]

    assert run(main()) == "answerdesk-test"  # server settings pass, client-only ones do not
    assert reads.connections.connect_timeout == 7.0
    reads.close()


@pytest.mark.parametrize(
    ("query", "timeout"),
    [
        ("", 5.0),
        ("&connect_timeout=0", 5.0),
        ("&connect_timeout=x", 5.0),
        ("&connect_timeout=2", 2.0),
    ],
)
def test_the_connection_timeout_comes_from_the_url(query: str, timeout: float) -> None:
    url = sa.make_url(f"postgresql+psycopg://u:p%40ss@db.example:6432/desk?sslmode=require{query}")
    dsn, seconds = asyncpg_dsn(url)
    assert seconds == timeout
    assert dsn == "postgresql://u:p%40ss@db.example:6432/desk?sslmode=require"


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        ("SELECT %s, %s", (1, 2), ("SELECT $1, $2", (1, 2))),
        (
            "SELECT %(b)s, %(a)s, %(b)s",
            {"a": 1, "b": 2},
            ("SELECT $1, $2, $1", (2, 1)),
        ),
        ("SELECT '%%' || %s", ("x",), ("SELECT '%' || $1", ("x",))),
    ],
)
def test_psycopg_placeholders_become_numbered(sql: str, params: Any, expected: Any) -> None:
    assert asyncpg_statement(sql, params) == expected


@pytest.fixture
def sqlite_reads(engine: Any) -> Any:
    if not is_sqlite(engine):
        pytest.skip("SQLite's read snapshots")
    readers = SqliteReads(engine)
    yield readers
    readers.close()


def _rewrite(engine: Any, message_id: int, old: str, new: str) -> None:
    """Change a stored render from another connection, as another process would."""
    with write_transaction(engine) as connection:
        connection.execute(
            sa.text("UPDATE messages SET wire = replace(wire, :old, :new) WHERE id = :id"),
            {"old": old, "new": new, "id": message_id},
        )


def test_a_held_snapshot_still_sees_every_commit(
    sqlite_reads: SqliteReads, desk: Desk, engine: Any
) -> None:
    account = desk.account()
    message_id = desk.take(account, "first words")

    async def main() -> list[bytes | None]:
        bodies = [sqlite_reads.message(account.id, message_id)]
        held = sqlite_reads._local.held
        assert held.connection.in_transaction  # the snapshot is held between reads
        bodies.append(sqlite_reads.message(account.id, message_id))
        _rewrite(engine, message_id, "first words", "second words")
        bodies.append(sqlite_reads.message(account.id, message_id))
        later = desk.take(account, "a newer message")
        bodies.append(sqlite_reads.message(account.id, later))
        return bodies

    first, again, changed, newer = run(main())
    assert first is not None and b"first words" in first and again == first
    assert changed is not None and b"second words" in changed
    assert newer is not None and b"a newer message" in newer


def test_an_idle_snapshot_is_let_go(sqlite_reads: SqliteReads, desk: Desk, engine: Any) -> None:
    account = desk.account()
    message_id = desk.take(account)

    def checkpoint_is_blocked() -> bool:
        with engine.connect() as connection:
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
        return bool(busy)

    async def main() -> tuple[bool, bool, bool]:
        sqlite_reads.message(account.id, message_id)
        _rewrite(engine, message_id, "Please", "Kindly")  # WAL frames the snapshot predates
        sqlite_reads.message(account.id, message_id)
        desk.take(account)
        held = sqlite_reads._local.held.connection.in_transaction
        blocked = checkpoint_is_blocked()
        await asyncio.sleep(SNAPSHOT_SECONDS + 0.2)
        return held, blocked, sqlite_reads._local.held.connection.in_transaction

    held, blocked, still_held = run(main())
    assert held and blocked  # a checkpoint cannot finish past a held snapshot...
    assert not still_held
    assert not checkpoint_is_blocked()  # ...and can once it is let go


def test_outside_an_event_loop_each_read_stands_alone(
    sqlite_reads: SqliteReads, desk: Desk
) -> None:
    account = desk.account()
    message_id = desk.take(account)

    def read() -> tuple[bytes | None, bool]:
        body = sqlite_reads.message(account.id, message_id)
        return body, sqlite_reads._local.held.connection.in_transaction

    with ThreadPoolExecutor(1) as pool:  # a thread with no event loop (this one may have one)
        body, in_transaction = pool.submit(read).result()
    assert body is not None
    assert not in_transaction


def test_discard_closes_the_connection_and_its_snapshot(
    sqlite_reads: SqliteReads, desk: Desk
) -> None:
    account = desk.account()
    message_id = desk.take(account)

    async def main() -> Any:
        sqlite_reads.message(account.id, message_id)
        held = sqlite_reads._local.held
        sqlite_reads.discard()
        assert sqlite_reads.message(account.id, message_id) is not None  # a new connection
        return held

    old = run(main())
    with pytest.raises(Exception, match="closed"):
        old.connection.execute("SELECT 1")


# -- answers kept until the next commit (SQLite) -----------------------------


@pytest.fixture
def keeping_reads(engine: Any) -> Any:
    if not is_sqlite(engine):
        pytest.skip("answers are kept on SQLite only")
    readers = SqliteReads(engine, keep_bytes=1 << 20)
    yield readers
    readers.close()


def test_a_kept_answer_lasts_until_what_it_is_made_of_changes(
    keeping_reads: SqliteReads, desk: Desk, engine: Any
) -> None:
    account = desk.account()
    message_id = desk.take(account, "first words")

    async def main() -> list[bytes | None]:
        first = keeping_reads.message(account.id, message_id)
        again = keeping_reads.message(account.id, message_id)
        assert again is first  # kept, not read again
        _rewrite(engine, message_id, "first words", "second words")
        changed = keeping_reads.message(account.id, message_id)
        desk.take(account, "a commit about something else")
        with write_transaction(engine) as connection:  # as a token's `last_used_at` is
            connection.execute(sa.text("UPDATE accounts SET name = 'Renamed'"))
        after_other = keeping_reads.message(account.id, message_id)
        assert after_other is changed  # other commits leave it kept
        return [first, changed, after_other]

    first, changed, _after_other = run(main())
    assert first is not None and b"first words" in first
    assert changed is not None and b"second words" in changed


def _answer_changes(engine: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT changes FROM answer_changes WHERE id = 1")
            ).scalar_one()
        )


def test_the_count_rises_with_exactly_the_writes_that_change_an_answer(
    keeping_reads: SqliteReads, desk: Desk, engine: Any
) -> None:
    """Migration 0012's triggers: the same list as PostgreSQL's notices (0010)."""
    account = desk.account()
    message_id = desk.take(account, "A new message", phone="(617) 555-0123")  # a new lead
    carry_all(engine)
    with engine.connect() as connection:
        text_id = connection.execute(sa.text("SELECT max(id) FROM text_messages")).scalar_one()

    def bumps(sql: str, **params: Any) -> int:
        before = _answer_changes(engine)
        with write_transaction(engine) as connection:
            connection.execute(sa.text(sql), params)
        return _answer_changes(engine) - before

    assert bumps("UPDATE accounts SET name = 'Renamed' WHERE id = :id", id=account.id) == 0
    assert bumps("UPDATE api_tokens SET last_used_at = created_at") == 0
    assert bumps("UPDATE messages SET status = 'read' WHERE id = :id", id=message_id) == 1
    assert bumps("UPDATE accounts SET timezone = 'Europe/Paris' WHERE id = :id", id=account.id) == 1
    assert bumps("UPDATE accounts SET number = '77777' WHERE id = :id", id=account.id) == 1
    assert bumps("UPDATE accounts SET number = number WHERE id = :id", id=account.id) == 0
    assert bumps("UPDATE text_messages SET content = 'x' WHERE id = :id", id=text_id) == 1
    insert_deal = (
        "INSERT INTO deals (id, account_id, name, stage, lead_id, created_at, updated_at)"
        " VALUES (:id, :account, 'Repair', 'open', (SELECT max(id) FROM leads),"
        " '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
    )
    assert bumps(insert_deal, id=990001, account=account.id) == 1
    assert bumps("UPDATE deals SET name = 'Bigger repair' WHERE id = 990001") == 1
    assert bumps("DELETE FROM deals WHERE id = 990001") == 1
    assert bumps("DELETE FROM text_messages WHERE id = :id", id=text_id) == 1
    with write_transaction(engine) as connection:
        connection.execute(
            sa.text("UPDATE messages SET wire = NULL WHERE id = :id"), {"id": message_id}
        )
    assert bumps("UPDATE messages SET status = 'archived' WHERE id = :id", id=message_id) == 0
    before = _answer_changes(engine)
    desk.take(account, "Another message")  # a new message: nothing kept can be it
    assert _answer_changes(engine) == before


def test_a_commit_by_another_process_ends_a_kept_answer(
    keeping_reads: SqliteReads, desk: Desk, engine: Any
) -> None:
    account = desk.account()
    message_id = desk.take(account, "first words")
    path = engine.url.database
    rewrite = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], timeout=30)\n"
        "db.execute(\"UPDATE messages SET wire = replace(wire, 'first', 'other') WHERE id = ?\","
        " (int(sys.argv[2]),))\n"
        "db.commit()\n"
    )

    async def main() -> tuple[bytes | None, bytes | None]:
        first = keeping_reads.message(account.id, message_id)
        assert keeping_reads.message(account.id, message_id) is first  # kept
        subprocess.run([sys.executable, "-c", rewrite, path, str(message_id)], check=True)
        return first, keeping_reads.message(account.id, message_id)

    first, after = run(main())
    assert first is not None and b"first words" in first
    assert after is not None and b"other words" in after


def test_a_kept_answer_outlives_the_snapshot_it_was_read_in(
    keeping_reads: SqliteReads, desk: Desk
) -> None:
    account = desk.account()
    message_id = desk.take(account)

    async def main() -> tuple[bool, bool]:
        first = keeping_reads.message(account.id, message_id)
        await asyncio.sleep(SNAPSHOT_SECONDS + 0.2)  # the snapshot is let go; nothing committed
        held = keeping_reads._local.held.connection.in_transaction
        return held, keeping_reads.message(account.id, message_id) is first

    held, same = run(main())
    assert not held and same


def test_a_kept_answer_is_only_its_own_accounts(keeping_reads: SqliteReads, desk: Desk) -> None:
    mine, other = desk.account(), desk.account()
    message_id = desk.take(mine)

    async def main() -> tuple[bytes | None, bytes | None]:
        assert keeping_reads.message(mine.id, message_id) is not None
        return keeping_reads.message(other.id, message_id), keeping_reads.text_message(
            other.id, message_id
        )

    assert run(main()) == (None, None)


def test_kept_text_messages_follow_commits_too(
    keeping_reads: SqliteReads, desk: Desk, engine: Any
) -> None:
    account = desk.account()
    desk.take(account, "about the leak", phone="(617) 555-0123")
    carry_all(engine)
    with engine.connect() as connection:
        text_id = connection.execute(sa.text("SELECT max(id) FROM text_messages")).scalar_one()

    async def main() -> tuple[bytes | None, bytes | None, bytes | None]:
        first = keeping_reads.text_message(account.id, text_id)
        again = keeping_reads.text_message(account.id, text_id)
        with write_transaction(engine) as connection:
            connection.execute(
                sa.text("UPDATE text_messages SET content = 'rewritten' WHERE id = :id"),
                {"id": text_id},
            )
        return first, again, keeping_reads.text_message(account.id, text_id)

    first, again, changed = run(main())
    assert first is not None and again is first and b"about the leak" in first
    assert changed is not None and b"rewritten" in changed


def test_kept_answers_stay_within_their_bytes(desk: Desk, engine: Any) -> None:
    if not is_sqlite(engine):
        pytest.skip("answers are kept on SQLite only")
    account = desk.account()
    ids = [desk.take(account, f"message number {n}") for n in range(6)]
    readers = SqliteReads(engine, keep_bytes=0)

    async def main() -> tuple[int, int, list[bytes | None], list[bytes | None]]:
        body = readers.message(account.id, ids[0])
        assert body is not None
        nothing = readers._local.held.kept_bytes  # 0 keeps nothing
        readers.keep_bytes = 3 * (len(body) + 200)  # room for three answers, not six
        desk.take(account)  # a commit: start over under the new bound
        bodies = [readers.message(account.id, n) for n in ids]
        again = [readers.message(account.id, n) for n in ids]
        held = readers._local.held
        assert 0 < held.kept_bytes <= readers.keep_bytes
        return nothing, len(held.messages), bodies, again

    try:
        nothing, kept, bodies, again = run(main())
    finally:
        readers.close()
    assert nothing == 0
    assert kept == 3
    assert bodies == again and all(b"message number" in (body or b"") for body in bodies)


def test_outside_an_event_loop_nothing_is_kept(keeping_reads: SqliteReads, desk: Desk) -> None:
    account = desk.account()
    message_id = desk.take(account)

    def read_twice() -> bool:
        first = keeping_reads.message(account.id, message_id)
        return keeping_reads.message(account.id, message_id) is first

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(read_twice).result() is False
