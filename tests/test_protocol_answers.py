"""Hot reads answered by `answerdesk serve`'s own HTTP protocol, over real sockets.

Where the fast path needs no waiting (a read on SQLite, an answer kept on
PostgreSQL) the protocol class writes the whole response itself instead of
starting an ASGI task (server_protocol.py, `HotReads.answer_now`). These
tests serve the app with the options `serve` uses and check, with raw bytes
on real connections, that such answers are exactly what uvicorn writes for
the ASGI answer, come in order among pipelined requests, leave keep-alive
alone, and step aside where uvicorn's task is needed. On PostgreSQL each
test first has its answers kept (`_kept`: the first fast read, the ASGI way,
keeps them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from answerdesk.api.auth import REVERIFY_MARGIN, TOKEN_CACHE_SECONDS
from answerdesk.app import AnswerdeskApp, create_app
from answerdesk.config import Settings
from answerdesk.server_protocol import UVICORN_OPTIONS
from tests.live import answers_kept, serve

Response = tuple[bytes, bytes]  # (head, body)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The suite's settings; on PostgreSQL without the per-token limit, whose count, kept
    there, is a round trip the protocol cannot wait for (the bench runs without it too)."""
    on_postgres = not database_url.startswith("sqlite")
    return Settings(
        database_url=database_url, stream_chunk_size=100, api_rate_limit=0 if on_postgres else 600
    )


class AnswerNowSpy:
    """Counts the requests the protocol answered itself."""

    def __init__(self, app: AnswerdeskApp) -> None:
        assert app.hot_reads is not None
        self.answered = 0
        answer_now = app.hot_reads.answer_now

        def counted(*args: Any) -> bool:
            done = answer_now(*args)
            self.answered += done
            return done

        app.hot_reads.answer_now = counted  # type: ignore[method-assign]


@contextmanager
def connected(app: Any, **options: Any) -> Iterator[socket.socket]:
    """A raw connection to `app` served with `answerdesk serve`'s options (and `options`)."""
    with serve(app, **{**UVICORN_OPTIONS, **options}) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            yield connection


def _request(path: str, headers: dict[str, str], *, version: str = "1.1") -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"GET {path} HTTP/{version}\r\nHost: test\r\n{lines}\r\n".encode()


def _responses(connection: socket.socket, count: int) -> list[Response]:
    """Read `count` responses (each with a content-length) off the connection, in order."""
    buffer = b""
    found: list[Response] = []
    while len(found) < count:
        while b"\r\n\r\n" not in buffer:
            buffer += _more(connection)
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = re.search(rb"\r\ncontent-length: (\d+)", head)
        assert length is not None, head
        while len(buffer) < int(length.group(1)):
            buffer += _more(connection)
        found.append((head, buffer[: int(length.group(1))]))
        buffer = buffer[int(length.group(1)) :]
    return found


def _more(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    if not chunk:
        raise EOFError("the server closed the connection")
    return chunk


def _closed(connection: socket.socket) -> bool:
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def _status(response: Response) -> int:
    return int(response[0].split(b" ", 2)[1])


def _header(response: Response, name: bytes) -> bytes | None:
    for line in response[0].split(b"\r\n")[1:]:
        key, _, value = line.partition(b": ")
        if key == name:
            return value
    return None


def _without_date(response: Response) -> Response:
    head = b"\r\n".join(
        line for line in response[0].split(b"\r\n") if not line.startswith(b"date: ")
    )
    return head, response[1]


def _answers_now(app: AnswerdeskApp) -> int:
    """1 where the protocol answers hot reads itself, 0 where it never does."""
    return int(app.answer_now() is not None)


def _kept(app: AnswerdeskApp, connection: socket.socket, requests: list[bytes]) -> None:
    """On PostgreSQL, have the answers to `requests` kept (tokens verified); SQLite needs none."""
    assert app.hot_reads is not None
    if app.hot_reads._postgres is None:
        return
    answers_kept(app)
    connection.sendall(b"".join(requests))
    assert all(_status(r) == 200 for r in _responses(connection, len(requests)))


def test_a_hot_read_is_written_by_the_protocol_exactly_as_uvicorn_writes_it(
    settings: Settings, engine: Any, hot_world: Any
) -> None:
    _account, login, message_id, text_id = hot_world
    rid = {"X-Request-Id": "protocol-test-0001"}
    asked = [
        _request(f"/v1/messages/{message_id}", {**login.headers, **rid}),
        _request(f"/v2/messages/{message_id}", {**login.headers, **rid}),
        _request(f"/v2/text_messages/{text_id}", {**login.bearer, **rid}),
    ]
    answers: dict[str, list[Response]] = {}
    for name, options in {"ours": {}, "uvicorn's": {"http": HttpToolsProtocol}}.items():
        app = create_app(settings, engine=engine)
        spy = AnswerNowSpy(app)
        with connected(app, **options) as connection:
            connection.sendall(asked[0] + asked[2])  # each token verified (the full path)
            _responses(connection, 2)
            if name == "ours":
                _kept(app, connection, asked)
            before = spy.answered
            connection.sendall(b"".join(asked))
            answers[name] = _responses(connection, len(asked))
        expected = _answers_now(app) * len(asked) if name == "ours" else 0
        assert spy.answered - before == expected, name
    for ours, theirs in zip(answers["ours"], answers["uvicorn's"], strict=True):
        assert _status(ours) == 200
        assert _header(ours, b"date") is not None
        assert _without_date(ours) == _without_date(theirs)
    assert orjson.loads(answers["ours"][0][1])["message_id"] == message_id
    assert orjson.loads(answers["ours"][2][1])["data"]["id"] == text_id


def test_protocol_answers_are_counted_in_the_metrics(app: Any, hot_world: Any) -> None:
    _account, login, message_id, _text = hot_world
    assert app.hot_reads is not None
    counted = app.hot_reads._message.count_ok  # the full path counts into it too
    spy = AnswerNowSpy(app)
    hot = _request(f"/v1/messages/{message_id}", login.headers)
    with connected(app) as connection:
        connection.sendall(hot)
        _responses(connection, 1)  # verifies the token
        _kept(app, connection, [hot])
        before, counted_before = spy.answered, counted.value
        connection.sendall(hot * 3)
        assert [_status(r) for r in _responses(connection, 3)] == [200] * 3
    assert spy.answered - before == 3 * _answers_now(app)
    assert counted.value - counted_before == 3


@pytest.mark.parametrize("order", ["hot-first", "full-first"])
def test_pipelined_requests_are_answered_in_order(app: Any, hot_world: Any, order: str) -> None:
    _account, login, message_id, text_id = hot_world
    asked = [
        (f"/v1/messages/{message_id}", login.headers, 200),
        ("/v1/messages/999999999", login.headers, 404),
        (f"/v2/text_messages/{text_id}", login.bearer, 200),
        ("/v2/leads?per_page=1", login.bearer, 200),
        (f"/v2/messages/{message_id}", login.headers, 200),
    ]
    if order == "full-first":
        asked = asked[3:4] + asked[:3] + asked[4:]
    spy = AnswerNowSpy(app)
    with connected(app) as connection:
        verify = [_request(asked[0][0], asked[0][1]), _request(asked[2][0], login.bearer)]
        connection.sendall(b"".join(verify))
        _responses(connection, 2)  # tokens verified
        hot = [_request(path, headers) for path, headers, code in asked if "messages/" in path and code == 200]
        _kept(app, connection, hot)
        connection.sendall(
            b"".join(
                _request(path, {**headers, "X-Request-Id": f"pipelined-{n:04d}"})
                for n, (path, headers, _status_code) in enumerate(asked)
            )
        )
        got = _responses(connection, len(asked))
    assert [_status(r) for r in got] == [status for _path, _headers, status in asked]
    assert [_header(r, b"x-request-id") for r in got] == [
        f"pipelined-{n:04d}".encode() for n in range(len(asked))
    ]
    for (path, _headers, status), response in zip(asked, got, strict=True):
        if status == 200 and "messages/" in path:
            body = orjson.loads(response[1])
            item = body["data"]["id"] if "text_messages" in path else body["message_id"]
            assert str(item) == path.rsplit("/", 1)[1]
    assert spy.answered >= 3 * _answers_now(app)


def test_a_request_after_an_answer_at_once_is_not_cut_off_by_keep_alive(
    app: Any, hot_world: Any
) -> None:
    """The keep-alive timer armed by an answer written while parsing must not close
    the connection under a request that came in the same packet."""
    _account, login, message_id, _text = hot_world

    async def slow(_request: Request) -> PlainTextResponse:
        await asyncio.sleep(0.8)
        return PlainTextResponse("slow")

    app.router.routes.insert(0, Route("/slow", slow))
    spy = AnswerNowSpy(app)
    with connected(app, timeout_keep_alive=0.2) as connection:
        connection.sendall(_request(f"/v1/messages/{message_id}", login.headers))
        _responses(connection, 1)
        _kept(app, connection, [_request(f"/v1/messages/{message_id}", login.headers)])
        before = spy.answered
        connection.sendall(
            _request(f"/v1/messages/{message_id}", login.headers) + _request("/slow", {})
        )
        fast, slow_answer = _responses(connection, 2)
    assert _status(fast) == 200 and _status(slow_answer) == 200
    assert slow_answer[1] == b"slow"
    assert spy.answered - before == _answers_now(app)


@pytest.mark.parametrize(
    ("version", "extra"),
    [("1.1", {"Connection": "close"}), ("1.0", {}), ("1.1", {"Expect": "100-continue"})],
    ids=["connection-close", "http-1.0", "expect-100-continue"],
)
def test_what_needs_uvicorns_task_goes_the_ordinary_way(
    app: Any, hot_world: Any, version: str, extra: dict[str, str]
) -> None:
    _account, login, message_id, _text = hot_world
    spy = AnswerNowSpy(app)
    with connected(app) as connection:
        connection.sendall(_request(f"/v1/messages/{message_id}", login.headers))
        _responses(connection, 1)
        _kept(app, connection, [_request(f"/v1/messages/{message_id}", login.headers)])
        path = f"/v1/messages/{message_id}"
        before = spy.answered
        connection.sendall(_request(path, {**login.headers, **extra}, version=version))
        (answer,) = _responses(connection, 1)
        assert _status(answer) == 200
        assert orjson.loads(answer[1])["message_id"] == message_id
        if extra.get("Connection") == "close" or version == "1.0":
            assert _closed(connection)
    assert spy.answered == before


def test_behind_trusted_proxies_the_forwarded_address_is_the_one_limited(
    settings: Settings, engine: Any, hot_world: Any
) -> None:
    """The proxies' headers are applied before the protocol answers, as the ASGI way does."""
    _account, login, message_id, _text = hot_world
    strict = dataclasses.replace(
        settings,
        trusted_proxies="127.0.0.1",
        auth_failure_limit=2,
        auth_failure_window_seconds=3600,
    )
    app = create_app(strict, engine=engine)
    assert isinstance(app, AnswerdeskApp)
    spy = AnswerNowSpy(app)
    path = f"/v1/messages/{message_id}"
    blocked = {**login.headers, "X-Forwarded-For": "203.0.113.9"}
    other = {**login.headers, "X-Forwarded-For": "198.51.100.7, 203.0.113.10"}
    wrong = {**blocked, "X-API-TOKEN": "adk_wrong"}
    with connected(app) as connection:
        connection.sendall(_request(path, login.headers))  # verifies the token
        _responses(connection, 1)
        _kept(app, connection, [_request(path, login.headers)])
        connection.sendall(_request(path, wrong) * 3)
        assert [_status(r) for r in _responses(connection, 3)] == [404, 404, 429]
        before = spy.answered
        # On PostgreSQL the other address's failed checks are not known yet:
        # its first answer reads them (the ASGI way), its second needs not.
        connection.sendall(_request(path, blocked) + _request(path, other) * 2)
        refused, *answered = _responses(connection, 3)
    assert _status(refused) == 429
    assert [_status(response) for response in answered] == [200, 200]
    assert orjson.loads(answered[0][1])["message_id"] == message_id
    on_sqlite = app.hot_reads is not None and app.hot_reads._sqlite is not None
    assert spy.answered - before == (2 if on_sqlite else 1)  # the other address's answers only


def test_the_protocol_answers_on_sqlite_and_on_postgresql_with_answers_kept(
    settings: Settings, engine: Any
) -> None:
    app = create_app(settings, engine=engine)
    assert isinstance(app, AnswerdeskApp)
    assert app.answer_now() is not None
    unkept = create_app(dataclasses.replace(settings, answer_cache_mb=0), engine=engine)
    assert isinstance(unkept, AnswerdeskApp)
    assert (unkept.answer_now() is not None) == settings.database_url.startswith("sqlite")


def test_a_token_sent_to_be_verified_again_is_verified_by_the_full_path(
    app: Any, hot_world: Any
) -> None:
    """The protocol's look and the ASGI way's are one: a claimed re-verification happens.

    In the last `REVERIFY_MARGIN` seconds of a token's cache entry one request
    is sent the full way to verify it again. When the ASGI way asked afresh,
    that request was answered fast instead (the claim was already its own),
    the entry was never renewed, and a second later every request in flight
    took the full way at once: the single message's p99 on PostgreSQL.
    """
    _account, login, message_id, _text = hot_world
    hot = _request(f"/v1/messages/{message_id}", login.headers)
    cache = app.state.token_cache
    with connected(app) as connection:
        connection.sendall(hot)
        _responses(connection, 1)  # verifies the token
        _kept(app, connection, [hot])
        (digest,) = cache._entries
        since, principal = cache._entries[digest]
        aged = since - (TOKEN_CACHE_SECONDS - REVERIFY_MARGIN + 0.1)
        cache._entries[digest] = (aged, principal)
        app.hot_reads.callers.seen.clear()
        connection.sendall(hot)
        assert _status(_responses(connection, 1)[0]) == 200
    assert cache._entries[digest][0] > aged + 1  # verified again: a fresh entry
