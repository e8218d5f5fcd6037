"""Rate limits at limit + 1: per address on failed token checks, per token, per sign-in address.

Per token is held by tests/test_api_rate_limit.py (Messages envelope) and
here in Sell's; per address on failed API authentication is new
(`ANSWERDESK_AUTH_FAILURE_LIMIT`); console sign-ins are counted in the
database, so two app instances (two processes) share one budget.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.app import create_app
from answerdesk.config import Settings
from tests.console.conftest import PASSWORD, Console
from tests.factories import Desk

LIMIT = 3
RATE_LIMITED = {"success": False, "info": "Rate limit exceeded", "data": {}}


def _client(app: Any, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


def _retry_after(response: Any) -> int:
    seconds = int(response.headers["retry-after"])
    assert seconds >= 1
    return seconds


@pytest.mark.parametrize("api", ["messages", "sell", "agent"])
def test_failed_token_checks_are_limited_per_address(
    settings: Settings, engine: Engine, desk: Desk, api: str
) -> None:
    app = create_app(replace(settings, auth_failure_limit=LIMIT), engine=engine)
    account = desk.account()
    client = desk.client_of(account)
    agent = desk.staff("agent")
    wrong = client.token[:-6] + "000000"

    def ask(http: TestClient, token: str) -> Any:
        if api == "messages":
            headers = {"X-API-EMAIL": client.user.email, "X-API-TOKEN": token}
            return http.get("/v1/messages", headers=headers)
        if api == "sell":
            return http.get("/v2/text_messages", headers={"Authorization": f"Bearer {token}"})
        return http.post(
            f"/agent/v1/accounts/{account.number}/messages",
            json={"content": "hello"},
            headers={"Authorization": f"Bearer {token}"},
        )

    good = agent.token if api == "agent" else client.token
    attacker, neighbour = _client(app, "203.0.113.7"), _client(app, "198.51.100.2")
    for _ in range(5):  # successes are never counted
        assert ask(attacker, good).status_code in (200, 201)
    for _ in range(LIMIT):
        assert ask(attacker, wrong).status_code in (401, 404)
    for token in (wrong, good):  # refused before any token is looked at
        refused = ask(attacker, token)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/json; charset=utf-8"
        _retry_after(refused)
        if api == "sell":
            body = refused.json()
            assert body["errors"][0]["error"]["code"] == "rate_limit_exceeded"
            assert body["meta"]["http_status"] == "429 Too Many Requests"
        else:
            assert refused.json() == RATE_LIMITED
    assert ask(neighbour, good).status_code in (200, 201)  # another address is not affected


def test_auth_failure_limit_zero_turns_it_off(settings: Settings, engine: Engine) -> None:
    app = create_app(replace(settings, auth_failure_limit=0), engine=engine)
    with _client(app, "203.0.113.8") as http:
        for _ in range(60):
            assert http.get("/v1/messages").status_code == 404


def test_sell_api_per_token_limit_speaks_sells_envelope(
    settings: Settings, engine: Engine, desk: Desk
) -> None:
    app = create_app(replace(settings, api_rate_limit=LIMIT), engine=engine)
    login = desk.client_of(desk.account())
    with _client(app, "192.0.2.1") as http:
        for _ in range(LIMIT):
            assert http.get("/v2/leads", headers=login.bearer).status_code == 200
        refused = http.get("/v2/contacts", headers=login.bearer)
    assert refused.status_code == 429
    _retry_after(refused)
    assert refused.json()["errors"][0]["error"]["code"] == "rate_limit_exceeded"


def test_sign_in_limit_plus_one_is_429_across_two_app_instances(
    settings: Settings, engine: Engine, desk: Desk
) -> None:
    """Sign-in failures are rows in the database: a second process sees the first's."""
    limited = replace(settings, sign_in_limit_per_address=LIMIT)
    first, second = (Console(create_app(limited, engine=engine)) for _ in range(2))
    agent = desk.user(role="agent", password=PASSWORD)
    for serial in range(LIMIT):
        app = (first, second)[serial % 2]
        response = app.browser().post(
            "/console/sign-in", {"email": f"guess{serial}@example.com", "password": "x" * 12}
        )
        assert response.status_code == 422
    for console in (first, second):
        refused = console.browser().post(
            "/console/sign-in", {"email": agent.email, "password": PASSWORD}
        )
        assert refused.status_code == 429
        assert "Too many attempts" in refused.text
        _retry_after(refused)
