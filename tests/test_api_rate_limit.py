"""CONTRACT §1: rate limit exceeded is a 429 with Retry-After, in the API's envelope."""

from __future__ import annotations

from dataclasses import replace

from starlette.testclient import TestClient

from answerdesk.app import create_app
from tests.factories import Desk


def test_limit_plus_one_is_429_per_token(settings, engine, desk: Desk) -> None:
    app = create_app(replace(settings, api_rate_limit=3, api_rate_window_seconds=60), engine=engine)
    account = desk.account()
    login = desk.client_of(account)
    other = desk.client_of(account)
    with TestClient(app) as http:
        for _ in range(3):
            assert http.get("/v1/messages", headers=login.headers).status_code == 200
        refused = http.get("/v2/messages", headers=login.headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/json; charset=utf-8"
        assert 1 <= int(refused.headers["retry-after"]) <= 120  # sliding: up to two windows
        assert refused.json() == {"success": False, "info": "Rate limit exceeded", "data": {}}
        # Another token of the same account has its own budget.
        assert http.get("/v1/messages", headers=other.headers).status_code == 200
        # Bad credentials still answer as bad credentials, not as rate limited.
        assert http.get("/v1/messages").status_code == 404
