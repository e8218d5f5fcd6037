"""Health, readiness, metrics and request logs."""

from __future__ import annotations

import logging

from tests.factories import Desk


def test_healthz_and_readyz(http) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


def test_readyz_is_503_when_schema_is_behind(http, engine) -> None:
    from answerdesk.store.migrate import head_revision

    def set_version(version: str | None) -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{version}'")

    set_version("0001")
    try:
        response = http.get("/readyz")
    finally:
        set_version(head_revision())  # the PostgreSQL test database is shared
    assert response.status_code == 503
    assert response.json()["schema"] == "0001"


def test_metrics_count_requests_by_route_not_path(http, desk: Desk) -> None:
    login = desk.client_of(desk.account())
    http.get("/v1/messages", headers=login.headers)
    http.get("/v1/messages/12345", headers=login.headers)
    http.get("/no/such/path/9f8e7d")
    text = http.get("/metrics").text
    assert 'answerdesk_http_requests_total{method="GET",route="list_messages",status="200"} 1.0' in text
    assert 'route="show_message",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert "9f8e7d" not in text
    assert "answerdesk_http_request_duration_seconds_bucket" in text


def test_request_log_has_request_id_and_no_secrets(settings, engine, desk: Desk, caplog) -> None:
    from dataclasses import replace

    from starlette.testclient import TestClient

    from answerdesk.app import create_app

    login = desk.client_of(desk.account())
    app = create_app(replace(settings, access_log=True), engine=engine)
    with caplog.at_level(logging.INFO, logger="answerdesk.requests"), TestClient(app) as http:
        response = http.get("/v1/messages?from_date=01-01-2024", headers=login.headers)
    records = [r for r in caplog.records if r.name == "answerdesk.requests"]
    assert records
    record = records[-1]
    assert record.path == "/v1/messages"
    assert record.status == 200
    assert record.request_id == response.headers["x-request-id"]
    logged = " ".join(str(value) for value in vars(record).values())
    assert login.token not in logged
    assert "from_date" not in logged


def _client_seen(app, headers) -> tuple[str, str]:
    from starlette.responses import Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    seen: dict[str, str] = {}

    def echo(request):
        seen["client"] = request.client.host
        seen["scheme"] = request.url.scheme
        return Response(status_code=204)

    app.router.routes.insert(0, Route("/echo", echo))
    with TestClient(app, client=("10.0.0.5", 1234)) as client:
        client.get("/echo", headers=headers)
    return seen["client"], seen["scheme"]


def test_forwarded_headers_believed_only_from_trusted_proxies(settings, engine) -> None:
    from dataclasses import replace

    from answerdesk.app import create_app

    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    untrusting = create_app(settings, engine=engine)
    assert _client_seen(untrusting, forwarded) == ("10.0.0.5", "http")
    trusting = create_app(replace(settings, trusted_proxies="10.0.0.0/8"), engine=engine)
    assert _client_seen(trusting, forwarded) == ("203.0.113.9", "https")


def test_metrics_report_pipeline_backlog_and_process_figures(http, desk: Desk) -> None:
    account = desk.account()
    desk.take(account, phone="6175550123")
    text = http.get("/metrics").text
    assert 'answerdesk_pipeline_backlog{state="due"} 1.0' in text
    assert "answerdesk_pipeline_dead_letters 0.0" in text
    assert "answerdesk_pipeline_carried_total" in text


def test_no_request_log_lines_unless_asked(http, desk: Desk, caplog) -> None:
    login = desk.client_of(desk.account())
    with caplog.at_level(logging.INFO, logger="answerdesk.requests"):
        http.get("/v1/messages", headers=login.headers)
    assert not [r for r in caplog.records if r.name == "answerdesk.requests"]


def test_metrics_count_carried_messages(http, desk: Desk, engine) -> None:
    from answerdesk.sync.metrics import CARRIED
    from answerdesk.sync.worker import run_worker

    before = CARRIED._value.get()
    desk.take(desk.account(), phone="6175550123")
    run_worker(engine, once=True)
    assert CARRIED._value.get() == before + 1
    assert "answerdesk_pipeline_carried_total" in http.get("/metrics").text
