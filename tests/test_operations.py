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
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    response = http.get("/readyz")
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


def test_request_log_has_request_id_and_no_secrets(http, desk: Desk, caplog) -> None:
    login = desk.client_of(desk.account())
    with caplog.at_level(logging.INFO, logger="answerdesk.requests"):
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
