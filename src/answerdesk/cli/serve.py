"""`answerdesk serve`: run the HTTP server (uvicorn) on this database."""

from __future__ import annotations

import asyncio
import os
from typing import Any, cast

import click
import uvicorn
from starlette.types import Scope
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from answerdesk.app import AnswerdeskApp, AnswerNow, create_app
from answerdesk.cli.demo import run_demo
from answerdesk.cli.main import CliState, pass_state
from answerdesk.heap import keep_heap_for_big_answers
from answerdesk.logs import configure_logging, logging_config
from answerdesk.messages.rerender import resume_owed_walks
from answerdesk.store.engine import create_engine_for_url
from answerdesk.sync import start_worker_thread
from answerdesk.webhooks.runner import start_deliverer_thread  # webhooks (issue 6)

#: Worker processes build their app from the environment (uvicorn needs an
#: import string to start more than one), so the parent hands settings on there.
APP_FACTORY = "answerdesk.app:create_app_from_env"
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
        """Answer a hot read on SQLite right here, in one write; else start the ASGI task.

        uvicorn calls this when a request's head is parsed and no earlier
        response is pending (or, for pipelined requests, once it is), so
        answers still go out in order. Anything that needs what the task
        would do (waiting for a `100 Continue`, writes paused, a connection to
        close after the answer, uvicorn's own access log, the 503 of its
        concurrency limit) takes the ordinary way.
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
_UVICORN_OPTIONS: dict[str, Any] = {
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
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def url_for(host: str, port: int) -> str:
    """Return the base URL of a server listening on host:port (IPv6 in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Processes."
)
@click.option("--demo", is_flag=True, help="Seed demo data first and print logins and tokens.")
@click.option("--no-upgrade", is_flag=True, help="Do not migrate the schema on start.")
@click.option(
    "--no-worker",
    is_flag=True,
    help="No background work in this process: CRM carrying, webhooks, owed re-renders.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Least severe log level written (JSON lines on stderr).",
)
@pass_state
def serve(
    state: CliState,
    host: str,
    port: int,
    workers: int,
    demo: bool,
    no_upgrade: bool,
    no_worker: bool,
    log_level: str,
) -> None:
    """Serve the Messages API (and the rest of answerdesk) over HTTP."""
    settings = state.settings
    # Migrate once, here in the parent, before any worker opens the database;
    # the PostgreSQL advisory lock in `upgrade` covers several hosts starting together.
    state.engine(migrate=not no_upgrade)
    if demo:
        run_demo(state, url_for(_ANY_ADDRESS.get(host, host), port))
        click.echo("")
    state.close()
    log_config = logging_config(log_level)
    configure_logging(log_level)
    # One CRM worker per `serve`, in this (parent) process: with --workers N
    # the HTTP processes are uvicorn's children and carry nothing themselves.
    worker_engine = None if no_worker else create_engine_for_url(settings.database_url)
    worker = None if worker_engine is None else start_worker_thread(worker_engine)
    # Webhooks (issue 6): the deliverer runs beside the CRM worker, on its engine.
    deliverer = None if worker_engine is None else start_deliverer_thread(worker_engine, settings)
    if worker_engine is not None:
        # Re-render walks a restart cut short (a time-zone change owes one).
        resume_owed_walks(worker_engine)
    # Before the first request (worker processes do it in create_app_from_env).
    keep_heap_for_big_answers()
    click.echo(f"answerdesk listening on {url_for(host, port)}")
    options = {
        **_UVICORN_OPTIONS,
        "log_config": log_config,
        "log_level": log_level,
    }
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, **options)
        else:
            os.environ["ANSWERDESK_DATABASE_URL"] = settings.database_url
            uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port, **options)
    finally:
        if worker is not None:
            worker.stop()
        if deliverer is not None:  # webhooks (issue 6)
            deliverer.stop()
        if worker_engine is not None:
            worker_engine.dispose()
