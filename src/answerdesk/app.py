"""Build the ASGI application: store, APIs, error handling."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from answerdesk import console
from answerdesk.api import agent_api, health, messages_api, openapi, sell
from answerdesk.api.auth import TokenCache
from answerdesk.api.errors import handle_answerdesk_error, handle_http_exception, handle_unexpected
from answerdesk.api.fastpath import HotReads
from answerdesk.api.observe import HttpMetrics, ObserveMiddleware
from answerdesk.api.request_id import RequestIdMiddleware
from answerdesk.config import Settings
from answerdesk.errors import AnswerdeskError
from answerdesk.heap import keep_heap_for_big_answers
from answerdesk.ratelimit_shared import build_limiter
from answerdesk.store.engine import create_engine_for_url
from answerdesk.sync.metrics import PipelineCollector

#: `HotReads.answer_now`: (scope, the server's default headers, write) -> answered.
AnswerNow = Callable[[Scope, list[tuple[bytes, bytes]], Callable[[bytes], object]], bool]


async def _nothing(_scope: Any, _receive: Any, _send: Any) -> None:
    """The app behind `AnswerdeskApp.forwarded`'s middleware: only the scope it gets matters."""


def _trusted_proxies(settings: Settings) -> list[str]:
    """The proxies whose X-Forwarded-For/-Proto the operator told us to believe."""
    return [host.strip() for host in settings.trusted_proxies.split(",") if host.strip()]


class AnswerdeskApp(Starlette):
    """Starlette, with the hottest reads answered in front of it (api/fastpath.py).

    Forwarded headers are applied before either, so the fast path and the
    full application see the same client address and scheme.
    """

    hot_reads: HotReads | None = None
    front: ASGIApp | None = None
    #: The trusted proxies' headers, applied to a copy of a scope (`forwarded`).
    proxy_headers: ProxyHeadersMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None:
            await self.front(scope, receive, send)
            return
        # behind_proxies, written out: one coroutine fewer on every request.
        hot = self.hot_reads
        if hot is not None and scope["type"] == "http" and await hot.answer(scope, send):
            return
        await self._full_path(scope, receive, send)

    async def _full_path(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's answer; then the fast path hears it is done (`HotReads.verified`)."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.hot_reads is not None:
                self.hot_reads.verified(scope)

    def answer_now(self) -> AnswerNow | None:
        """What the server's protocol may call to answer a hot read itself, if anything.

        Only where the fast path can answer without waiting (SQLite, or
        answers kept on PostgreSQL). Behind
        trusted proxies their headers are applied first, as `front` does.
        """
        hot = self.hot_reads
        if hot is None or not hot.answers_now:
            return None
        if self.proxy_headers is None:
            return hot.answer_now
        answer = hot.answer_now

        def answer_forwarded(
            scope: Scope,
            default_headers: list[tuple[bytes, bytes]],
            write: Callable[[bytes], object],
        ) -> bool:
            forwarded = self.forwarded(scope)
            return forwarded is not None and answer(forwarded, default_headers, write)

        return answer_forwarded

    def forwarded(self, scope: Scope) -> Scope | None:
        """A copy of `scope` with the trusted proxies' headers applied, or None if they can't be.

        uvicorn's middleware awaits nothing before it calls the app, so its
        coroutine, around an app that does nothing, runs to its end in one
        step; the copy keeps the scope the ASGI way would start from as it
        was. Should a later uvicorn wait in there, this returns None and the
        request goes the ASGI way.
        """
        assert self.proxy_headers is not None
        forwarded = dict(scope)
        step = self.proxy_headers(cast(Any, forwarded), cast(Any, None), cast(Any, None))
        try:
            step.send(None)
        except StopIteration:
            return forwarded
        step.close()
        return None

    async def behind_proxies(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot_reads
        if hot is not None and scope["type"] == "http" and await hot.answer(scope, send):
            return
        await self._full_path(scope, receive, send)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Starlette:
    """Return the answerdesk ASGI app; the caller migrates the database first."""
    settings = settings or Settings()
    owns_engine = engine is None
    engine = engine or create_engine_for_url(settings.database_url, pool_size=settings.pool_size)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Everything built so far (modules, app, templates) lives as long as
        # the process: move it out of the collector's sight, so later
        # collections walk only request garbage. Measured: p99 of a single
        # message ~2x p50 instead of ~10x (docs/performance.md).
        gc.collect()
        gc.freeze()
        if app.hot_reads is not None:
            app.hot_reads.start()  # PostgreSQL: listen for change notices from the first request
        yield
        if app.hot_reads is not None:
            app.hot_reads.close()
        if owns_engine:
            engine.dispose()

    registry = CollectorRegistry()
    registry.register(PipelineCollector(engine))
    http_metrics = HttpMetrics(registry)
    app = AnswerdeskApp(
        routes=[
            *health.routes(),
            *messages_api.routes(),
            *agent_api.routes(),
            *sell.routes(),
            *openapi.routes(),
            *console.routes(settings, engine),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(ObserveMiddleware, metrics=http_metrics, access_log=settings.access_log),
        ],
        exception_handlers={
            AnswerdeskError: handle_answerdesk_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics_registry = registry
    # Built once here: shared by every process on PostgreSQL, per process on SQLite.
    app.state.api_limiter = build_limiter(
        engine, settings.api_rate_limit, settings.api_rate_window_seconds
    )
    app.state.auth_failure_limiter = build_limiter(
        engine, settings.auth_failure_limit, settings.auth_failure_window_seconds
    )
    app.state.engine = engine
    app.state.token_cache = TokenCache()
    trusted = _trusted_proxies(settings)
    if trusted:
        # uvicorn's ASGI type names differ from Starlette's; the protocol is the same.
        proxies = ProxyHeadersMiddleware(cast(Any, app.behind_proxies), trusted_hosts=trusted)
        app.front = cast(ASGIApp, proxies)
        app.proxy_headers = ProxyHeadersMiddleware(_nothing, trusted_hosts=trusted)
    app.hot_reads = HotReads(
        engine,
        state=app.state,
        metrics=http_metrics,
        access_log=settings.access_log,
        # A few are plenty: each query is short and awaited, not held.
        postgres_connections=max(2, settings.pool_size // 2),
        # A date range up to this long is read and sent whole; longer ones stream.
        list_rows=2 * settings.stream_chunk_size,
        # SQLite: single answers kept until a commit that can change them (hot_readers.py).
        keep_bytes=settings.answer_cache_mb * 1024 * 1024,
    )
    return app


def create_app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` worker processes: settings from the environment.

    Each such process serves HTTP, so it keeps its heap for big answers as
    `serve`'s own process does (heap.py).
    """
    keep_heap_for_big_answers()
    return create_app(Settings.from_env())
