"""Authentication of the Sell and agent APIs: one answer for every failure, constant time.

The Messages API's identical-bytes promise is held by tests/test_messages_auth.py;
these are the other two APIs. A Sell failure differs from another only in
`meta.logref` (the request id, CONTRACT §2); an agent API failure is our own
401 with `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from answerdesk import clock
from answerdesk.store.engine import write_transaction
from answerdesk.tokens import hash_token, revoke_token, verify_token
from tests.factories import ClientLogin, Desk

SELL_PATHS = ["/v2/text_messages", "/v2/text_messages/1", "/v2/leads", "/v2/contacts/1"]
AGENT_INVALID = {"success": False, "info": "Invalid token", "data": {}}


def _revoked(desk: Desk, login: ClientLogin) -> ClientLogin:
    with write_transaction(desk.engine) as connection:
        principal = verify_token(connection, login.token)
        assert principal is not None
        revoke_token(connection, token_id=principal.token_id)
    return login


def _failures(desk: Desk, login: ClientLogin, expiring: str) -> dict[str, dict[str, str]]:
    """Every way a Bearer token can be wrong, as request headers."""
    revoked = _revoked(desk, desk.client_of(desk.account()))
    unknown = "adk_" + "A" * 54 + login.token[-6:]  # right shape, bad checksum
    forged = login.token[:-1] + ("a" if login.token[-1] != "a" else "b")
    return {
        "no header": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic scheme": {"Authorization": f"Basic {login.token}"},
        "unknown token": {"Authorization": f"Bearer {unknown}"},
        "one character off": {"Authorization": f"Bearer {forged}"},
        "garbage": {"Authorization": "Bearer hello"},
        "revoked": revoked.bearer,
        "expired": {"Authorization": f"Bearer {expiring}"},
        "messages api headers": {"X-API-EMAIL": login.user.email, "X-API-TOKEN": login.token},
        # Another user's Bearer token is simply valid (Bearer carries no e-mail):
        # it reads that user's account, which test_isolation_matrix.py holds apart.
    }


def _sell_shape(response: Any) -> tuple[int, str, Any]:
    body = response.json()
    assert body["meta"]["logref"] == response.headers["x-request-id"]
    body["meta"]["logref"] = "-"
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize("path", SELL_PATHS)
def test_sell_api_answers_every_failure_alike(
    http: TestClient, desk: Desk, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account()
    login = desk.client_of(account)
    expiring = desk.token(login.user, expires_days=1)
    assert http.get(path.split("/1")[0], headers={"Authorization": f"Bearer {expiring}"}).is_success
    later = clock.utcnow() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)  # frozen clock: the token has expired
    causes = _failures(desk, login, expiring)
    causes["agent token"] = desk.staff("agent").bearer
    causes["admin token"] = desk.staff("admin").bearer
    shapes = {
        cause: _sell_shape(http.get(path, headers=headers)) for cause, headers in causes.items()
    }
    in_url = {
        f"{key} in the URL": _sell_shape(
            http.get(f"{path}?{key}={login.token}", headers=login.bearer)
        )
        for key in ("access_token", "token", "api_token")
    }
    expected = shapes["no header"]
    assert expected[0] == 401 and expected[1] == "application/json; charset=utf-8"
    assert expected[2]["errors"][0]["error"]["code"] == "unauthorized"
    for cause, shape in {**shapes, **in_url}.items():
        assert shape == expected, cause
    # and the token itself, unexpired, still works in its header
    assert http.get(path.split("/1")[0], headers=login.bearer).is_success


def test_agent_api_answers_every_failure_alike(
    http: TestClient, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account()
    agent = desk.staff("agent")
    login = ClientLogin(user=agent.user, token=agent.token)
    expiring = desk.token(agent.user, expires_days=1)
    url = f"/agent/v1/accounts/{account.number}/messages"
    later = clock.utcnow() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    causes = _failures(desk, login, expiring)
    answers = []
    for cause, headers in causes.items():
        response = http.post(url, json={"content": "hello"}, headers=headers)
        answers.append((cause, response))
    for key in ("access_token", "token"):
        response = http.post(
            f"{url}?{key}={agent.token}", json={"content": "x"}, headers=agent.bearer
        )
        answers.append((f"{key} in the URL", response))
    for cause, response in answers:
        assert response.status_code == 401, cause
        assert response.headers["www-authenticate"] == "Bearer", cause
        assert response.headers["content-type"] == "application/json; charset=utf-8", cause
        assert response.json() == AGENT_INVALID, cause
    assert len({response.content for _cause, response in answers}) == 1
    # Unknown account with a bad token: still 401, so an account's existence never shows.
    assert http.post("/agent/v1/accounts/00000/messages", json={}).status_code == 401
    assert http.post(url, json={"content": "hello"}, headers=agent.bearer).status_code == 201


def test_token_checks_go_through_hash_lookup_and_compare_digest(
    http: TestClient, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secret never meets `==`: SHA-256 lookup, then `hmac.compare_digest` on digests.

    A timing difference can then only tell a guesser how close their guess's
    *hash* came, which tells nothing about the token.
    """
    account = desk.account()
    login = desk.client_of(account)
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    for headers, path in (
        (login.headers, "/v1/messages"),
        (login.bearer, "/v2/text_messages"),
    ):
        compared.clear()
        http.app.state.token_cache = None  # type: ignore[attr-defined]
        assert http.get(path, headers=headers).status_code == 200
        digest = hash_token(login.token)
        assert (digest, digest) in compared, compared  # the stored hash, constant-time
        assert all(login.token not in (a, b) for a, b in compared)  # never the raw token
    # a wrong token is refused by the same path
    compared.clear()
    http.app.state.token_cache = None  # type: ignore[attr-defined]
    wrong = login.token[:-8] + "AAAAAAAA"
    assert (
        http.get("/v1/messages", headers={**login.headers, "X-API-TOKEN": wrong}).status_code == 404
    )
    assert compared, "the checksum check is constant-time too"
