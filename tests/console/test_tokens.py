"""Clients create their API token in the console and read messages with it."""

from __future__ import annotations

import html
import re

from tests.console.conftest import PASSWORD, Console
from tests.factories import Desk


def test_client_creates_a_token_once_and_reads_messages_with_it(
    console: Console, desk: Desk
) -> None:
    account = desk.account()
    message_id = desk.take(account, "Hello")
    client_user = desk.user(role="client", account=account, password=PASSWORD)
    client = console.sign_in(client_user)
    created = client.post("/console/tokens/new", {"expires_days": "30"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    token = re.search(
        r'id="token" class="mono token-value" type="text" value="(adk_\w+)"', created.text
    )
    assert token
    command = html.unescape(
        re.search(r'<textarea id="curl"[^>]*>([^<]+)</textarea>', created.text).group(1)
    )
    assert command == (
        f"curl -H 'X-API-EMAIL: {client_user.email}' -H 'X-API-TOKEN: {token.group(1)}' "
        "'http://testserver/v1/messages'"
    )
    api = client.http.get(
        "/v1/messages", headers={"X-API-EMAIL": client_user.email, "X-API-TOKEN": token.group(1)}
    )
    assert [m["message_id"] for m in api.json()] == [message_id]
    listing = client.get("/console/tokens").text
    assert token.group(1) not in listing and token.group(1)[:12] in listing
    token_id = re.search(r'action="/console/tokens/(\d+)/revoke"', listing).group(1)
    assert client.post(f"/console/tokens/{token_id}/revoke").status_code == 303
    assert "revoked" in client.get("/console/tokens").text
    # The API caches verified tokens for a few seconds (docs/api.md); start afresh.
    if hasattr(console.app.state, "token_cache"):
        del console.app.state.token_cache
    refused = client.http.get(
        "/v1/messages", headers={"X-API-EMAIL": client_user.email, "X-API-TOKEN": token.group(1)}
    )
    assert refused.status_code == 404


def test_nobody_revokes_another_persons_token(console: Console, desk: Desk) -> None:
    account = desk.account()
    victim = desk.user(role="client", account=account)
    desk.token(victim)
    from answerdesk import tokens
    from answerdesk.store.engine import read_transaction

    with read_transaction(desk.engine) as connection:
        (info,) = tokens.list_tokens(connection, user_id=victim.id)
    other = console.sign_in(desk.user(role="client", account=account, password=PASSWORD))
    assert other.post(f"/console/tokens/{info.id}/revoke").status_code == 404


def test_bad_expiry_is_shown_next_to_its_field(console: Console, desk: Desk) -> None:
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    response = agent.post("/console/tokens/new", {"expires_days": "0"})
    assert response.status_code == 422
    assert 'id="expires_days-error"' in response.text
    assert 'value="0"' in response.text
    assert "Bearer adk_" not in response.text
