"""Answer the hottest reads without the web framework.

`GET /v1/messages/{id}`, `/v2/messages/{id}` and `/v2/text_messages/{id}`
are what integrations poll most. Through Starlette, its routing, request
objects and middleware stack cost several times the read itself (issue 7's
profile: ~88% of the server's CPU for a single message). This module answers
those requests as a plain ASGI function when, and only when, the answer is an
ordinary 200 that needs nothing the full path would add:

* SQLite (a read of a local file takes microseconds, so it runs right on the
  event loop, on a connection this module keeps per thread);
* a GET with no query string (credentials in a URL are refused by the full
  path, and every other parameter is meaningless here);
* a token verified moments ago whose `last_used_at` needs no write, of the
  right role and, for the Messages API, the right e-mail;
* a rate limiter kept in this process (a shared one talks to the database);
* a stored row whose pre-rendered JSON is current.

Anything else (HEAD, an unknown id, a token to look up, a stale render, a
refused rate limit) falls through to the full application, which then does
everything as if this module did not exist. Reads happen before the only
side effect (counting the request against the token's rate limit), and a
refused count adds nothing, so a fall-through never counts twice. The
answer's bytes, its `X-Request-Id` and its metrics are the full path's own
(tests compare the two).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Engine
from starlette.types import Scope, Send

from answerdesk import clock
from answerdesk.api.auth import REVERIFY_MARGIN, TokenCache
from answerdesk.api.observe import HttpMetrics, log_request
from answerdesk.api.request_id import HEADER as REQUEST_ID_HEADER
from answerdesk.api.request_id import acceptable_request_id
from answerdesk.crm.single import SQLITE_SQL as TEXT_MESSAGE_SQL
from answerdesk.crm.single import text_message_from_row
from answerdesk.logs import current_request_id
from answerdesk.messages.listing import STORED_ONE_SQL, stored_object_prefix
from answerdesk.ratelimit import RateLimited
from answerdesk.tokens import LAST_USED_RESOLUTION, Principal, hash_token

log = logging.getLogger("answerdesk.requests")

_JSON_TYPE = (b"content-type", b"application/json; charset=utf-8")
#: A verified token must stay good at least this long for the fast path to use
#: it, so neither its cache entry nor `last_used_at` can lapse mid-request.
_MARGIN = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WANTED_HEADERS = frozenset({b"x-api-token", b"x-api-email", b"authorization", REQUEST_ID_HEADER})
#: How long the answer for one set of credential headers is remembered
#: (within the cache entry's REVERIFY_MARGIN, so within its life).
_SEEN_SECONDS = 1.0
_SEEN_SIZE = 10_000
_TEXT_MESSAGE_META = b',"meta":{"type":"text_message"}}'


class _Route:
    """One hot route: how to read its row and what the full path calls it in metrics."""

    def __init__(self, name: str, metrics: HttpMetrics) -> None:
        self.name = name
        self.count_ok = metrics.requests.labels(name, "GET", "200")
        self.latency = metrics.latency.labels(name, "GET")


class HotReads:
    """The fast path for single-item reads on SQLite; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        *,
        state: Any,
        metrics: HttpMetrics,
        access_log: bool = False,
    ) -> None:
        self.engine = engine
        # The app's `State` keeps its attributes in this dict; reading it
        # directly saves the attribute protocol on every request.
        self._state: dict[str, Any] = state._state
        self.access_log = access_log
        self._message = _Route("show_message", metrics)
        self._text_message = _Route("show_text_message", metrics)
        self._local = threading.local()
        # sha256(credential headers) -> (monotonic deadline, clock deadline, principal)
        self._seen: dict[bytes, tuple[float, datetime, Principal]] = {}
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # -- connections -------------------------------------------------------

    def _cursor(self) -> sqlite3.Cursor:
        """This thread's read cursor, on a connection made with the engine's own settings."""
        cursor: sqlite3.Cursor | None = getattr(self._local, "cursor", None)
        if cursor is not None:
            return cursor
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            pooled = self.engine.raw_connection()
            connection = pooled.driver_connection
            assert isinstance(connection, sqlite3.Connection)
            pooled.detach()  # ours for good: the pool forgets it
            connection.execute("PRAGMA query_only=1")
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        cursor = connection.cursor()
        self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        """Close every connection this fast path opened (at shutdown)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()

    # -- the request -------------------------------------------------------

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Answer the request and return True, or return False to let the app do it."""
        if scope["method"] != "GET" or scope["query_string"]:
            return False
        path: str = scope["path"]
        if path.startswith("/v2/text_messages/"):
            route, kind = self._text_message, path[18:]
        elif path.startswith(("/v1/messages/", "/v2/messages/")):
            route, kind = self._message, path[13:]
        else:
            return False
        if not kind.isdigit() or not kind.isascii() or len(kind) > 18:
            return False
        started = time.perf_counter()
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED_HEADERS and name not in found:
                found[name] = value
        principal = self._principal(found, sell=route is self._text_message)
        if principal is None:
            return False
        try:
            if route is self._message:
                body = self._message_body(principal.account_id, int(kind))
            else:
                body = self._text_message_body(principal.account_id, int(kind))
        except sqlite3.Error:
            # Whatever went wrong, the full path reports it properly.
            self._local.connection = self._local.cursor = None
            return False
        if body is None or not self._count(principal):
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
        elapsed = time.perf_counter() - started
        route.count_ok.inc()
        route.latency.observe(elapsed)
        if self.access_log:
            token = current_request_id.set(rid)
            log_request("GET", path, 200, elapsed, rid)
            current_request_id.reset(token)
        return True

    def _principal(self, found: dict[bytes, bytes], *, sell: bool) -> Principal | None:
        """The caller, if its credentials were verified moments ago (no database needed).

        The answer for these exact header bytes is remembered for a second
        (keyed by their SHA-256, never the token itself), which is inside
        every bound the full check below guarantees.
        """
        if sell:
            raw = b"b" + found.get(b"authorization", b"")
        else:
            raw = b"m" + found.get(b"x-api-token", b"") + b"\n" + found.get(b"x-api-email", b"")
        key = hashlib.sha256(raw).digest()
        seen = self._seen.get(key)
        now = time.monotonic()
        if seen is not None and seen[0] > now and clock.utcnow() < seen[1]:
            return seen[2]
        principal = self._verified(found, sell=sell)
        if principal is not None:
            if len(self._seen) >= _SEEN_SIZE:
                self._seen.clear()  # rare; cheaper than tracking ages
            self._seen[key] = (now + _SEEN_SECONDS, _good_until(principal), principal)
        return principal

    def _verified(self, found: dict[bytes, bytes], *, sell: bool) -> Principal | None:
        """The full path's own checks, answered from its cache of verified tokens only.

        Headers are read as the full path reads them: the first of each name,
        decoded as Latin-1, stripped.
        """
        if sell:
            token = _bearer(found.get(b"authorization", b"").decode("latin-1"))
            email = None
        else:
            token = found.get(b"x-api-token", b"").decode("latin-1").strip()
            email = found.get(b"x-api-email", b"").decode("latin-1").strip().lower()
            if not email:
                return None
        if not token:
            return None
        cache: TokenCache | None = self._state.get("token_cache")
        if cache is None:
            return None
        # Good for longer than a remembered answer lives (see _principal); an
        # older entry goes the full way once, which verifies it afresh.
        principal = cache.get(hash_token(token), margin=REVERIFY_MARGIN)
        if principal is None or principal.role != "client" or principal.account_id is None:
            return None
        if clock.utcnow() >= _good_until(principal):
            return None
        if email is not None and not hmac.compare_digest(principal.email.encode(), email.encode()):
            return None
        return principal

    def _count(self, principal: Principal) -> bool:
        """Count the request against its token's limit; False if refused (nothing counted)."""
        limiter = self._state.get("api_limiter")
        if limiter is None:
            return True
        if getattr(limiter, "shared", False):
            return False  # a shared limiter is a database round trip: the full path's job
        try:
            limiter.hit(f"token:{principal.token_id}")
        except RateLimited:
            return False  # the full path refuses it again, in the API's envelope
        return True

    def _message_body(self, account_id: int | None, message_id: int) -> bytes | None:
        rows = self._cursor().execute(STORED_ONE_SQL, (message_id, account_id)).fetchall()
        if not rows or rows[0][0] is None:
            return None  # not found, or its stored render is stale: the full path decides
        wire, number = rows[0]
        body: bytes = stored_object_prefix(number) + wire
        return body

    def _text_message_body(self, account_id: int | None, text_message_id: int) -> bytes | None:
        rows = self._cursor().execute(TEXT_MESSAGE_SQL, (text_message_id, account_id))
        found = rows.fetchall()
        if not found:
            return None
        data = orjson.dumps(text_message_from_row(found[0]))
        return b'{"data":' + data + _TEXT_MESSAGE_META


def _good_until(principal: Principal) -> datetime:
    """When a verified token stops being usable without the database.

    A margin before `last_used_at` goes stale (the full path then writes it)
    or the token expires, so neither can happen during a fast answer.
    """
    until = principal.last_used_at + LAST_USED_RESOLUTION if principal.last_used_at else _EPOCH
    if principal.expires_at is not None:
        until = min(until, principal.expires_at)
    return until - _MARGIN - timedelta(seconds=_SEEN_SECONDS)


def _bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer` value, exactly as `auth.bearer_token` reads it."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
