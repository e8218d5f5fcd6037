"""`/openapi.json` describes the Messages and agent APIs exactly (CONTRACT §1, docs/api.md).

The document is validated as OpenAPI 3.1; then real answers of a populated
server, on SQLite and PostgreSQL, are held to it: every documented success
and every error of CONTRACT §1, bodies against the schemas with
`additionalProperties: false`, headers against theirs. The Sell API's half
is in test_openapi_sell.py; Schemathesis fuzzes all of it in
test_schemathesis.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate as validate_spec
from sqlalchemy.engine import Engine
from starlette.routing import Route
from starlette.testclient import TestClient

from answerdesk.api.openapi import build_document, document
from tests.factories import Desk
from tests.openapi_check import assert_documented, resolve
from tests.openapi_support import ACCOUNT_NUMBER, Population, populate

VERSIONS = ["v1", "v2"]
LIST = "/{version}/messages"
SINGLE = "/{version}/messages/{{message_id}}"
TAKE = "/agent/v1/accounts/{number}/messages"
#: Starlette answers HEAD on every GET route; the contract promises it only
#: for the Messages API and the probes, so the Sell API documents GET alone.
SELL_PREFIXES = ("/v2/text_messages", "/v2/leads", "/v2/contacts")
NOT_API = {"/metrics", "/openapi.json", "/postman.json"}


@pytest.fixture
def world(engine: Engine, desk: Desk) -> Population:
    return populate(engine, desk)


def test_document_is_valid_openapi_3_1() -> None:
    validate_spec(build_document())
    assert build_document()["openapi"] == "3.1.0"


def test_served_document_is_the_built_one(http: TestClient) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == document()


def _api_routes(app: Any) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for route in app.routes:
        if not isinstance(route, Route) or route.path in NOT_API:
            continue
        if route.path.startswith(("/v1/", "/v2/", "/agent/", "/healthz", "/readyz")):
            methods = set(route.methods or ())
            if route.path.startswith(SELL_PREFIXES):
                methods.discard("HEAD")
            found[route.path] = methods
    return found


def test_every_api_route_is_documented_with_its_methods(app: Any) -> None:
    documented = {
        path: {method.upper() for method in item if method != "parameters"}
        for path, item in document()["paths"].items()
    }
    assert documented == _api_routes(app)


def test_every_answer_has_a_request_id_and_every_operation_its_errors() -> None:
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            answers = {status: resolve(answer) for status, answer in operation["responses"].items()}
            assert "500" in answers, (method, path)
            if operation["security"]:
                assert "429" in answers, (method, path)
            for status, answer in answers.items():
                assert "X-Request-Id" in answer["headers"], (method, path, status)


@pytest.mark.parametrize("version", VERSIONS)
def test_message_lists_and_singles_match(http: TestClient, world: Population, version: str) -> None:
    headers = world.client.headers
    path = LIST.format(version=version)
    body = assert_documented(http.get(f"/{version}/messages", headers=headers), "GET", path)
    assert [item["message_id"] for item in body] == [*world.message_ids, body[-1]["message_id"]]
    flat = [key for key in body[0] if key.startswith("content_with_additional_details_table__")]
    assert flat, "custom fields are part of what the schema is held to"
    ranged = http.get(
        f"/{version}/messages?from_date=03-15-2024&to_date=03-16-2024", headers=headers
    )
    assert len(assert_documented(ranged, "GET", path)) == 2
    paged = http.get(f"/{version}/messages?after_id=0&limit=2", headers=headers)
    assert len(assert_documented(paged, "GET", path)) == 2
    assert 'rel="next"' in paged.headers["link"]
    single = SINGLE.format(version=version)
    for message_id in world.message_ids:
        answer = http.get(f"/{version}/messages/{message_id}", headers=headers)
        assert assert_documented(answer, "GET", single)["message_id"] == message_id
    assert_documented(http.head(f"/{version}/messages", headers=headers), "HEAD", path)
    assert_documented(http.head(f"/{version}/messages/1", headers=headers), "HEAD", single)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "query",
    [
        "from_date=2024-03-15",
        "from_date=",
        "to_date=02-30-2024",
        "from_date=13-01-2024",
        "from_date=03-20-2024&to_date=03-10-2024",
        "from_date=03-15-2024&from_date=03-16-2024",
        "after_id=-1",
        "after_id=x",
        "limit=0",
        "limit=1001",
        "limit=1.5",
        # ASCII digits only, and no trailing newline (a regression: `\d` and `$`).
        "from_date=%D9%A0%D9%A3-%D9%A1%D9%A5-%D9%A2%D9%A0%D9%A2%D9%A4",
        "from_date=03-15-2024%0A",
        "limit=5%0A",
        "after_id=%D9%A3",
    ],
)
def test_bad_parameters_are_documented_400s(
    http: TestClient, world: Population, version: str, query: str
) -> None:
    response = http.get(f"/{version}/messages?{query}", headers=world.client.headers)
    assert response.status_code == 400
    body = assert_documented(response, "GET", LIST.format(version=version))
    assert body["info"].startswith("Invalid ")


@pytest.mark.parametrize("version", VERSIONS)
def test_credential_and_not_found_errors_match(
    http: TestClient, world: Population, version: str
) -> None:
    single = SINGLE.format(version=version)
    causes: list[dict[str, str]] = [
        {},
        {"X-API-EMAIL": world.client.user.email, "X-API-TOKEN": world.other_client.token},
        {"X-API-EMAIL": world.agent.user.email, "X-API-TOKEN": world.agent.token},
    ]
    for headers in causes:
        for method in ("GET", "HEAD"):
            listing = http.request(method, f"/{version}/messages", headers=headers)
            assert listing.status_code == 404
            assert_documented(listing, method, LIST.format(version=version))
            one = http.request(method, f"/{version}/messages/1", headers=headers)
            assert one.status_code == 404
            assert_documented(one, method, single)
    query_token = http.get(f"/{version}/messages?token=x", headers=world.client.headers)
    assert assert_documented(query_token, "GET", LIST.format(version=version))["info"] == (
        "Invalid token"
    )
    for message_id in (world.other_message_id, 999999, "abc", "1%0A", "%D9%A1"):
        response = http.get(f"/{version}/messages/{message_id}", headers=world.client.headers)
        assert response.status_code == 404, message_id
        assert assert_documented(response, "GET", single)["info"] == "Message not found"


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_path_and_wrong_method_match_their_components(
    http: TestClient, world: Population, version: str
) -> None:
    unknown = http.get(f"/{version}/nothing-here", headers=world.client.headers)
    assert unknown.status_code == 404
    assert_documented(unknown, "GET", component="MessagesUnknownPath")
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        wrong = http.request(method, f"/{version}/messages", headers=world.client.headers)
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "GET, HEAD"
        assert_documented(wrong, method, component="MessagesMethodNotAllowed")


def test_agent_answers_match(http: TestClient, world: Population) -> None:
    url = TAKE.format(number=ACCOUNT_NUMBER)
    bearer = world.agent.bearer
    body = {"content": "Hello", "phone": "617 555 0123", "fields": {"Best time": "noon"}}
    keyed = {**bearer, "Idempotency-Key": "take-1"}
    created = http.post(url, json=body, headers=keyed)
    assert created.status_code == 201
    message = assert_documented(created, "POST", TAKE)
    assert created.headers["location"] == f"/v1/messages/{message['message_id']}"
    replayed = http.post(url, json=body, headers=keyed)
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert_documented(replayed, "POST", TAKE)
    answers = {
        409: http.post(url, json={"content": "Other"}, headers=keyed),
        422: http.post(url, json={"fields": {"Nope": "x"}, "extra": 1}, headers=bearer),
        401: http.post(url, json=body),
        403: http.post(url, json=body, headers=world.client.bearer),
        404: http.post(TAKE.format(number="nope"), json=body, headers=bearer),
        400: http.post(url, content=b"{not json", headers=bearer),
    }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert_documented(response, "POST", TAKE)
    errors = answers[422].json()["data"]["errors"]
    assert set(errors) == {"content", "extra", "fields.Nope"}
    assert answers[401].headers["www-authenticate"] == "Bearer"
    empty_key = http.post(url, json=body, headers={**bearer, "Idempotency-Key": ""})
    assert empty_key.status_code == 400
    assert_documented(empty_key, "POST", TAKE)
    too_large = http.post(url, content=b" " * 1_000_001, headers=bearer)
    assert too_large.status_code == 413
    assert_documented(too_large, "POST", TAKE)


def test_agent_account_number_with_nul_is_not_found(http: TestClient, world: Population) -> None:
    """Regression: PostgreSQL cannot compare a NUL; this was a 500 there."""
    response = http.post(
        TAKE.format(number="100%0042"), json={"content": "x"}, headers=world.agent.bearer
    )
    assert response.status_code == 404
    assert assert_documented(response, "POST", TAKE)["info"] == "Account not found"
