"""The stored wire JSON (issue 7) never changes an answer: it equals a fresh render.

Lists and single messages are served from `messages.wire` when it was
rendered in the account's current zone, and rendered from the columns when
it is missing or stale; these tests compare both with `render_message`.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from answerdesk.accounts import get_account, update_account
from answerdesk.messages import change_status, get_message, render_message
from answerdesk.messages.prerender import refresh_account
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import messages
from tests.factories import Desk

FIELDS = [("Reason for Call?", False), ("Best time", False), ("E-mail", False)]


def fresh(engine, account_id: int, message_id: int) -> dict:
    """The message as rendered from its columns right now."""
    with read_transaction(engine) as connection:
        account = get_account(connection, account_id=account_id)
        row = get_message(connection, account_id=account_id, message_id=message_id)
    return render_message(row, account_number=account.number, zone=account.zone)


def stored(engine, message_id: int) -> tuple[str | None, str | None]:
    with read_transaction(engine) as connection:
        row = connection.execute(
            sa.select(messages.c.wire, messages.c.wire_zone).where(messages.c.id == message_id)
        ).one()
    return row.wire, row.wire_zone


def test_taken_message_is_served_from_its_stored_json(http, desk: Desk, engine) -> None:
    account = desk.account(fields=FIELDS)
    login = desk.client_of(account)
    message_id = desk.take(
        account,
        content='Leak "under" the sink — ünïcode',
        first_name="Zoë",
        phone="(617) 555-0123",
        fields={"Reason for Call?": "Repair", "E-mail": "a@b.example"},
        created_at="2024-03-10T01:30:00.123456",
    )
    wire, zone = stored(engine, message_id)
    assert wire is not None and zone == "America/New_York"
    expected = fresh(engine, account.id, message_id)
    assert http.get("/v1/messages", headers=login.headers).json() == [expected]
    one = http.get(f"/v2/messages/{message_id}", headers=login.headers)
    assert list(one.json().items()) == list(expected.items())  # same keys, same order
    paged = http.get("/v1/messages?limit=5", headers=login.headers).json()
    assert paged == [expected]


def test_status_change_refreshes_stored_json(http, desk: Desk, engine) -> None:
    account = desk.account()
    login = desk.client_of(account)
    message_id = desk.take(account)
    with write_transaction(engine) as connection:
        change_status(
            connection,
            account_id=account.id,
            message_id=message_id,
            status="delivered",
            delivered_to="carla@acme.example",
        )
    shown = http.get(f"/v1/messages/{message_id}", headers=login.headers).json()
    assert shown["status"] == "delivered"
    assert shown["delivered_to"] == "carla@acme.example"
    assert shown == fresh(engine, account.id, message_id)
    assert http.get("/v1/messages", headers=login.headers).json() == [shown]


def test_zone_change_renders_then_refresh_stores_again(http, desk: Desk, engine) -> None:
    account = desk.account(timezone="America/New_York")
    login = desk.client_of(account)
    taken = [desk.take(account, created_at=f"2024-07-0{day}T12:00:00Z") for day in (1, 2, 3)]
    with write_transaction(engine) as connection:
        update_account(connection, account_id=account.id, timezone="Asia/Kolkata")
    expected = [fresh(engine, account.id, message_id) for message_id in taken]
    assert expected[0]["raw_created_at"] == "2024-07-01T17:30:00.000000+05:30"
    assert http.get("/v1/messages", headers=login.headers).json() == expected
    assert http.get(f"/v1/messages/{taken[1]}", headers=login.headers).json() == expected[1]
    with write_transaction(engine) as connection:
        assert refresh_account(connection, account_id=account.id, limit=2) == 2
    # Two stored in the new zone, one still rendered: the answer is the same.
    assert http.get("/v1/messages", headers=login.headers).json() == expected
    with write_transaction(engine) as connection:
        assert refresh_account(connection, account_id=account.id) == 1
    assert stored(engine, taken[2])[1] == "Asia/Kolkata"
    assert http.get("/v1/messages", headers=login.headers).json() == expected


def test_rows_without_stored_json_are_rendered(http, desk: Desk, engine) -> None:
    """Messages written before migration 0004 have no stored JSON."""
    account = desk.account()
    login = desk.client_of(account)
    taken = [desk.take(account, content=f"Message {n}") for n in range(5)]
    with write_transaction(engine) as connection:
        connection.execute(
            messages.update().where(messages.c.id.in_(taken[1::2])).values(wire=None)
        )
    expected = [fresh(engine, account.id, message_id) for message_id in taken]
    assert http.get("/v1/messages", headers=login.headers).json() == expected
    assert http.get(f"/v1/messages/{taken[1]}", headers=login.headers).json() == expected[1]


def test_postgres_renders_are_read_as_utf8_whatever_the_environment_says(
    database_url: str, desk: Desk, monkeypatch
) -> None:
    """Renders are read as the client encoding's bytes (`textsend`): it must be UTF-8."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite stores and returns UTF-8")
    from answerdesk.messages.listing import iter_wire_chunks
    from answerdesk.messages.reading import DayRange, ListQuery
    from answerdesk.store.engine import create_engine_for_url

    account = desk.account()
    desk.take(account, "Rückruf bitte 🙂 — 日本語")
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    latin = create_engine_for_url(database_url)
    try:
        with latin.connect() as connection:
            assert connection.exec_driver_sql("SHOW client_encoding").scalar() == "UTF8"
        query = ListQuery(account_id=account.id, days=DayRange(None, None))
        chunks = list(
            iter_wire_chunks(
                latin, query, number=account.number, timezone=account.timezone, chunk_size=10
            )
        )
    finally:
        latin.dispose()
    assert "Rückruf bitte 🙂 — 日本語" in (b"[" + chunks[0].body + b"]").decode()
