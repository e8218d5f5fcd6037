"""The HTTP protocol `answerdesk serve` runs, and the uvicorn options that go with it.

uvicorn's httptools protocol with two additions: each request's head is
bounded in size and time (docs/security.md, "Resource limits"), and the fast
path's hot reads are answered right in the protocol where they need no
waiting (SQLite, or answers kept on PostgreSQL), in one write and without an
ASGI task (api/fastpath.py, docs/performance.md "Seventh look").
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from starlette.types import Scope
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from answerdesk.app import AnswerdeskApp, AnswerNow

#: A request's line and headers together may hold this many bytes; more is a
#: 400 and a closed connection (h11 has this limit, httptools has none).
MAX_REQUEST_HEAD_BYTES = 64 * 1024
#: ... and must arrive within this many seconds of the connection opening (or of
#: the request's first byte), so a client dribbling headers cannot hold it.
REQUEST_HEAD_TIMEOUT_SECONDS = 10.0
#: Connections plus requests in flight per process before uvicorn answers 503.
LIMIT_CONCURRENCY = 1000


class RequestHeadTooLarge(Exception):
    """Raised inside the parser's callbacks: httptools turns it into a 400."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size and a time bound on each request's head,
    which answers the fast path's hot reads itself where they need no waiting.

    A module-level class, so `--workers N` can hand it to its processes.
    """

    _head_bytes = 0
    _head_timer: asyncio.TimerHandle | None = None
    _answer_now: AnswerNow | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()
        app = self.app
        if isinstance(app, AnswerdeskApp):
            self._answer_now = app.answer_now()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A request has begun, so the connection is not idle: a keep-alive
        # timer armed by a response answered at once (below) must not close
        # it while this one is in flight. uvicorn arms that timer only once
        # the data at hand is parsed; an answer written from the parser's
        # callback comes before the rest of that data is parsed.
        self._unset_keepalive_if_required()
        self._head_bytes = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        """Answer a hot read that needs no waiting right here, in one write; else start the task.

        uvicorn calls this when a request's head is parsed and no earlier
        response is pending (or, for pipelined requests, once it is), so
        answers still go out in order. Anything that needs what the task
        would do (waiting for a `100 Continue`, writes paused, a connection to
        close after the answer, uvicorn's own access log, the 503 of its
        concurrency limit) takes the ordinary way. The method is uvicorn's own
        (private) hook: should a release stop calling it, every request
        simply takes the ASGI way, and tests/test_protocol_answers.py fails.
        """
        answer_now = self._answer_now
        if (
            answer_now is not None
            and app is self.app
            and cycle.keep_alive
            and not cycle.waiting_for_100_continue
            and not cycle.access_log
            and not self.flow.write_paused
            and answer_now(
                cast(Scope, cycle.scope), self.server_state.default_headers, self.transport.write
            )
        ):
            cycle.response_started = cycle.response_complete = True
            cycle.on_response()
            return
        super()._start_asgi_task(cycle, app)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
            raise RequestHeadTooLarge()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(REQUEST_HEAD_TIMEOUT_SECONDS, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


#: Trust no X-Forwarded-* headers (no proxy is assumed), advertise no server
#: software, keep a log line per request off the hot path, and bound what one
#: client can make a process hold (docs/security.md, "Resource limits").
UVICORN_OPTIONS: dict[str, Any] = {
    # Forwarded headers are handled by the app, from ANSWERDESK_TRUSTED_PROXIES.
    "proxy_headers": False,
    "server_header": False,
    "access_log": False,
    "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    "limit_concurrency": LIMIT_CONCURRENCY,
    "timeout_keep_alive": 5,
    # Request heads bounded in size and time (docs/security.md).
    "http": BoundedHttpToolsProtocol,
}
