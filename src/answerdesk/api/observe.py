"""Per-request metrics and request log lines, as one pure ASGI middleware.

Routes are labelled by their endpoint's name, never by the raw path, so the
number of metric series stays bounded whatever URLs clients make up.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from answerdesk.logs import current_request_id

log = logging.getLogger("answerdesk.requests")


class HttpMetrics:
    """The HTTP metric families of one app, in its own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "answerdesk_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "answerdesk_http_request_duration_seconds",
            "Time to the end of the response, by route.",
            ["route", "method"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60),
        )


def log_request(
    method: str, path: str, status: int, elapsed: float, request_id: str | None
) -> None:
    """The access log line of one request (path without its query string)."""
    if log.isEnabledFor(logging.INFO):
        log.info(
            "request",
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "request_id": request_id,
            },
        )


class ObserveMiddleware:
    """Count, time and log every HTTP request (path without its query string)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, *, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        token = current_request_id.set(scope.get("state", {}).get("request_id"))

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            elapsed = time.perf_counter() - started
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(elapsed)
            if self.access_log:
                log_request(method, scope["path"], status, elapsed, current_request_id.get())
            current_request_id.reset(token)
