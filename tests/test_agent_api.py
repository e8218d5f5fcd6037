"""`POST /agent/v1/accounts/<number>/messages`: taking messages over HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from answerdesk.store.tables import messages
from tests.factories import Desk


def count_messages(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()


def test_agent_takes_a_message_and_client_reads_it(http, desk: Desk) -> None:
    account = desk.account(fields=[("Reason", True)])
    client = desk.client_of(account, name="Carla")
    agent = desk.staff("agent")
    response = http.post(
        f"/agent/v1/accounts/{account.number}/messages",
        headers=agent.bearer,
        json={
            "content": "Call back",
            "phone": "617-555-0123",
            "for": "carla",
            "fields": {"Reason": "Quote"},
            "is_emergency": True,
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["resource"] == "Carla"
    assert created["phone"] == "+16175550123"
    assert created["is_emergency"] is True
    shown = http.get(f"/v1/messages/{created['message_id']}", headers=client.headers)
    assert shown.content == response.content


def test_admin_token_may_take_messages(http, desk: Desk) -> None:
    account = desk.account()
    admin = desk.staff("admin")
    response = http.post(
        f"/agent/v1/accounts/{account.number}/messages", headers=admin.bearer, json={"content": "x"}
    )
    assert response.status_code == 201


def test_every_bad_field_is_named_and_nothing_is_stored(http, desk: Desk, engine) -> None:
    account = desk.account(fields=[("Reason", True)])
    agent = desk.staff()
    response = http.post(
        f"/agent/v1/accounts/{account.number}/messages",
        headers=agent.bearer,
        json={
            "content": " ",
            "is_emergency": "yes",
            "fields": {"Nope": "x"},
            "created_at": "yesterday",
            "colour": "red",
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False
    assert set(body["data"]["errors"]) == {
        "content",
        "is_emergency",
        "fields.Nope",
        "fields.Reason",
        "created_at",
        "colour",
    }
    assert count_messages(engine) == 0


def test_spring_forward_gap_is_an_error_and_fold_means_first(http, desk: Desk) -> None:
    account = desk.account(timezone="America/New_York")
    agent = desk.staff()
    url = f"/agent/v1/accounts/{account.number}/messages"
    gap = http.post(
        url, headers=agent.bearer, json={"content": "x", "created_at": "2024-03-10T02:30:00"}
    )
    assert gap.status_code == 422
    assert "created_at" in gap.json()["data"]["errors"]
    fold = http.post(
        url, headers=agent.bearer, json={"content": "x", "created_at": "2024-11-03T01:30:00"}
    )
    assert fold.json()["utc_created_at"] == "2024-11-03T05:30:00Z"


def test_idempotency_key_returns_the_first_result(http, desk: Desk, engine) -> None:
    account = desk.account()
    agent = desk.staff()
    url = f"/agent/v1/accounts/{account.number}/messages"
    headers = {**agent.bearer, "Idempotency-Key": "call-7781"}
    first = http.post(url, headers=headers, json={"content": "once"})
    again = http.post(url, headers=headers, json={"content": "once"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert count_messages(engine) == 1
    different = http.post(url, headers=headers, json={"content": "twice"})
    assert different.status_code == 409
    assert count_messages(engine) == 1
    # The same key from another agent is another request.
    other = desk.staff()
    assert (
        http.post(
            url, headers={**other.bearer, "Idempotency-Key": "call-7781"}, json={"content": "once"}
        ).status_code
        == 201
    )
    assert count_messages(engine) == 2


def test_client_token_is_refused_and_bad_tokens_are_401(http, desk: Desk, engine) -> None:
    account = desk.account()
    client = desk.client_of(account)
    url = f"/agent/v1/accounts/{account.number}/messages"
    refused = http.post(url, headers=client.bearer, json={"content": "x"})
    assert refused.status_code == 403
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"X-API-EMAIL": client.user.email, "X-API-TOKEN": client.token},
    ):
        response = http.post(url, headers=headers, json={"content": "x"})
        assert response.status_code == 401
        assert response.json() == {"success": False, "info": "Invalid token", "data": {}}
    assert count_messages(engine) == 0


def test_unknown_account_and_bad_bodies(http, desk: Desk, engine) -> None:
    desk.account(number="777")
    agent = desk.staff()
    missing = http.post(
        "/agent/v1/accounts/999/messages", headers=agent.bearer, json={"content": "x"}
    )
    assert missing.status_code == 404
    assert missing.json()["info"] == "Account not found"
    url = "/agent/v1/accounts/777/messages"
    not_json = http.post(url, headers=agent.bearer, content=b"{nope")
    assert not_json.status_code == 400
    assert not_json.json()["info"] == "Invalid body: expected a JSON object"
    array = http.post(url, headers=agent.bearer, json=[{"content": "x"}])
    assert array.status_code == 422
    huge = http.post(url, headers=agent.bearer, content=b"[" + b"1," * 600_000 + b"1]")
    assert huge.status_code == 413
    assert http.get(url, headers=agent.bearer).status_code == 405
    assert count_messages(engine) == 0


def test_overlong_values_are_422_not_500(http, desk: Desk, engine) -> None:
    account = desk.account()
    agent = desk.staff()
    response = http.post(
        f"/agent/v1/accounts/{account.number}/messages",
        headers=agent.bearer,
        json={
            "content": "x",
            "phone": "1" * 41,
            "caller_id": "2" * 41,
            "first_name": "a" * 201,
            "delivered_to": "d" * 321,
        },
    )
    assert response.status_code == 422
    assert set(response.json()["data"]["errors"]) == {
        "phone",
        "caller_id",
        "first_name",
        "delivered_to",
    }
    assert count_messages(engine) == 0
