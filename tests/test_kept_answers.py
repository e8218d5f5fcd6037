"""Single answers kept in memory on PostgreSQL, and dropped when the database says so.

The first part holds `KeptAnswers` to its rules (no database). The rest runs
on PostgreSQL: the triggers send a notice for exactly the writes that can
change a kept answer, and the app serves kept answers only while that holds.
To tell a kept answer from a read, a test changes a row with the triggers
disabled (no notice), on a connection of its own (not this process's
SQLAlchemy, whose commits drop kept answers at once): a kept answer is
still the old one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from answerdesk import clock
from answerdesk.api import kept_answers
from answerdesk.api.kept_answers import ALIVE_SECONDS, MESSAGE, TEXT_MESSAGE, KeptAnswers
from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.messages.lifecycle import change_status
from answerdesk.store import change_listener
from answerdesk.store.engine import write_transaction
from tests.factories import Desk
from tests.live import answers_kept
from tests.test_fastpath import Spy, sent_statements

# -- the rules ---------------------------------------------------------------


def _alive(keep_bytes: int = 10_000) -> KeptAnswers:
    kept = KeptAnswers(keep_bytes)
    kept.alive(time.monotonic())
    return kept


def test_an_answer_is_found_only_under_its_account_and_kind() -> None:
    kept = _alive()
    kept.keep(kept.ticket(), 1, MESSAGE, 7, b"seven")
    assert kept.get(1, MESSAGE, 7) == b"seven"
    assert kept.get(2, MESSAGE, 7) is None
    assert kept.get(1, TEXT_MESSAGE, 7) is None


def test_a_notice_drops_its_accounts_answers_only() -> None:
    kept = _alive()
    kept.keep(kept.ticket(), 1, MESSAGE, 7, b"one")
    kept.keep(kept.ticket(), 2, MESSAGE, 8, b"two")
    kept.heard("1")
    assert kept.get(1, MESSAGE, 7) is None
    assert kept.get(2, MESSAGE, 8) == b"two"
    kept.heard("*")
    assert kept.get(2, MESSAGE, 8) is None
    assert kept.kept_bytes == 0


def test_a_read_that_raced_a_notice_is_not_kept() -> None:
    kept = _alive()
    ticket = kept.ticket()
    kept.heard("9")  # any account: the read may have begun before its commit
    kept.keep(ticket, 1, MESSAGE, 7, b"old")
    assert kept.get(1, MESSAGE, 7) is None


def test_nothing_is_kept_or_answered_unless_the_listener_heard_the_database_lately(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = KeptAnswers(10_000)
    assert kept.ticket() is None
    kept.keep(kept.ticket(), 1, MESSAGE, 7, b"never")
    kept.alive(time.monotonic())
    assert kept.get(1, MESSAGE, 7) is None
    kept.keep(kept.ticket(), 1, MESSAGE, 7, b"kept")
    assert kept.get(1, MESSAGE, 7) == b"kept"
    later = time.monotonic() + ALIVE_SECONDS + 0.1
    monkeypatch.setattr(kept_answers.time, "monotonic", lambda: later)
    assert kept.get(1, MESSAGE, 7) is None  # no heartbeat answered lately


def test_a_lost_listener_drops_everything() -> None:
    kept = _alive()
    kept.keep(kept.ticket(), 1, MESSAGE, 7, b"kept")
    kept.lost()
    kept.alive(time.monotonic())
    assert kept.get(1, MESSAGE, 7) is None


def test_a_full_store_makes_room_by_dropping_what_was_kept_longest_ago() -> None:
    weight = 100 + kept_answers._KEPT_OVERHEAD
    kept = _alive(keep_bytes=2 * weight)
    for item in (1, 2, 3):
        kept.keep(kept.ticket(), item, MESSAGE, item, bytes(100))
    assert kept.get(1, MESSAGE, 1) is None
    assert kept.get(2, MESSAGE, 2) == kept.get(3, MESSAGE, 3) == bytes(100)
    assert kept.kept_bytes == kept.keep_bytes
    kept.keep(kept.ticket(), 3, TEXT_MESSAGE, 3, bytes(10_000))  # bigger than the bound
    assert kept.get(3, TEXT_MESSAGE, 3) is None
    assert kept.get(2, MESSAGE, 2) == bytes(100)
    kept.heard("3")
    assert kept.kept_bytes == weight
    kept.keep(kept.ticket(), 4, TEXT_MESSAGE, 4, bytes(100))
    kept.keep(kept.ticket(), 5, MESSAGE, 5, bytes(100))
    assert kept.get(2, MESSAGE, 2) is None
    assert kept.get(4, TEXT_MESSAGE, 4) == kept.get(5, MESSAGE, 5) == bytes(100)


def test_this_processs_commit_of_a_change_drops_everything_at_once(engine: Any) -> None:
    kept_answers.note_local_writes()
    kept = _alive()
    kept.keep(kept.ticket(), 1, MESSAGE, 7, b"kept")
    with engine.begin() as connection:  # a read, and a write of another table: kept
        connection.execute(sa.text("SELECT count(*) FROM messages"))
        connection.execute(sa.text("UPDATE api_tokens SET last_used_at = NULL WHERE id < 0"))
    assert kept.get(1, MESSAGE, 7) == b"kept"
    with engine.connect() as connection:  # rolled back: nothing changed
        connection.execute(sa.text("UPDATE messages SET status = status WHERE id < 0"))
        connection.rollback()
    assert kept.get(1, MESSAGE, 7) == b"kept"
    ticket = kept.ticket()
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE messages SET status = status WHERE id < 0"))
    assert kept.get(1, MESSAGE, 7) is None
    kept.keep(ticket, 1, MESSAGE, 7, b"read before that commit")
    assert kept.get(1, MESSAGE, 7) is None


# -- on PostgreSQL -------------------------------------------------------------


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's kept answers follow its WAL index (tests/test_hot_readers.py)")
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
def other(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection of another 'process': its commits reach the app only as notices."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def listening(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"LISTEN {change_listener.CHANNEL}")
        yield connection


def _notices(listening: psycopg.Connection[Any]) -> set[str]:
    """The payloads notified since the last call (after a moment for them to arrive)."""
    listening.execute("SELECT 1")
    found: set[str] = set()
    for notice in listening.notifies(timeout=0.3):
        found.add(notice.payload)
    return found


def test_the_triggers_notify_exactly_the_writes_that_change_an_answer(
    listening: psycopg.Connection[Any], other: psycopg.Connection[Any], desk: Any, engine: Any
) -> None:
    account = desk.account()
    _notices(listening)
    message_id = desk.take(account, "A new message")
    assert _notices(listening) == set()  # a new message: nothing kept can be it
    other.execute("UPDATE messages SET status = 'read' WHERE id = %s", (message_id,))
    assert _notices(listening) == {str(account.id)}
    other.execute("UPDATE accounts SET name = 'Renamed' WHERE id = %s", (account.id,))
    assert _notices(listening) == set()  # not part of any answer
    other.execute("UPDATE accounts SET timezone = 'Europe/Paris' WHERE id = %s", (account.id,))
    assert _notices(listening) == {str(account.id)}
    other.execute("UPDATE accounts SET number = '77777' WHERE id = %s", (account.id,))
    assert _notices(listening) == {str(account.id)}
    other.execute("UPDATE messages SET wire = NULL WHERE id = %s", (message_id,))
    _notices(listening)
    other.execute("UPDATE messages SET status = 'archived' WHERE id = %s", (message_id,))
    assert _notices(listening) == set()  # it had no render: it was never kept
    rendered = desk.take(account, "Another message")
    _notices(listening)
    other.execute("DELETE FROM outbox WHERE message_id = %s", (rendered,))  # (its references)
    other.execute("DELETE FROM messages WHERE id = %s", (rendered,))
    assert _notices(listening) == {str(account.id)}


def test_text_messages_and_deals_notify(
    listening: psycopg.Connection[Any], other: psycopg.Connection[Any], hot_world: Any
) -> None:
    account, _login, _message_id, text_id = hot_world
    _notices(listening)
    other.execute("UPDATE text_messages SET content = 'x' WHERE id = %s", (text_id,))
    assert _notices(listening) == {str(account.id)}
    other.execute("UPDATE deals SET name = name")
    other.execute("DELETE FROM text_messages WHERE id = %s", (text_id,))
    assert _notices(listening) == {str(account.id)}
    other.execute("TRUNCATE deals")
    assert _notices(listening) == {"*"}


@pytest.fixture
def kept_app(postgres_url: str, engine: Any) -> Iterator[tuple[Any, TestClient]]:
    settings = Settings(database_url=postgres_url, api_rate_limit=0)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers_kept(app)
        yield app, client


def _status_of(client: TestClient, login: Any, message_id: int) -> str:
    answer = client.get(f"/v1/messages/{message_id}", headers=login.headers)
    assert answer.status_code == 200, answer.text
    status: str = orjson.loads(answer.content)["status"]
    return status


#: A message's status, in its row and its stored render, as another program might write it.
_SET_STATUS = (
    "UPDATE messages SET status = CAST(%(status)s AS text),"
    " wire = regexp_replace(wire, '\"status\":\"[a-z]+\"', '\"status\":\"' || CAST(%(status)s AS text) || '\"')"
    " WHERE id = %(id)s"
)


def _set_status(
    other: psycopg.Connection[Any], message_id: int, status: str, *, quietly: bool = False
) -> None:
    """Change a message's status; `quietly`: with no notice (its table's triggers off meanwhile)."""
    with other.transaction():
        if quietly:
            other.execute("ALTER TABLE messages DISABLE TRIGGER USER")
        other.execute(_SET_STATUS, {"status": status, "id": message_id})
        if quietly:
            other.execute("ALTER TABLE messages ENABLE TRIGGER USER")


def test_an_answer_is_kept_until_another_process_changes_it(
    kept_app: Any, other: psycopg.Connection[Any], hot_world: Any
) -> None:
    _app, client = kept_app
    _account, login, message_id, _text = hot_world
    assert _status_of(client, login, message_id) == "new"  # verifies the token
    assert _status_of(client, login, message_id) == "new"  # read and kept
    _set_status(other, message_id, "read", quietly=True)
    assert _status_of(client, login, message_id) == "new"  # kept: no notice came
    _set_status(other, message_id, "archived")  # with a notice: seen once it arrives
    deadline = time.monotonic() + 5
    while _status_of(client, login, message_id) != "archived":
        assert time.monotonic() < deadline, "the notice never dropped the kept answer"
        time.sleep(0.005)
    assert _status_of(client, login, message_id) == "archived"


def test_this_processs_own_change_is_answered_at_once(
    kept_app: Any, other: psycopg.Connection[Any], hot_world: Any, engine: Any
) -> None:
    _app, client = kept_app
    account, login, message_id, _text = hot_world
    assert _status_of(client, login, message_id) == "new"
    assert _status_of(client, login, message_id) == "new"  # kept
    other.execute("ALTER TABLE messages DISABLE TRIGGER USER")  # no notice can help
    try:
        with write_transaction(engine) as connection:
            change_status(connection, account_id=account.id, message_id=message_id, status="read")
        assert _status_of(client, login, message_id) == "read"
    finally:
        other.execute("ALTER TABLE messages ENABLE TRIGGER USER")


def test_a_lost_listener_stops_kept_answers_until_it_listens_again(
    kept_app: Any,
    other: psycopg.Connection[Any],
    hot_world: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, client = kept_app
    _account, login, message_id, _text = hot_world
    monkeypatch.setattr(change_listener, "CONNECT_RETRY_SECONDS", 0.2)
    assert _status_of(client, login, message_id) == "new"
    assert _status_of(client, login, message_id) == "new"  # kept
    ended = other.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = %s AND datname = current_database()",
        (change_listener.APPLICATION_NAME,),
    ).fetchall()
    assert ended == [(True,)]
    deadline = time.monotonic() + 5
    while app.hot_reads._postgres.keeping():
        assert time.monotonic() < deadline, "the lost connection went unnoticed"
        time.sleep(0.005)
    _set_status(other, message_id, "read", quietly=True)
    assert _status_of(client, login, message_id) == "read"  # read, not kept
    answers_kept(app)  # listening again
    _set_status(other, message_id, "archived", quietly=True)
    assert _status_of(client, login, message_id) == "archived"  # nothing from before survived
    _set_status(other, message_id, "read", quietly=True)
    assert _status_of(client, login, message_id) == "archived"  # kept again


def test_kept_answers_still_count_against_the_tokens_shared_limit(
    postgres_url: str, engine: Any, hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    settings = Settings(database_url=postgres_url, api_rate_limit=3, api_rate_window_seconds=60)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers_kept(app)
        codes = [
            client.get(f"/v1/messages/{message_id}", headers=login.headers).status_code
            for _ in range(4)
        ]
    assert codes == [200, 200, 200, 429]


def test_nothing_is_kept_with_no_bytes_for_it(
    postgres_url: str, engine: Any, other: psycopg.Connection[Any], hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    settings = Settings(database_url=postgres_url, api_rate_limit=0, answer_cache_mb=0)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert _status_of(client, login, message_id) == "new"
        assert _status_of(client, login, message_id) == "new"
        _set_status(other, message_id, "read", quietly=True)
        assert _status_of(client, login, message_id) == "read"
        listeners = other.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()",
            (change_listener.APPLICATION_NAME,),
        ).fetchone()
    assert listeners == (0,)


def _range_path() -> str:
    today = clock.utcnow().date()
    return (
        f"/v1/messages?from_date={today - timedelta(days=1):%m-%d-%Y}"
        f"&to_date={today + timedelta(days=1):%m-%d-%Y}"
    )


def _statuses(client: TestClient, login: Any) -> dict[int, str]:
    answer = client.get(_range_path(), headers=login.headers)
    assert answer.status_code == 200, answer.text
    return {item["message_id"]: item["status"] for item in orjson.loads(answer.content)}


@pytest.fixture
def statements(kept_app: Any) -> list[str]:
    """The fast path's statements on PostgreSQL, as they are sent."""
    return sent_statements(kept_app[0].hot_reads._postgres)


def test_a_range_is_made_of_kept_answers_and_asks_the_database_only_for_its_ids(
    kept_app: Any, other: psycopg.Connection[Any], hot_world: Any, desk: Desk,
    statements: list[str],
) -> None:  # fmt: skip
    app, client = kept_app
    account, login, message_id, _text = hot_world
    second = desk.take(account, "Another call", phone="(617) 555-0199")
    spy = Spy(app.hot_reads)
    assert _statuses(client, login) == {message_id: "new", second: "new"}  # the full path
    first = client.get(_range_path(), headers=login.headers).content  # read, and kept
    assert spy.answered == 1
    statements.clear()
    assert client.get(_range_path(), headers=login.headers).content == first
    assert spy.answered == 2
    assert len(statements) == 1 and "textsend" not in statements[0]  # its ids, nothing more
    _set_status(other, message_id, "read", quietly=True)
    assert _statuses(client, login)[message_id] == "new"  # kept: no notice came
    _set_status(other, second, "archived")  # with a notice: seen once it arrives
    deadline = time.monotonic() + 5
    while _statuses(client, login)[second] != "archived":
        assert time.monotonic() < deadline, "the notice never dropped the kept answer"
        time.sleep(0.005)
    third = desk.take(account, "A new caller", phone="(617) 555-0142")  # no notice: a new id
    assert _statuses(client, login) == {message_id: "read", second: "archived", third: "new"}


def test_a_kept_range_with_a_render_in_another_zone_goes_the_full_way(
    kept_app: Any, other: psycopg.Connection[Any], hot_world: Any, desk: Desk
) -> None:
    app, client = kept_app
    account, login, message_id, _text = hot_world
    spy = Spy(app.hot_reads)
    first = client.get(_range_path(), headers=login.headers)
    assert client.get(_range_path(), headers=login.headers).content == first.content
    assert spy.answered == 1
    later = desk.take(account, "Taken while renders were stale", phone="(617) 555-0177")
    other.execute("UPDATE messages SET wire_zone = 'Asia/Tokyo' WHERE id = %s", (later,))
    answer = client.get(_range_path(), headers=login.headers)
    assert answer.status_code == 200
    assert spy.answered == 1  # the new message's render is stale: rendered by the full path
    assert [item["message_id"] for item in orjson.loads(answer.content)] == [message_id, later]


def test_a_kept_range_follows_its_accounts_new_zone(
    kept_app: Any, other: psycopg.Connection[Any], hot_world: Any
) -> None:
    """The account's zone is kept with its answers (the day bounds are computed in it)
    and dropped with them when the account changes."""
    app, client = kept_app
    account, login, _message_id, _text = hot_world
    spy = Spy(app.hot_reads)
    client.get(_range_path(), headers=login.headers)
    client.get(_range_path(), headers=login.headers)
    assert spy.answered == 1  # zone and renders kept
    other.execute("UPDATE accounts SET timezone = 'Asia/Tokyo' WHERE id = %s", (account.id,))
    deadline = time.monotonic() + 5
    (kept,) = app.hot_reads._postgres._kept.values()  # the server loop's
    while kept.zone(account.id) is not None:
        assert time.monotonic() < deadline, "the notice never dropped the kept zone"
        time.sleep(0.005)
    answer = client.get(_range_path(), headers=login.headers)
    assert answer.status_code == 200
    assert spy.answered == 1  # renders made in the old zone: the full path renders them anew


def test_a_range_is_read_whole_while_answers_cannot_be_kept(
    postgres_url: str, engine: Any, hot_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a heartbeat heard (a pooler in transaction mode), nothing read could be kept:
    a range is one statement for its rows, not its ids and then every render by id."""
    monkeypatch.setattr(kept_answers, "ALIVE_SECONDS", -1.0)  # never heard in time
    _account, login, _message_id, _text = hot_world
    app = create_app(Settings(database_url=postgres_url, api_rate_limit=0), engine=engine)
    sent = sent_statements(app.hot_reads._postgres)
    spy = Spy(app.hot_reads)
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get(_range_path(), headers=login.headers)
        sent.clear()
        again = client.get(_range_path(), headers=login.headers)
    assert again.content == first.content and spy.answered == 1
    assert len(sent) == 2 and "textsend" in sent[1]  # its account's zone, then its rows whole
