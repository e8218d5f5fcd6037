"""The console's Webhooks page: register (secret once), deliveries, replay; one account only."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.config import Settings
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import audit_log
from answerdesk.webhooks.deliveries import list_deliveries
from answerdesk.webhooks.endpoints import register_endpoint
from tests.console.conftest import PASSWORD, Console
from tests.factories import Desk


def test_client_registers_sees_deliveries_and_replays(
    console: Console, desk: Desk, engine: Engine
) -> None:
    account = desk.account()
    client = desk.user(role="client", account=account, password=PASSWORD)
    browser = console.sign_in(client)
    page = browser.get("/console/webhooks")
    assert page.status_code == 200 and "Add a webhook" in page.text
    refused = browser.post(
        "/console/webhooks/new", {"url": "http://10.0.0.7/in", "message.created": "on"}
    )
    assert refused.status_code == 422 and "private" in refused.text
    created = browser.post(
        "/console/webhooks/new", {"url": "https://93.184.216.34/in", "message.created": "on"}
    )
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    secret = re.search(r'value="(whsec_[^"]+)"', created.text)
    assert secret
    desk.take(account)
    page = browser.get("/console/webhooks")
    with read_transaction(engine) as connection:
        [delivery] = list_deliveries(connection, account_id=account.id)
    assert delivery.event_id in page.text and secret.group(1) not in page.text
    replayed = browser.post("/console/webhooks/replay", {"event_id": delivery.event_id})
    assert replayed.status_code == 303
    assert "queued again, with its same id" in browser.get(replayed.headers["location"]).text
    with read_transaction(engine) as connection:
        actions = connection.execute(sa.select(audit_log.c.action)).scalars().all()
    assert {"webhook.create", "webhook.replay"} <= set(actions)
    rotated = browser.post(f"/console/webhooks/{delivery.endpoint_id}/rotate")
    assert rotated.status_code == 200 and "whsec_" in rotated.text
    assert browser.post(f"/console/webhooks/{delivery.endpoint_id}/disable").status_code == 303
    assert browser.post(f"/console/webhooks/{delivery.endpoint_id}/delete").status_code == 303
    assert browser.post(f"/console/webhooks/{delivery.endpoint_id}/explode").status_code == 404


def test_a_client_cannot_see_or_replay_another_accounts_webhooks(
    console: Console, desk: Desk, engine: Engine, settings: Settings
) -> None:
    a, b = desk.account(), desk.account()
    with write_transaction(engine) as connection:
        endpoint, _secret = register_endpoint(
            connection,
            settings=settings,
            account_id=b.id,
            url="http://127.0.0.1:9/b",
            events="message.created",
            allow_private=True,
        )
    desk.take(b)
    with read_transaction(engine) as connection:
        [delivery] = list_deliveries(connection, account_id=b.id)
    browser = console.sign_in(desk.user(role="client", account=a, password=PASSWORD))
    page = browser.get("/console/webhooks")
    assert delivery.event_id not in page.text and "127.0.0.1:9/b" not in page.text
    assert (
        browser.post("/console/webhooks/replay", {"event_id": delivery.event_id}).status_code == 404
    )
    for action in ("rotate", "disable", "delete"):
        assert browser.post(f"/console/webhooks/{endpoint.id}/{action}").status_code == 404
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    assert agent.get("/console/webhooks").status_code == 403
