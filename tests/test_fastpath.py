"""The fast path for single-item reads answers exactly as the full application would.

Each answer is compared byte for byte with the same request through the full
app (the fast path turned off), and every case where the fast path must step
aside is checked to come out as the full path's answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from answerdesk import clock, ratelimit_shared
from answerdesk.api import auth, fastpath
from answerdesk.api.auth import REVERIFY_MARGIN, TOKEN_CACHE_SECONDS
from answerdesk.api.fast_credentials import SEEN_SECONDS
from answerdesk.api.fastpath import HotReads
from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.messages.lifecycle import change_status
from answerdesk.server_protocol import UVICORN_OPTIONS
from answerdesk.store.engine import create_engine_for_url, write_transaction
from answerdesk.store.tables import api_tokens, messages
from answerdesk.tokens import LAST_USED_RESOLUTION
from tests.factories import ClientLogin, Desk
from tests.live import answers_kept, run_async, serve


class Spy:
    """Counts the requests the fast path answered itself."""

    def __init__(self, hot: HotReads) -> None:
        self.answered = 0
        self._answer = hot.answer

        async def answer(scope: Any, send: Any) -> bool:
            done = await self._answer(scope, send)
            self.answered += done
            return done

        hot.answer = answer  # type: ignore[method-assign]


def sent_statements(reads: Any) -> list[str]:
    """The statements the fast path's PostgreSQL reads (`PostgresReads`) send, as they go."""
    sent: list[str] = []
    fetch = reads.fetch

    async def counted(sql: str, params: Any) -> list[Any]:
        sent.append(sql)
        return await fetch(sql, params)

    reads.fetch = counted
    return sent


@pytest.fixture
def spy(app: Any) -> Spy:
    assert app.hot_reads is not None
    return Spy(app.hot_reads)


@pytest.fixture
def full(settings: Settings, engine: Any) -> Iterator[TestClient]:
    """The same app with the fast path turned off."""
    slow = create_app(settings, engine=engine)
    slow.hot_reads = None
    with TestClient(slow, raise_server_exceptions=False) as client:
        yield client


#: The same request id on both sides, so error envelopes' `logref` match too.
RID = {"X-Request-Id": "test-request-0001"}


def _same(fast: Any, slow: Any) -> None:
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    strip = {"x-request-id", "date"}
    assert {k: v for k, v in fast.headers.items() if k not in strip} == {
        k: v for k, v in slow.headers.items() if k not in strip
    }


@pytest.mark.parametrize("prefix", ["/v1/messages/", "/v2/messages/"])
def test_message_is_answered_fast_and_identically(
    http: TestClient, full: TestClient, spy: Spy, hot_world: Any, prefix: str
) -> None:
    _account, login, message_id, _text = hot_world
    http.get(f"{prefix}{message_id}", headers=login.headers)  # verifies the token
    before = spy.answered
    fast = http.get(f"{prefix}{message_id}", headers=login.headers)
    assert spy.answered == before + 1
    _same(fast, full.get(f"{prefix}{message_id}", headers=login.headers))
    assert fast.json()["message_id"] == message_id


def test_text_message_is_answered_fast_and_identically(
    http: TestClient, full: TestClient, spy: Spy, hot_world: Any
) -> None:
    _account, login, _message, text_id = hot_world
    http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    before = spy.answered
    fast = http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    assert spy.answered == before + 1
    _same(fast, full.get(f"/v2/text_messages/{text_id}", headers=login.bearer))
    assert fast.json()["data"]["id"] == text_id


def test_request_id_is_echoed_or_made(http: TestClient, spy: Spy, hot_world: Any) -> None:
    _account, login, message_id, _text = hot_world
    http.get(f"/v1/messages/{message_id}", headers=login.headers)
    given = http.get(
        f"/v1/messages/{message_id}", headers={**login.headers, "X-Request-Id": "lb-1234abcd"}
    )
    made = [http.get(f"/v1/messages/{message_id}", headers=login.headers) for _ in range(3)]
    assert spy.answered == 4
    assert given.headers["x-request-id"] == "lb-1234abcd"
    ids = {response.headers["x-request-id"] for response in made}
    assert len(ids) == 3
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in ids)


@pytest.mark.parametrize(
    "case",
    ["other-account", "unknown-id", "wrong-email", "bearer-on-messages", "query-token", "head"],
)
def test_fall_through_cases_answer_as_the_full_path(
    http: TestClient, full: TestClient, spy: Spy, hot_world: Any, desk: Desk, case: str
) -> None:
    _account, login, message_id, _text = hot_world
    other = desk.account()
    other_id = desk.take(other, "Not yours")
    http.get(f"/v1/messages/{message_id}", headers=login.headers)
    method, path, headers = "GET", f"/v1/messages/{message_id}", login.headers
    if case == "other-account":
        path = f"/v1/messages/{other_id}"
    elif case == "unknown-id":
        path = "/v1/messages/999999999"
    elif case == "wrong-email":
        headers = {**login.headers, "X-API-EMAIL": "someone@example.com"}
    elif case == "bearer-on-messages":
        headers = login.bearer
    elif case == "query-token":
        path += f"?token={login.token}"
    elif case == "head":
        method = "HEAD"
    before = spy.answered
    fast = http.request(method, path, headers={**headers, **RID})
    assert spy.answered == before
    _same(fast, full.request(method, path, headers={**headers, **RID}))
    if case != "head":
        assert fast.status_code == 404


def test_sell_ignores_messages_headers(
    http: TestClient, full: TestClient, spy: Spy, hot_world: Any
) -> None:
    _account, login, _message, text_id = hot_world
    http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    fast = http.get(f"/v2/text_messages/{text_id}", headers={**login.headers, **RID})
    assert fast.status_code == 401
    assert spy.answered == 0
    _same(fast, full.get(f"/v2/text_messages/{text_id}", headers={**login.headers, **RID}))


def test_stale_render_is_rendered_by_the_full_path(
    http: TestClient, full: TestClient, spy: Spy, hot_world: Any, engine: Any
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    expected = http.get(path, headers=login.headers).content
    with write_transaction(engine) as connection:
        connection.execute(
            messages.update().where(messages.c.id == message_id).values(wire_zone="UTC")
        )
    before = spy.answered
    again = http.get(path, headers=login.headers)
    assert spy.answered == before
    assert again.content == expected


def test_a_change_committed_elsewhere_is_answered_at_once(
    http: TestClient, full: TestClient, spy: Spy, hot_world: Any, engine: Any
) -> None:
    """Answers kept until the next commit (SQLite) are never older than a read."""
    account, login, message_id, text_id = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)  # verifies the token
    http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    assert http.get(path, headers=login.headers).json()["status"] == "new"
    with write_transaction(engine) as connection:  # as an agent in another process would
        change_status(connection, account_id=account.id, message_id=message_id, status="read")
        connection.execute(
            sa.text("UPDATE text_messages SET content = 'changed' WHERE id = :id"), {"id": text_id}
        )
    before = spy.answered
    fast = http.get(path, headers=login.headers)
    text = http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    assert spy.answered == before + 2
    assert fast.json()["status"] == "read"
    assert text.json()["data"]["content"] == "changed"
    _same(fast, full.get(path, headers=login.headers))


def test_revoked_token_is_refused_once_the_cache_lapses(
    http: TestClient, app: Any, spy: Spy, hot_world: Any, engine: Any
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    assert http.get(path, headers=login.headers).status_code == 200
    with write_transaction(engine) as connection:
        connection.execute(api_tokens.delete())
    app.state.token_cache._entries.clear()  # what 5 seconds would do
    assert http.get(path, headers=login.headers).status_code in (200, 404)
    app.hot_reads.callers.seen.clear()  # and what one second more would do
    assert http.get(path, headers=login.headers).status_code == 404


def test_expiring_token_stops_at_its_expiry(
    http: TestClient, spy: Spy, hot_world: Any, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, _login, message_id, _text = hot_world
    user = desk.user(role="client", account=account)
    token = desk.token(user, expires_days=1)
    headers = {"X-API-EMAIL": user.email, "X-API-TOKEN": token}
    path = f"/v1/messages/{message_id}"
    assert http.get(path, headers=headers).status_code == 200
    assert http.get(path, headers=headers).status_code == 200
    assert spy.answered == 1
    later = clock.utcnow() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert http.get(path, headers=headers).status_code == 404


def test_last_used_is_still_written(
    http: TestClient, spy: Spy, hot_world: Any, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)
    http.get(path, headers=login.headers)
    later = clock.utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    answered = spy.answered
    assert http.get(path, headers=login.headers).status_code == 200
    assert spy.answered == answered  # the full path touched the token
    with engine.connect() as connection:
        used = connection.execute(sa.select(api_tokens.c.last_used_at)).scalars().all()
    assert any(value is not None and value >= later - timedelta(seconds=1) for value in used)


@pytest.mark.parametrize("before_stale", [2.5, 1.5, 0.5])
def test_no_gap_before_last_used_goes_stale(
    http: TestClient,
    spy: Spy,
    hot_world: Any,
    monkeypatch: pytest.MonkeyPatch,
    before_stale: float,
) -> None:
    """Whenever the fast path steps aside for `last_used_at`, the full path writes it.

    Found by profiling (issue 7): the fast path stopped 2 s before the full
    path would write `last_used_at`, so for 2 s of every minute every request
    of a busy token took the slow way.
    """
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)  # verifies and touches the token
    at = clock.utcnow() + LAST_USED_RESOLUTION - timedelta(seconds=before_stale)
    monkeypatch.setattr(clock, "utcnow", lambda: at)
    for _ in range(2):
        assert http.get(path, headers=login.headers).status_code == 200
    answered = spy.answered
    for _ in range(3):
        assert http.get(path, headers=login.headers).status_code == 200
    assert spy.answered == answered + 3


def test_rate_limit_counts_each_request_once(
    settings: Settings, engine: Any, hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    limited = create_app(
        dataclasses.replace(settings, api_rate_limit=5, api_rate_window_seconds=3600),
        engine=engine,
    )
    assert limited.hot_reads is not None
    spy = Spy(limited.hot_reads)
    with TestClient(limited, raise_server_exceptions=False) as client:
        codes = [
            client.get(f"/v1/messages/{message_id}", headers=login.headers).status_code
            for _ in range(7)
        ]
        refused = client.get(f"/v1/messages/{message_id}", headers=login.headers)
    assert codes == [200] * 5 + [429] * 2
    assert spy.answered == 4  # the first went the full way to verify the token
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["success"] is False


def test_metrics_count_fast_answers_under_the_route_name(
    http: TestClient, spy: Spy, hot_world: Any
) -> None:
    _account, login, message_id, text_id = hot_world
    for _ in range(3):
        http.get(f"/v1/messages/{message_id}", headers=login.headers)
        http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    assert spy.answered == 5  # one token: verified once, by the first request
    text = http.get("/metrics").text
    assert (
        'answerdesk_http_requests_total{method="GET",route="show_message",status="200"} 3.0' in text
    )
    assert (
        'answerdesk_http_requests_total{method="GET",route="show_text_message",status="200"} 3.0'
        in text
    )
    assert (
        'answerdesk_http_request_duration_seconds_count{method="GET",route="show_message"} 3.0'
        in text
    )


def test_a_broken_connection_falls_through(
    http: TestClient, app: Any, spy: Spy, hot_world: Any, desk: Desk
) -> None:
    account, login, message_id, _text = hot_world
    http.get(f"/v1/messages/{message_id}", headers=login.headers)
    assert http.get(f"/v1/messages/{message_id}", headers=login.headers).status_code == 200
    # Another message: one read already may be kept (SQLite) and need no connection.
    path = f"/v1/messages/{desk.take(account)}"
    _break_connections(app.hot_reads)
    assert http.get(path, headers=login.headers).status_code == 200  # the full path
    assert http.get(path, headers=login.headers).status_code == 200  # a new connection
    assert spy.answered == 2


def test_access_log_line_for_fast_answers(
    settings: Settings, engine: Any, hot_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _account, login, message_id, _text = hot_world
    logged = create_app(dataclasses.replace(settings, access_log=True), engine=engine)
    with TestClient(logged) as client, caplog.at_level("INFO", logger="answerdesk.requests"):
        client.get(f"/v1/messages/{message_id}", headers=login.headers)
        client.get(f"/v1/messages/{message_id}", headers=login.headers)
    lines = [r for r in caplog.records if r.name == "answerdesk.requests"]
    assert len(lines) == 2
    assert {r.status for r in lines} == {200}  # type: ignore[attr-defined]
    assert lines[1].path == f"/v1/messages/{message_id}"  # type: ignore[attr-defined]
    assert login.token not in caplog.text


def _break_connections(hot: HotReads) -> None:
    """Close the fast path's connections under it (those of the client's event loop)."""
    if hot._sqlite is not None:
        for held in hot._sqlite._opened:
            held.connection.close()
    if hot._postgres is not None:
        for loop_connections in hot._postgres.connections._loops.values():
            for pg in loop_connections.opened:
                pg.terminate()


def _age_cache_entries(app: Any, seconds: float) -> None:
    """Make every verified token look `seconds` old (and forget remembered answers)."""
    cache = app.state.token_cache
    for digest, (since, principal) in list(cache._entries.items()):
        cache._entries[digest] = (since - seconds, principal)
    app.hot_reads.callers.seen.clear()


def test_a_busy_token_is_verified_again_before_its_cache_entry_lapses(
    http: TestClient, app: Any, spy: Spy, hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)
    assert http.get(path, headers=login.headers).status_code == 200
    assert spy.answered == 1
    _age_cache_entries(app, TOKEN_CACHE_SECONDS - REVERIFY_MARGIN + 0.1)
    assert http.get(path, headers=login.headers).status_code == 200  # the full way, once
    assert spy.answered == 1
    assert http.get(path, headers=login.headers).status_code == 200
    assert spy.answered == 2  # fast again: the entry was renewed


def test_a_revoked_busy_token_is_refused_within_the_cache_bound(
    http: TestClient, app: Any, spy: Spy, hot_world: Any, engine: Any
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)
    assert http.get(path, headers=login.headers).status_code == 200
    with write_transaction(engine) as connection:
        connection.execute(api_tokens.delete())
    _age_cache_entries(app, TOKEN_CACHE_SECONDS - REVERIFY_MARGIN + 0.1)
    assert http.get(path, headers=login.headers).status_code == 404


def test_while_one_request_verifies_a_busy_token_again_the_others_stay_fast(
    http: TestClient, app: Any, spy: Spy, hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)
    _age_cache_entries(app, TOKEN_CACHE_SECONDS - REVERIFY_MARGIN + 0.1)
    digest = next(iter(app.state.token_cache._entries))
    # Another request is verifying it again right now (it claimed the work).
    app.hot_reads.callers.reverifying[digest] = time.monotonic() + 10
    before = spy.answered
    assert http.get(path, headers=login.headers).status_code == 200
    assert spy.answered == before + 1  # answered fast from the entry meanwhile
    # ...but never from an entry that would not outlive a remembered answer.
    _age_cache_entries(app, TOKEN_CACHE_SECONDS - SEEN_SECONDS + 0.1)
    assert http.get(path, headers=login.headers).status_code == 200
    assert spy.answered == before + 1


def test_a_token_found_revoked_on_verifying_again_is_dropped_at_once(
    http: TestClient, app: Any, spy: Spy, hot_world: Any, engine: Any
) -> None:
    _account, login, message_id, _text = hot_world
    path = f"/v1/messages/{message_id}"
    http.get(path, headers=login.headers)
    with write_transaction(engine) as connection:
        connection.execute(api_tokens.delete())
    _age_cache_entries(app, TOKEN_CACHE_SECONDS - REVERIFY_MARGIN + 0.1)
    assert http.get(path, headers=login.headers).status_code == 404  # the claimant
    assert app.state.token_cache._entries == {}
    assert http.get(path, headers=login.headers).status_code == 404  # and everyone after it


def test_remembered_answers_live_inside_the_cache_margin() -> None:
    assert SEEN_SECONDS < REVERIFY_MARGIN < TOKEN_CACHE_SECONDS


@pytest.fixture
def days(desk: Desk, hot_world: Any) -> tuple[Any, ClientLogin]:
    """Three messages on three days (account zone America/New_York), and the client."""
    account, login, _message, _text = hot_world
    for day, hour in (
        ("2024-03-09", "23:30:00"),
        ("2024-03-10", "03:30:00"),
        ("2024-03-11", "00:15:00"),
    ):
        desk.take(account, f"Taken {day}", created_at=f"{day}T{hour}")
    return account, login


@pytest.mark.parametrize(
    "query",
    [
        "from_date=03-10-2024",
        "to_date=03-10-2024",
        "from_date=03-10-2024&to_date=03-10-2024",
        "from_date=03-09-2024&to_date=03-11-2024",
        "from_date=01-01-2020&to_date=01-02-2020",
    ],
)
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_date_range_is_answered_fast_and_identically(
    http: TestClient, full: TestClient, spy: Spy, days: Any, query: str, version: str
) -> None:
    _account, login = days
    path = f"/{version}/messages?{query}"
    http.get(f"/{version}/messages?limit=1", headers=login.headers)  # verifies the token
    fast = http.get(path, headers=login.headers)
    assert spy.answered == 1
    _same(fast, full.get(path, headers=login.headers))
    assert isinstance(fast.json(), list)


@pytest.mark.parametrize(
    "query",
    [
        "from_date=02-29-2023",
        "from_date=03-11-2024&to_date=03-10-2024",
        "from_date=03-10-2024&from_date=03-11-2024",
        "from_date=03-10-2024&limit=1",
        "from_date=03-10-2024&after_id=0",
        "from_date=03-10-2024&token=x",
        "from_date=03-10-2024&other=1",
        "from_date=",
    ],
)
def test_other_list_queries_go_the_full_way(
    http: TestClient, full: TestClient, spy: Spy, days: Any, query: str
) -> None:
    _account, login = days
    http.get("/v1/messages?limit=1", headers=login.headers)
    path = f"/v1/messages?{query}"
    fast = http.get(path, headers={**login.headers, **RID})
    assert spy.answered == 0
    _same(fast, full.get(path, headers={**login.headers, **RID}))


def test_a_long_range_streams_through_the_full_path(
    settings: Settings, engine: Any, days: Any
) -> None:
    _account, login = days
    short = dataclasses.replace(settings, stream_chunk_size=1)  # fast lists: 2 rows at most
    app = create_app(short, engine=engine)
    spy = Spy(app.hot_reads)
    slow = create_app(short, engine=engine)
    slow.hot_reads = None
    with TestClient(app) as client, TestClient(slow) as reference:
        client.get("/v1/messages?limit=1", headers=login.headers)
        two = "/v1/messages?from_date=03-10-2024&to_date=03-11-2024"
        three = "/v1/messages?from_date=03-09-2024&to_date=03-11-2024"
        assert client.get(two, headers=login.headers).content == (
            reference.get(two, headers=login.headers).content
        )
        assert spy.answered == 1
        streamed = client.get(three, headers=login.headers)
        assert spy.answered == 1
        assert "content-length" not in streamed.headers  # the full path's stream
        assert len(streamed.json()) == 3


def test_a_stale_render_in_a_range_goes_the_full_way(
    http: TestClient, full: TestClient, spy: Spy, days: Any, engine: Any
) -> None:
    _account, login = days
    path = "/v1/messages?from_date=03-09-2024&to_date=03-11-2024"
    http.get("/v1/messages?limit=1", headers=login.headers)
    with write_transaction(engine) as connection:
        connection.execute(messages.update().values(wire_zone="UTC"))
    fast = http.get(path, headers=login.headers)
    assert spy.answered == 0
    _same(fast, full.get(path, headers=login.headers))


def test_an_address_over_its_failure_limit_is_refused_even_with_a_good_token(
    settings: Settings, engine: Any, hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    strict = dataclasses.replace(settings, auth_failure_limit=2, auth_failure_window_seconds=3600)
    app = create_app(strict, engine=engine)
    spy = Spy(app.hot_reads)
    path = f"/v1/messages/{message_id}"
    with TestClient(app) as client:
        assert client.get(path, headers=login.headers).status_code == 200
        assert client.get(path, headers=login.headers).status_code == 200
        assert spy.answered == 1
        bad = {**login.headers, "X-API-TOKEN": "adk_wrong"}
        assert [client.get(path, headers=bad).status_code for _ in range(3)] == [404, 404, 429]
        refused = client.get(path, headers=login.headers)
    assert refused.status_code == 429
    assert spy.answered == 1
    assert refused.json()["success"] is False


@pytest.mark.parametrize(("kind", "expected"), [("message", 1), ("text_message", 1), ("range", 3)])
def test_the_failure_check_costs_no_statement_of_its_own_on_postgres(
    settings: Settings, engine: Any, hot_world: Any, kind: str, expected: int
) -> None:
    """The address's shared failure counters come back with the read (a range's first:
    its account's zone, before its ids and the renders not kept yet)."""
    _account, login, message_id, text_id = hot_world
    if engine.dialect.name != "postgresql":
        pytest.skip("the failure counters are shared through PostgreSQL only")
    strict = dataclasses.replace(
        settings, auth_failure_limit=2, auth_failure_window_seconds=3600, api_rate_limit=0
    )  # the per-token limit, when on, is one more statement (it counts)
    app = create_app(strict, engine=engine)
    spy = Spy(app.hot_reads)
    statements = sent_statements(app.hot_reads._postgres)
    if kind in ("message", "range"):
        path, headers = f"/v1/messages/{message_id}", login.headers
        if kind == "range":
            today = clock.utcnow().date()
            span = f"{today - timedelta(days=1):%m-%d-%Y}"
            path = f"/v1/messages?from_date={span}&to_date={today + timedelta(days=1):%m-%d-%Y}"
        bad = {**headers, "X-API-TOKEN": "adk_wrong"}
    else:
        path, headers = f"/v2/text_messages/{text_id}", login.bearer
        bad = {"Authorization": "Bearer adk_wrong"}
    with TestClient(app) as client:
        first = client.get(path, headers=headers)
        statements.clear()
        fast = client.get(path, headers=headers)
        assert spy.answered == 1 and len(statements) == expected
        assert fast.content == first.content
        assert [client.get(path, headers=bad).status_code for _ in range(3)][-1] == 429
        refused = client.get(path, headers=headers)
    assert refused.status_code == 429
    assert spy.answered == 1


def test_forwarded_addresses_are_what_the_fast_path_limits(
    settings: Settings, engine: Any, hot_world: Any
) -> None:
    _account, login, message_id, _text = hot_world
    strict = dataclasses.replace(
        settings,
        auth_failure_limit=1,
        auth_failure_window_seconds=3600,
        trusted_proxies="testclient",
    )
    app = create_app(strict, engine=engine)
    spy = Spy(app.hot_reads)
    path = f"/v1/messages/{message_id}"
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    with TestClient(app) as client:
        client.get(path, headers=login.headers)
        client.get(path, headers={**login.headers, "X-API-TOKEN": "adk_wrong", **guesser})
        elsewhere = client.get(path, headers={**login.headers, "X-Forwarded-For": "198.51.100.1"})
        same = client.get(path, headers={**login.headers, **guesser})
    assert elsewhere.status_code == 200
    assert spy.answered == 1
    assert same.status_code == 429


def test_answer_cache_size_reaches_the_fast_path(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"ANSWERDESK_ANSWER_CACHE_MB": "3"}, database_url=f"sqlite:///{tmp_path / 'x.db'}"
    )
    engine = create_engine_for_url(settings.database_url)
    try:
        app: Any = create_app(settings, engine=engine)
        assert app.hot_reads is not None and app.hot_reads._sqlite is not None
        assert app.hot_reads._sqlite.keep_bytes == 3 * 1024 * 1024
    finally:
        engine.dispose()
    assert Settings.from_env({}).answer_cache_mb == 64


def _burst(app: Any, path: str, headers: dict[str, str], count: int) -> list[int]:
    """`count` requests at once, each on its own connection, to `app` served as `serve` does."""

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            answers = await asyncio.gather(
                *(client.get(path, headers=headers) for _ in range(count))
            )
        return [answer.status_code for answer in answers]

    with serve(app, **UVICORN_OPTIONS) as base:
        return run_async(burst)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The full path's token reads, each made to take 0.3 s so that requests overlap."""
    made: list[str] = []
    real = auth.verify_token

    def slow(connection: Any, token: str) -> Any:
        made.append(token)
        time.sleep(0.3)
        return real(connection, token)

    monkeypatch.setattr(auth, "verify_token", slow)
    return made


def test_requests_in_flight_for_a_token_not_yet_verified_wait_for_one_verification(
    app: Any, hot_world: Any, verifications: list[str]
) -> None:
    """A busy client whose cache entry lapsed sends one request the full way, not all of them.

    Each would otherwise verify the token on a thread of the full path's pool,
    all at once, fighting the event loop (docs/performance.md, "Tenth look").
    """
    _account, login, message_id, _text = hot_world
    codes = _burst(app, f"/v1/messages/{message_id}", login.headers, 8)
    assert codes == [200] * 8
    assert len(verifications) == 1
    assert app.hot_reads._verifying == {}


def test_requests_waiting_for_a_verification_that_fails_each_go_the_full_way(
    app: Any, hot_world: Any, verifications: list[str]
) -> None:
    _account, login, message_id, _text = hot_world
    wrong = {**login.headers, "X-API-TOKEN": login.headers["X-API-TOKEN"][:-2] + "xx"}
    assert _burst(app, f"/v1/messages/{message_id}", wrong, 4) == [404] * 4
    assert len(verifications) == 4  # each failure is the full path's, counted as such


def test_a_request_waits_for_another_verification_only_so_long(
    app: Any, hot_world: Any, verifications: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath, "VERIFY_WAIT_SECONDS", 0.05)
    _account, login, message_id, _text = hot_world
    assert _burst(app, f"/v1/messages/{message_id}", login.headers, 4) == [200] * 4
    assert len(verifications) == 4  # none waited the 0.3 s out


def test_a_busy_address_is_found_clear_again_in_the_background(
    settings: Settings, engine: Any, hot_world: Any
) -> None:
    """On PostgreSQL a kept answer takes the address's failed checks as read a moment ago
    (`recently_clear`); before that lapses one request has them read again, in the
    background, so requests in flight never all read them at once."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("the failed-check counters are in memory on SQLite")
    app = create_app(dataclasses.replace(settings, api_rate_limit=0), engine=engine)
    _account, login, message_id, _text = hot_world
    failures = app.state.auth_failure_limiter
    path = f"/v1/messages/{message_id}"
    with TestClient(app, raise_server_exceptions=False) as client:
        answers_kept(app)
        for _ in range(3):  # verified, kept, and the address found clear
            assert client.get(path, headers=login.headers).status_code == 200
        (key,) = failures._clear_until
        lapsing = time.monotonic() + ratelimit_shared.RENEW_SECONDS / 2
        failures._clear_until[key] = lapsing
        spy = Spy(app.hot_reads)
        assert client.get(path, headers=login.headers).status_code == 200
        assert spy.answered == 1  # answered from what was kept, not held up by the read
        deadline = time.monotonic() + 5
        while failures._clear_until.get(key, 0) <= lapsing:
            assert time.monotonic() < deadline, "the counters were never read again"
            time.sleep(0.005)
        assert failures.recently_clear(key)
