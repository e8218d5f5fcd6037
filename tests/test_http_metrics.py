"""The HTTP metrics, kept as plain numbers, export what prometheus-client's own would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from answerdesk.api.observe import LATENCY_BUCKETS, HttpMetrics

OBSERVATIONS = [
    ("list_messages", "GET", "200", 0.0004),
    ("list_messages", "GET", "200", 0.001),  # exactly on a bound: counted in it (le)
    ("list_messages", "GET", "200", 0.0011),
    ("show_message", "GET", "404", 0.3),
    ("show_message", "GET", "200", 75.0),  # beyond the last bound: +Inf only
    ("list_messages", "HEAD", "200", 0.02),
]


def _samples(registry: CollectorRegistry) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    found = set()
    for family in registry.collect():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue  # prometheus-client's creation times; not exported by ours
            found.add((sample.name, tuple(sorted(sample.labels.items())), round(sample.value, 9)))
    return found


def test_same_samples_as_prometheus_client() -> None:
    ours_registry = CollectorRegistry()
    ours = HttpMetrics(ours_registry)
    theirs_registry = CollectorRegistry()
    requests = Counter(
        "answerdesk_http_requests", "x", ["route", "method", "status"], registry=theirs_registry
    )
    latency = Histogram(
        "answerdesk_http_request_duration_seconds",
        "x",
        ["route", "method"],
        registry=theirs_registry,
        buckets=LATENCY_BUCKETS,
    )
    for route, method, status, elapsed in OBSERVATIONS:
        ours.record(route, method, status, elapsed)
        requests.labels(route, method, status).inc()
        latency.labels(route, method).observe(elapsed)
    assert _samples(ours_registry) == _samples(theirs_registry)
    assert _text(ours_registry) == _text(theirs_registry)


def _text(registry: CollectorRegistry) -> list[str]:
    """The exposition's lines without HELP texts and creation times."""
    return [
        line
        for line in generate_latest(registry).decode().splitlines()
        if "_created" not in line and not line.startswith("# HELP")
    ]


def test_bound_series_add_to_the_same_numbers() -> None:
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    count = metrics.count("show_message", "GET", "200")
    latency = metrics.latency("show_message", "GET")
    for _ in range(3):
        count.add()
        latency.observe(0.002)
    metrics.record("show_message", "GET", "200", 0.002)
    text = generate_latest(registry).decode()
    assert 'answerdesk_http_requests_total{method="GET",route="show_message",status="200"} 4.0' in text
    assert (
        'answerdesk_http_request_duration_seconds_bucket{le="0.0025",method="GET",'
        'route="show_message"} 4.0' in text
    )
    assert 'answerdesk_http_request_duration_seconds_count{method="GET",route="show_message"} 4.0' in text
    assert "# TYPE answerdesk_http_requests_total counter" in text
