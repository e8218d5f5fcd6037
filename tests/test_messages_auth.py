"""CONTRACT §1 authentication: every failure answers with the same bytes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from answerdesk import clock
from answerdesk.store.engine import write_transaction
from answerdesk.tokens import revoke_token, verify_token
from tests.factories import Desk

INVALID = b'{"success": false, "info": "Invalid token", "data": {}}'
VERSIONS = ["v1", "v2"]


def assert_invalid_token(response) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == INVALID
    assert response.headers["x-request-id"]


@pytest.fixture
def setup(desk: Desk):
    account = desk.account()
    login = desk.client_of(account)
    message_id = desk.take(account)
    return desk, account, login, message_id


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", ["/messages", "/messages/1", "/messages?from_date=01-01-2024"])
def test_every_failure_cause_gives_identical_bytes(http, setup, version, path) -> None:
    desk, account, login, _ = setup
    other = desk.client_of(desk.account())
    agent = desk.staff("agent")
    revoked = desk.client_of(account)
    with write_transaction(desk.engine) as connection:
        token_id = verify_token(connection, revoked.token).token_id
        revoke_token(connection, token_id=token_id)
    email, token = login.user.email, login.token
    url = f"/{version}{path}"
    causes = {
        "no headers": {},
        "empty email": {"X-API-EMAIL": "", "X-API-TOKEN": token},
        "empty token": {"X-API-EMAIL": email, "X-API-TOKEN": ""},
        "missing token": {"X-API-EMAIL": email},
        "missing email": {"X-API-TOKEN": token},
        "unknown email": {"X-API-EMAIL": "nobody@example.com", "X-API-TOKEN": token},
        "wrong token": {"X-API-EMAIL": email, "X-API-TOKEN": "adk_" + "x" * 60},
        "garbage token": {"X-API-EMAIL": email, "X-API-TOKEN": "hello"},
        "another user's token": {"X-API-EMAIL": email, "X-API-TOKEN": other.token},
        "revoked": revoked.headers,
        "agent token": {"X-API-EMAIL": agent.user.email, "X-API-TOKEN": agent.token},
        "bearer instead": {"Authorization": f"Bearer {token}"},
    }
    for cause, headers in causes.items():
        response = http.get(url, headers=headers)
        assert response.content == INVALID, cause
        assert_invalid_token(response)
    sep = "&" if "?" in url else "?"
    in_query = http.get(f"{url}{sep}token={token}&email={email}")
    assert_invalid_token(in_query)
    both = http.get(f"{url}{sep}x-api-token={token}", headers=login.headers)
    assert_invalid_token(both)


@pytest.mark.parametrize("version", VERSIONS)
def test_expired_token_is_invalid(http, desk: Desk, version, monkeypatch) -> None:
    account = desk.account()
    login = desk.client_of(account)
    user = login.user
    expiring = desk.token(user, expires_days=1)
    headers = {"X-API-EMAIL": user.email, "X-API-TOKEN": expiring}
    assert http.get(f"/{version}/messages", headers=headers).status_code == 200
    later = clock.utcnow() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert_invalid_token(http.get(f"/{version}/messages", headers=headers))
    # the token without expiry still works
    assert http.get(f"/{version}/messages", headers=login.headers).status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
def test_email_is_case_insensitive_and_headers_ignore_accept(http, setup, version) -> None:
    _desk, _account, login, message_id = setup
    headers = {
        "X-API-EMAIL": login.user.email.upper(),
        "X-API-TOKEN": login.token,
        "Accept": "text/html",
        "Content-Type": "text/plain",
    }
    response = http.get(f"/{version}/messages/{message_id}", headers=headers)
    assert response.status_code == 200


def test_disabled_user_token_is_invalid(http, setup) -> None:
    desk, _account, login, _ = setup
    from answerdesk.store.tables import users

    with write_transaction(desk.engine) as connection:
        connection.execute(users.update().where(users.c.id == login.user.id).values(disabled=True))
    assert_invalid_token(http.get("/v1/messages", headers=login.headers))
