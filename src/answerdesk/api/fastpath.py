"""Answer the hottest reads without the web framework.

`GET /v1/messages/{id}`, `/v2/messages/{id}` and `/v2/text_messages/{id}`
are what integrations poll most. Through Starlette, its routing, request
objects and middleware stack cost several times the read itself (issue 7's
profile: ~88% of the server's CPU for a single message). This module answers
those requests as a plain ASGI function when, and only when, the answer is an
ordinary 200 that needs nothing the full path would add:

* one statement on the fast path's own connections (api/hot_readers.py:
  SQLite right on the event loop, PostgreSQL awaited on async connections);
* a GET with no query string (credentials in a URL are refused by the full
  path, and every other parameter is meaningless here);
* a token verified moments ago whose `last_used_at` needs no write, of the
  right role and, for the Messages API, the right e-mail;
* the same rate limits (the address's failed checks, the token's budget);
* a stored row whose pre-rendered JSON is current (possibly an answer read
  earlier and kept: on SQLite until a commit that can change it,
  hot_readers.py; on PostgreSQL until a change notice for its account,
  kept_answers.py).

Where nothing in such an answer waits (a read on SQLite, an answer kept on
PostgreSQL), `answer_now` gives the server's protocol class
(server_protocol.py) the whole response as bytes, written at once without an
ASGI task; `answer` is the same answer as an ASGI function (for PostgreSQL's
reads, and where the protocol cannot answer).

Anything else (HEAD, an unknown id, a token to look up, a stale render, a
refused rate limit) falls through to the full application, which then does
everything as if this module did not exist. Reads happen before the only
side effect (counting the request against the token's rate limit), and a
refused count adds nothing, so a fall-through never counts twice. The
answer's bytes, its `X-Request-Id` and its metrics are the full path's own
(tests compare the two).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from starlette.datastructures import QueryParams
from starlette.types import Scope, Send

from answerdesk.api.fast_credentials import RecentCallers
from answerdesk.api.hot_readers import READ_ERRORS, PostgresReads, SqliteReads
from answerdesk.api.kept_answers import MESSAGE, TEXT_MESSAGE, note_local_writes
from answerdesk.api.observe import HttpMetrics, log_request
from answerdesk.api.params import ListParams, parse_list_params
from answerdesk.api.request_id import HEADER as REQUEST_ID_HEADER
from answerdesk.api.request_id import acceptable_request_id
from answerdesk.errors import AnswerdeskError
from answerdesk.logs import current_request_id
from answerdesk.ratelimit import Limiter, RateLimited
from answerdesk.ratelimit_shared import SharedWindowLimiter
from answerdesk.store.engine import is_sqlite
from answerdesk.tokens import Principal

_JSON_TYPE = (b"content-type", b"application/json; charset=utf-8")
#: What uvicorn writes around `answer`'s messages (its `STATUS_LINE[200]`, then
#: each header as `name: value`), for `answer_now` to write the same at once.
_STATUS_200 = b"HTTP/1.1 200 OK\r\n"
_HEAD_END = (
    b"content-type: application/json; charset=utf-8\r\n"
    b"content-length: %d\r\n" + REQUEST_ID_HEADER + b": %s\r\n\r\n"
)
_LIST_PATHS = frozenset({"/v1/messages", "/v2/messages"})
_RANGE_KEYS = frozenset({"from_date", "to_date"})
_WANTED_HEADERS = frozenset({b"x-api-token", b"x-api-email", b"authorization", REQUEST_ID_HEADER})


class _Route:
    """One hot route, under the name the full path's metrics give it, and what it answers."""

    def __init__(self, name: str, metrics: HttpMetrics, kind: int | None = None) -> None:
        self.name = name
        #: `MESSAGE` or `TEXT_MESSAGE` for a single answer; None for a list.
        self.kind = kind
        self.count_ok = metrics.count(name, "GET", "200")
        self.latency = metrics.latency(name, "GET")


#: What `HotReads._asked` finds in a request: its route, its id or date range,
#: when it began, the headers read, and the verified caller.
_Asked = tuple[_Route, int, ListParams | None, float, dict[bytes, bytes], Principal]
#: The scope key under which `answer_now` leaves what it found for `answer`.
_ASKED_KEY = "answerdesk.hot_read"
#: The scope key of a request the full path answers while others wait for it
#: to verify their shared credentials (`_once_verified`).
_VERIFYING_KEY = "answerdesk.verifying"
#: The longest a request waits for another to verify its caller.
VERIFY_WAIT_SECONDS = 2.0


class HotReads:
    """The fast path for the hottest reads; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        *,
        state: Any,
        metrics: HttpMetrics,
        access_log: bool = False,
        postgres_connections: int = 4,
        list_rows: int = 2000,
        keep_bytes: int = 0,
    ) -> None:
        # The app's `State` keeps its attributes in this dict; reading it
        # directly saves the attribute protocol on every request.
        self._state: dict[str, Any] = state._state
        self.access_log = access_log
        self._message = _Route("show_message", metrics, MESSAGE)
        self._text_message = _Route("show_text_message", metrics, TEXT_MESSAGE)
        self._list = _Route("list_messages", metrics)
        self.list_rows = list_rows
        self.callers = RecentCallers(self._state)
        #: credentials key -> done when the full path has verified them (`_once_verified`)
        self._verifying: dict[bytes, asyncio.Future[None]] = {}
        self._sqlite: SqliteReads | None = None
        self._postgres: PostgresReads | None = None
        if is_sqlite(engine):
            self._sqlite = SqliteReads(engine, keep_bytes=keep_bytes)
        else:
            self._postgres = PostgresReads(
                engine, size=postgres_connections, keep_bytes=keep_bytes
            )
            if keep_bytes:
                note_local_writes()

    @property
    def answers_now(self) -> bool:
        """Whether `answer_now` can answer anything: on SQLite, or answers kept on PostgreSQL."""
        return self._sqlite is not None or bool(self._postgres and self._postgres.keep_bytes)

    def start(self) -> None:
        """Begin what runs on the server's event loop (at startup): on PostgreSQL,
        listening for change notices, so answers can be kept from the first request."""
        if self._postgres is not None:
            self._postgres.kept()

    def close(self) -> None:
        """Close every connection this fast path opened (at shutdown)."""
        if self._sqlite is not None:
            self._sqlite.close()
        if self._postgres is not None:
            self._postgres.close()

    # -- the request -------------------------------------------------------

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Answer the request and return True, or return False to let the app do it."""
        # What `answer_now` found for this request, if it looked first: asking
        # again would verify the credentials twice, and a caller whose token
        # `answer_now` sent the full way to be verified again would then be
        # answered here instead, leaving its cache entry to lapse (and every
        # request in flight a second later to take the full way).
        asked = scope.pop(_ASKED_KEY) if _ASKED_KEY in scope else self._asked(scope)
        if asked is None:
            asked = await self._once_verified(scope)
            if asked is None:
                return False
        route, item_id, range_params, started, found, principal = asked
        if self._sqlite is not None:
            # Synchronous: a local read takes microseconds, a coroutine costs more.
            body = self._sqlite_body(self._sqlite, route, principal, item_id, range_params, scope)
        else:
            try:
                body = await self._answer_postgres(route, principal, item_id, range_params, scope)
            except READ_ERRORS:
                return False  # whatever went wrong, the full path reports it properly
        if body is None:
            return False
        rid = acceptable_request_id(found.get(REQUEST_ID_HEADER))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    _JSON_TYPE,
                    (b"content-length", b"%d" % len(body)),
                    (REQUEST_ID_HEADER, rid.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self._answered(route, scope["path"], started, rid)
        return True

    def answer_now(
        self,
        scope: Scope,
        default_headers: list[tuple[bytes, bytes]],
        write: Callable[[bytes], object],
    ) -> bool:
        """Write the whole HTTP/1.1 response to a hot read that needs no waiting; True, or False.

        For the server's protocol (server_protocol.py), which calls it before it
        would start an ASGI task for the request. A read on SQLite, or an
        answer kept on PostgreSQL (api/kept_answers.py), needs no waiting, so
        it goes out as one write, without the task, the ASGI messages and
        uvicorn's second write (docs/performance.md, "Seventh look"). The
        bytes are exactly those uvicorn writes for `answer`'s messages: its
        status line, its default headers (`date`), then ours. Anything that
        would wait (a PostgreSQL read, a rate limit kept there) returns False
        and the request goes the ASGI way, to `answer`.
        """
        asked = self._asked(scope)
        if asked is None:
            scope[_ASKED_KEY] = None
            return False
        route, item_id, range_params, started, found, principal = asked
        if self._sqlite is not None:
            body = self._sqlite_body(self._sqlite, route, principal, item_id, range_params, scope)
        elif self._postgres is not None and route.kind is not None:
            body = self._postgres.kept_single(route.kind, principal.account_id or 0, item_id)
            if body is not None and not self._admit(principal, scope):
                body = None
        else:
            body = None
        if body is None:
            scope[_ASKED_KEY] = asked
            return False
        rid = acceptable_request_id(found.get(REQUEST_ID_HEADER))
        parts = [_STATUS_200]
        for name, value in default_headers:
            parts += (name, b": ", value, b"\r\n")
        parts.append(_HEAD_END % (len(body), rid.encode()))
        parts.append(body)
        write(b"".join(parts))
        self._answered(route, scope["path"], started, rid)
        return True

    async def _once_verified(self, scope: Scope) -> _Asked | None:
        """A hot read whose caller's token is not verified yet: asked again once it is.

        The full path verifies a token it does not hold (a read, on a thread
        of its pool). When a busy client's entry has lapsed, every request it
        has in flight would do so at once: up to c=32 threads fighting the
        event loop for the interpreter, stalling every other answer for tens
        of milliseconds (docs/performance.md, "Tenth look"). So the first
        such request goes the full way (None, and `verified` when it is done)
        and the others with the same credential headers wait for it, at most
        VERIFY_WAIT_SECONDS, then are asked again: the caller is then known,
        or each goes the full way as before. Nothing is answered that the
        full path has not verified.
        """
        hot = self._hot_request(scope)
        if hot is None:
            return None
        key = self.callers.unverified(_wanted_headers(scope), sell=hot[0] is self._text_message)
        if key is None:
            return None
        pending = self._verifying.get(key)
        if pending is None:
            self._verifying[key] = asyncio.get_running_loop().create_future()
            scope[_VERIFYING_KEY] = key
            return None
        await asyncio.wait((pending,), timeout=VERIFY_WAIT_SECONDS)
        return self._asked(scope)

    def verified(self, scope: Scope) -> None:
        """The full path is done with a request: wake those waiting for it to verify its caller."""
        key = scope.pop(_VERIFYING_KEY, None)
        if key is not None:
            pending = self._verifying.pop(key, None)
            if pending is not None and not pending.done():
                pending.set_result(None)

    def _asked(self, scope: Scope) -> _Asked | None:
        """The hot read a request asks for and its caller, verified; None for the full path."""
        hot = self._hot_request(scope)
        if hot is None:
            return None
        route, item_id, range_params = hot
        started = time.perf_counter()
        found = _wanted_headers(scope)
        principal = self.callers.principal(found, sell=route is self._text_message)
        if principal is None or principal.account_id is None:
            return None
        return route, item_id, range_params, started, found, principal

    def _hot_request(self, scope: Scope) -> tuple[_Route, int, ListParams | None] | None:
        """The hot route a GET asks for, with its id or date range; None for anything else."""
        if scope["method"] != "GET":
            return None
        path: str = scope["path"]
        query: bytes = scope["query_string"]
        if query:
            if path not in _LIST_PATHS:
                return None
            range_params = _range_params(query)
            if range_params is None:
                return None
            return self._list, 0, range_params
        if path.startswith("/v2/text_messages/"):
            route, kind = self._text_message, path[18:]
        elif path.startswith(("/v1/messages/", "/v2/messages/")):
            route, kind = self._message, path[13:]
        else:
            return None
        if not kind.isdigit() or not kind.isascii() or len(kind) > 18:
            return None
        return route, int(kind), None

    def _sqlite_body(
        self,
        reads: SqliteReads,
        route: _Route,
        principal: Principal,
        item_id: int,
        range_params: ListParams | None,
        scope: Scope,
    ) -> bytes | None:
        """The answer's body read from SQLite once admitted by the rate limits, or None."""
        account_id = principal.account_id
        assert account_id is not None
        try:
            body = self._read_sqlite(reads, route, account_id, item_id, range_params)
        except READ_ERRORS:
            reads.discard()  # whatever went wrong, the full path reports it properly
            return None
        if body is None or not self._admit(principal, scope):
            return None
        return body

    def _answered(self, route: _Route, path: str, started: float, rid: str) -> None:
        """Count the answer in the full path's metrics, and log it if asked to."""
        elapsed = time.perf_counter() - started
        route.count_ok.add()
        route.latency.observe(elapsed)
        if self.access_log:
            token = current_request_id.set(rid)
            log_request("GET", path, 200, elapsed, rid)
            current_request_id.reset(token)

    def _read_sqlite(
        self,
        reads: SqliteReads,
        route: _Route,
        account_id: int,
        item_id: int,
        range_params: ListParams | None,
    ) -> bytes | None:
        """The answer's body from SQLite, or None to step aside."""
        if range_params is not None:
            return reads.message_range(
                account_id, range_params.from_date, range_params.to_date, self.list_rows
            )
        if route is self._message:
            return reads.message(account_id, item_id)
        return reads.text_message(account_id, item_id)

    async def _answer_postgres(
        self,
        route: _Route,
        principal: Principal,
        item_id: int,
        range_params: ListParams | None,
        scope: Scope,
    ) -> bytes | None:
        """The answer's body from PostgreSQL once admitted by the rate limits, or None.

        A single answer kept in memory is not read again once the address's
        failed checks are known (`recently_clear`). Otherwise the address's
        failed-check counters (when kept in PostgreSQL) are read by the same
        statement as a single item, or a range's account: one round trip fewer.
        """
        reads = self._postgres
        account_id = principal.account_id
        assert reads is not None and account_id is not None
        failures: Limiter | None = self._state.get("auth_failure_limiter")
        shared = failures if isinstance(failures, SharedWindowLimiter) else None
        unchecked = failures if shared is None else None
        key = _failure_key(scope)
        body: bytes | None = None
        if route.kind is not None:
            body = reads.kept_single(route.kind, account_id, item_id)
            if body is not None and shared is not None and not self._known_clear(shared, key):
                body = None  # read again with the address's counters: one round trip either way
        try:
            if body is None and range_params is not None:
                from_date, to_date = range_params.from_date, range_params.to_date
                checked = shared
                if shared is not None and reads.keep_bytes and self._known_clear(shared, key):
                    checked = None  # as for a kept answer: no statement needed for the counters
                body = await reads.message_range(
                    account_id, from_date, to_date, self.list_rows, failures=checked,
                    failure_key=key,
                )  # fmt: skip
            elif body is None and route.kind is not None:
                body = await reads.single(
                    route.kind, account_id, item_id, failures=shared, failure_key=key
                )
        except RateLimited:
            return None
        if body is None or not await self._admit_shared(principal, scope, unchecked):
            return None
        return body

    def _admit(self, principal: Principal, scope: Scope) -> bool:
        """Apply the full path's rate limits, without waiting; False if either refuses.

        The address's failed-check limit is only read, and a refused hit of
        the token's limit counts nothing, so the full path, answering
        instead, refuses it again in the API's own envelope. Limits kept in
        PostgreSQL (a kept answer's) need a round trip: a failed-check limit
        is taken as `recently_clear` says, else this returns False, as it
        does for a token limit kept there; the ASGI way then asks.
        """
        failures: Limiter | None = self._state.get("auth_failure_limiter")
        tokens: Limiter | None = self._state.get("api_limiter")
        try:
            if failures is not None:
                key = _failure_key(scope)
                if isinstance(failures, SharedWindowLimiter):
                    if not self._known_clear(failures, key):
                        return False
                else:
                    failures.check(key)
            if tokens is not None:
                if isinstance(tokens, SharedWindowLimiter):
                    return False
                tokens.hit(f"token:{principal.token_id}")
        except RateLimited:
            return False
        return True

    def _known_clear(self, failures: SharedWindowLimiter, key: str) -> bool:
        """`recently_clear`, its memo renewed in the background before it lapses."""
        if not failures.recently_clear(key):
            return False
        if self._postgres is not None and failures.renewal_due(key):
            self._postgres.renew_clear(failures, key)
        return True

    async def _admit_shared(
        self, principal: Principal, scope: Scope, failures: Limiter | None
    ) -> bool:
        """`_admit` on PostgreSQL: a token limit kept there is hit on the fast path's connections.

        `failures` is an in-process failed-check limiter still to be asked;
        one kept in PostgreSQL was asked together with the read (None here).
        """
        tokens: Limiter | None = self._state.get("api_limiter")
        try:
            if failures is not None:
                failures.check(_failure_key(scope))
            if tokens is not None:
                key = f"token:{principal.token_id}"
                if isinstance(tokens, SharedWindowLimiter):
                    sql, params, offset = tokens.hit_statement(key)
                    tokens.judge_hit((await self._shared(sql, params))[0], offset)
                else:
                    tokens.hit(key)
        except RateLimited:
            return False
        return True

    async def _shared(self, sql: str, params: dict[str, object]) -> list[Any]:
        if self._postgres is None:
            raise RuntimeError("limits shared through the database need PostgreSQL")
        return await self._postgres.fetch(sql, params)


def _wanted_headers(scope: Scope) -> dict[bytes, bytes]:
    """The first of each header the fast path reads (as the full path reads the first)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _WANTED_HEADERS and name not in found:
            found[name] = value
    return found


def _failure_key(scope: Scope) -> str:
    """The failed-check limiter's key for the request's address, as the full path makes it."""
    client = scope.get("client")
    return f"auth-failure:{client[0] if client else 'unknown'}"


def _range_params(query: bytes) -> ListParams | None:
    """A plain date-range list's parameters, or None when the full path should answer.

    Only `from_date` and `to_date`, valid as the full path checks them: an
    error is the full path's to report, and `after_id`/`limit` pages carry a
    Link header.
    """
    params = QueryParams(query)
    if not params or not set(params.keys()) <= _RANGE_KEYS:
        return None
    try:
        return parse_list_params(params)
    except AnswerdeskError:
        return None
