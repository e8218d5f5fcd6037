"""What fuzzing found in code other engineers own, held as strict xfails until fixed.

Each test states the contract's answer; it fails today (xfail, strict), so
the day the owner fixes the bug it passes, the suite turns red, and whoever
fixed it removes the mark (and, for the NUL cases, re-enables NUL in
tests/schemathesis.toml). Found by Schemathesis against the live server and
by following up on what it showed.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from tests.factories import Desk
from tests.openapi_check import assert_documented
from tests.openapi_support import ACCOUNT_NUMBER, Population, populate

TAKE = "/agent/v1/accounts/{number}/messages"


@pytest.fixture
def world(engine: Engine, desk: Desk) -> Population:
    return populate(engine, desk)


def _on_postgres(request: pytest.FixtureRequest, database_url: str, reason: str) -> None:
    if database_url.startswith("postgresql"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize("kind", ["leads", "contacts"])
@pytest.mark.parametrize("name", ["phone", "email"])
def test_sell_filter_with_nul_is_not_a_server_error(
    http: TestClient,
    world: Population,
    request: pytest.FixtureRequest,
    database_url: str,
    kind: str,
    name: str,
) -> None:
    response = http.get(f"/v2/{kind}?{name}=a%00b", headers=world.client.bearer)
    assert response.status_code in (200, 400), response.text
    assert_documented(response, "GET", f"/v2/{kind}")


def test_taking_a_message_with_nul_is_not_a_server_error(
    http: TestClient,
    world: Population,
    request: pytest.FixtureRequest,
    database_url: str,
) -> None:
    response = http.post(
        TAKE.format(number=ACCOUNT_NUMBER), json={"content": "a\u0000b"}, headers=world.agent.bearer
    )
    assert response.status_code == 422, response.text
    assert_documented(response, "POST", TAKE)


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-10:00"])
def test_an_instant_outside_the_calendar_is_a_422(
    http: TestClient, world: Population, created_at: str
) -> None:
    response = http.post(
        TAKE.format(number=ACCOUNT_NUMBER),
        json={"content": "x", "created_at": created_at},
        headers=world.agent.bearer,
    )
    assert response.status_code == 422, response.text


def test_an_early_year_renders_as_the_contract_says(http: TestClient, world: Population) -> None:
    response = http.post(
        TAKE.format(number=ACCOUNT_NUMBER),
        json={"content": "x", "created_at": "0005-01-01T00:00:00"},
        headers=world.agent.bearer,
    )
    assert response.status_code == 201, response.text
    assert_documented(response, "POST", TAKE)


def test_head_of_a_cut_list_has_the_link_header_get_has(
    http: TestClient, world: Population
) -> None:
    url = "/v1/messages?limit=1"
    got = http.get(url, headers=world.client.headers)
    head = http.head(url, headers=world.client.headers)
    assert "link" in got.headers
    assert head.headers.get("link") == got.headers["link"]


@pytest.mark.parametrize(
    "query",
    ["ids=%D9%A3", "page=%D9%A2", "per_page=%D9%A2", "resource_type=lead&resource_id=%D9%A1"],
)
def test_sell_parameters_take_ascii_digits_only(
    http: TestClient, world: Population, query: str
) -> None:
    response = http.get(f"/v2/text_messages?{query}", headers=world.client.bearer)
    assert response.status_code == 400, response.text
