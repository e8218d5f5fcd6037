"""`/openapi.json` describes the Sell-compatible API, the probes and the 429/500 answers exactly.

Real answers of a populated server (text messages carried into the CRM,
leads, a contact, a deal) on SQLite and PostgreSQL, held to the document.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.api import messages_api, sell
from answerdesk.app import create_app
from answerdesk.config import Settings
from tests.factories import Desk
from tests.openapi_check import assert_documented
from tests.openapi_support import Population, populate

TEXTS = "/v2/text_messages"
ONE = "{prefix}/{{id}}"


@pytest.fixture
def world(engine: Engine, desk: Desk) -> Population:
    return populate(engine, desk)


def _ok(http: TestClient, world: Population, url: str, path: str) -> Any:
    response = http.get(url, headers=world.client.bearer)
    assert response.status_code == 200, response.text
    return assert_documented(response, "GET", path)


def test_text_messages_match(http: TestClient, world: Population) -> None:
    body = _ok(http, world, TEXTS, TEXTS)
    assert {item["data"]["id"] for item in body["items"]} == set(world.text_message_ids)
    assert {item["data"]["resource_type"] for item in body["items"]} == {"lead", "contact", "none"}
    assert any(item["data"]["associated_deal_ids"] for item in body["items"])
    paged = _ok(http, world, f"{TEXTS}?per_page=1&page=2&sort_by=id:asc", TEXTS)
    assert set(paged["meta"]["links"]) == {"self", "first_page", "prev_page", "next_page"}
    past_end = _ok(http, world, f"{TEXTS}.json?page=1000", f"{TEXTS}.json")
    assert past_end["items"] == []
    lead = world.lead_ids[0]
    _ok(http, world, f"{TEXTS}?resource_type=lead&resource_id={lead}&ids=1,%202", TEXTS)
    for text_id in world.text_message_ids:
        one = _ok(http, world, f"{TEXTS}/{text_id}", ONE.format(prefix=TEXTS))
        assert one["data"]["send_at"] == one["data"]["sent_at"]


@pytest.mark.parametrize("kind", ["leads", "contacts"])
def test_leads_and_contacts_match(http: TestClient, world: Population, kind: str) -> None:
    prefix = f"/v2/{kind}"
    body = _ok(http, world, prefix, prefix)
    assert body["items"]
    _ok(http, world, f"{prefix}?sort_by=updated_at:desc&phone=617-555-0777", prefix)
    _ok(http, world, f"{prefix}?email=BUYER@lone.example&ids=1,2,3", prefix)
    first = body["items"][0]["data"]["id"]
    _ok(http, world, f"{prefix}/{first}", ONE.format(prefix=prefix))


@pytest.mark.parametrize(
    ("url", "path", "status"),
    [
        (f"{TEXTS}?page=0", TEXTS, 400),
        (f"{TEXTS}?per_page=101", TEXTS, 400),
        (f"{TEXTS}?ids=1,x", TEXTS, 400),
        (f"{TEXTS}?sort_by=created_at", TEXTS, 400),
        (f"{TEXTS}?resource_type=lead", TEXTS, 400),
        (f"{TEXTS}?resource_id=1", TEXTS, 400),
        ("/v2/leads?phone=", "/v2/leads", 400),
        ("/v2/contacts?sort_by=name", "/v2/contacts", 400),
        (f"{TEXTS}/999999", ONE.format(prefix=TEXTS), 404),
        (f"{TEXTS}/abc", ONE.format(prefix=TEXTS), 404),
        (f"{TEXTS}/%D9%A1", ONE.format(prefix=TEXTS), 404),
        ("/v2/leads/999999", "/v2/leads/{id}", 404),
        ("/v2/contacts/x", "/v2/contacts/{id}", 404),
    ],
)
def test_sell_errors_match(
    http: TestClient, world: Population, url: str, path: str, status: int
) -> None:
    response = http.get(url, headers=world.client.bearer)
    assert response.status_code == status, response.text
    body = assert_documented(response, "GET", path)
    assert body["meta"]["logref"] == response.headers["x-request-id"]


def test_sell_credentials_and_routing_errors_match(http: TestClient, world: Population) -> None:
    other = http.get(f"{TEXTS}/{world.text_message_ids[0]}", headers=world.other_client.bearer)
    assert other.status_code == 404
    assert_documented(other, "GET", ONE.format(prefix=TEXTS))
    for headers in ({}, world.agent.bearer, {"Authorization": "Bearer nope"}):
        for url, path in ((TEXTS, TEXTS), ("/v2/leads/1", "/v2/leads/{id}")):
            response = http.get(url, headers=headers)
            assert response.status_code == 401
            assert_documented(response, "GET", path)
    unknown = http.get("/v2/deals", headers=world.client.bearer)
    assert unknown.status_code == 404
    assert_documented(unknown, "GET", component="SellIncorrectPath")
    wrong = http.post(TEXTS, headers=world.client.bearer)
    assert wrong.status_code == 405
    assert_documented(wrong, "POST", component="SellMethodNotAllowed")


def test_probes_match(http: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        assert_documented(http.get(path), "GET", path)
        assert_documented(http.head(path), "HEAD", path)


def test_rate_limited_answers_match(engine: Engine, settings: Settings, desk: Desk) -> None:
    world = populate(engine, desk)
    one_a_minute = Settings(database_url=settings.database_url, api_rate_limit=1)
    cases = [
        ("GET", "/v1/messages", "/v1/messages", False),
        ("HEAD", "/v2/messages/1", "/v2/messages/{message_id}", False),
        ("GET", TEXTS, TEXTS, True),
        ("GET", "/v2/contacts/1", "/v2/contacts/{id}", True),
    ]
    with TestClient(create_app(one_a_minute, engine=engine)) as http:
        for method, url, path, bearer in cases:
            login = desk.client_of(world.account)  # the limit is per token: a fresh window
            headers = login.bearer if bearer else login.headers
            http.request(method, url, headers=headers)
            response = http.request(method, url, headers=headers)
            assert response.status_code == 429
            assert_documented(response, method, path)
        take = f"/agent/v1/accounts/{world.account.number}/messages"
        http.post(take, json={"content": "x"}, headers=world.agent.bearer)
        response = http.post(take, json={"content": "x"}, headers=world.agent.bearer)
        assert response.status_code == 429
        assert_documented(response, "POST", "/agent/v1/accounts/{number}/messages")


def test_unexpected_errors_carry_the_request_id(
    http: TestClient, world: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: Starlette answers a crash outside the middleware, so the 500 lacked X-Request-Id."""

    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(sell.text_messages, "api_page", crash)
    monkeypatch.setattr(messages_api, "parse_list_params", crash)
    sold = http.get(TEXTS, headers=world.client.bearer)
    assert sold.status_code == 500
    body = assert_documented(sold, "GET", TEXTS)
    assert body["meta"]["logref"] == sold.headers["x-request-id"]
    listed = http.get(
        "/v1/messages", headers={**world.client.headers, "X-Request-Id": "trace-0001"}
    )
    assert listed.status_code == 500
    assert listed.headers["x-request-id"] == "trace-0001"
    assert assert_documented(listed, "GET", "/v1/messages")["info"] == "Internal error"
