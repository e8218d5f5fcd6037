"""Per-request metrics and request log lines, as one pure ASGI middleware.

Routes are labelled by their endpoint's name, never by the raw path, so the
number of metric series stays bounded whatever URLs clients make up.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from answerdesk.logs import current_request_id

log = logging.getLogger("answerdesk.requests")


#: Latency histogram bounds, in seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60)
#: ... as the exposition names them (`le` labels), +Inf last.
_BOUND_NAMES = (*(repr(float(bound)) for bound in LATENCY_BUCKETS), "+Inf")


class Count:
    """One counter series: a plain integer."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def add(self) -> None:
        self.value += 1


class Latency:
    """One histogram series: a count per bucket (not cumulative) and the sum."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        # bisect_left: a value equal to a bound belongs to it (Prometheus's `le`).
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds


class HttpMetrics:
    """The HTTP metric families of one app, kept as plain numbers, exported on scrape.

    prometheus-client's Counter and Histogram take a lock and walk the
    buckets on every call: issue 7's profile found them at ~10% of a single
    message's CPU. Every update here happens on the server's event loop (the
    middleware below and the fast path), one at a time, so plain numbers
    need no lock; the exported text is the same (tests/test_http_metrics.py).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counts: dict[tuple[str, str, str], Count] = {}
        self._latencies: dict[tuple[str, str], Latency] = {}
        registry.register(self)

    def count(self, route: str, method: str, status: str) -> Count:
        """The counter of one (route, method, status), made on first use."""
        key = (route, method, status)
        found = self._counts.get(key)
        if found is None:
            found = self._counts.setdefault(key, Count())
        return found

    def latency(self, route: str, method: str) -> Latency:
        """The latency histogram of one (route, method), made on first use."""
        key = (route, method)
        found = self._latencies.get(key)
        if found is None:
            found = self._latencies.setdefault(key, Latency())
        return found

    def record(self, route: str, method: str, status: str, seconds: float) -> None:
        """Count one answered request and its time to the end of the response."""
        self.count(route, method, status).add()
        self.latency(route, method).observe(seconds)

    def collect(self) -> Iterator[Metric]:
        """The two families in Prometheus's form (called by the registry on scrape)."""
        requests = CounterMetricFamily(
            "answerdesk_http_requests",
            "HTTP requests answered, by route, method and status.",
            labels=["route", "method", "status"],
        )
        for (route, method, status), count in list(self._counts.items()):
            requests.add_metric([route, method, status], count.value)
        yield requests
        latency = HistogramMetricFamily(
            "answerdesk_http_request_duration_seconds",
            "Time to the end of the response, by route.",
            labels=["route", "method"],
        )
        for (route, method), series in list(self._latencies.items()):
            cumulative = accumulate(series.buckets)
            buckets = list(zip(_BOUND_NAMES, cumulative, strict=True))
            latency.add_metric([route, method], buckets, series.total)
        yield latency


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
            self.metrics.record(route, method, str(status), elapsed)
            if self.access_log:
                log_request(method, scope["path"], status, elapsed, current_request_id.get())
            current_request_id.reset(token)
