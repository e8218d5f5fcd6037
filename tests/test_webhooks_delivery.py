"""Webhook deliveries end to end: a live receiver verifies, retries come, events once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk import clock
from answerdesk.config import Settings
from answerdesk.messages import change_status, message_wire
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import webhook_deliveries
from answerdesk.webhooks import delivery
from answerdesk.webhooks.deliveries import list_deliveries, replay_event
from answerdesk.webhooks.delivery import deliver_due
from answerdesk.webhooks.endpoints import register_endpoint
from tests.factories import Desk
from tests.live import serve
from tests.webhook_support import Receiver, deliver_steps


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """Receivers listen on 127.0.0.1, so private addresses are allowed for every endpoint."""
    return replace(settings, webhook_allow_private=True)


def _register(engine: Engine, settings: Settings, account_id: int, url: str, events: str) -> str:
    with write_transaction(engine) as connection:
        _endpoint, secret = register_endpoint(
            connection, settings=settings, account_id=account_id, url=url, events=events
        )
    return secret


def test_message_created_is_signed_and_carries_the_api_object(
    engine: Engine, desk: Desk, hook_settings: Settings
) -> None:
    account = desk.account()
    receiver = Receiver()
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        message_id = desk.take(account, first_name="Ann", phone="6175550123")
        assert deliver_due(engine, hook_settings) == 1
    [(event_id, verified, body)] = receiver.requests
    assert verified
    event = orjson.loads(body)
    assert list(event) == ["id", "type", "created_at", "data"]
    assert event["id"] == event_id and event["type"] == "message.created"
    api_bytes = message_wire(engine, account_id=account.id, message_id=message_id)
    assert body.endswith(b',"data":' + api_bytes + b"}")
    with read_transaction(engine) as connection:
        [shown] = list_deliveries(connection, account_id=account.id)
    assert shown.state == "delivered" and shown.attempts == 1 and shown.last_status == 200


def test_no_endpoint_writes_nothing(engine: Engine, desk: Desk) -> None:
    desk.take(desk.account())
    with read_transaction(engine) as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(webhook_deliveries)).scalar()
            == 0
        )


def test_fails_three_times_then_succeeds_gets_the_event_once(
    engine: Engine, desk: Desk, hook_settings: Settings
) -> None:
    account = desk.account()
    receiver = Receiver(script=["fail", "fail", "fail", "ok"])
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        desk.take(account)
        deliver_steps(engine, hook_settings, clock.utcnow(), steps=6, every=timedelta(hours=2))
    assert len(receiver.requests) == 4
    assert len({event_id for event_id, _v, _b in receiver.requests}) == 1
    assert len(receiver.applied) == 1
    with read_transaction(engine) as connection:
        [shown] = list_deliveries(connection, account_id=account.id)
    assert shown.state == "delivered" and shown.attempts == 4


def test_retry_after_is_honoured(engine: Engine, desk: Desk, hook_settings: Settings) -> None:
    account = desk.account()
    receiver = Receiver(script=["429", "ok"])
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        desk.take(account)
        start = clock.utcnow()
        deliver_due(engine, hook_settings, now=start)
        with read_transaction(engine) as connection:
            next_at = connection.execute(
                sa.select(webhook_deliveries.c.next_attempt_at)
            ).scalar_one()
        assert next_at == start + timedelta(seconds=120)
        deliver_due(engine, hook_settings, now=start + timedelta(seconds=119))
        assert len(receiver.requests) == 1  # not yet
        deliver_due(engine, hook_settings, now=start + timedelta(seconds=120))
    assert len(receiver.requests) == 2 and len(receiver.applied) == 1


def test_a_stalled_receiver_times_out_and_is_retried(
    engine: Engine, desk: Desk, hook_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "TIMEOUT", delivery.httpx.Timeout(0.5))
    account = desk.account()
    receiver = Receiver(script=["stall", "ok"], stall_seconds=2.0)
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        desk.take(account)
        start = clock.utcnow()
        deliver_due(engine, hook_settings, now=start)
        with read_transaction(engine) as connection:
            [shown] = list_deliveries(connection, account_id=account.id)
        assert shown.state == "retrying" and "timeout" in (shown.last_error or "")
        deliver_due(engine, hook_settings, now=start + timedelta(hours=2))
    assert len(receiver.applied) == 1
    assert receiver.requests[0][0] == receiver.requests[1][0]


def test_a_dropped_connection_is_retried_with_the_same_event_id(
    engine: Engine, desk: Desk, hook_settings: Settings
) -> None:
    account = desk.account()
    receiver = Receiver(script=["drop", "ok"])
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        desk.take(account)
        deliver_steps(engine, hook_settings, clock.utcnow(), steps=3, every=timedelta(hours=2))
    assert len(receiver.requests) == 2
    assert receiver.requests[0][0] == receiver.requests[1][0]
    assert len(receiver.applied) == 1  # the receiver deduped the second copy


def test_after_24_hours_the_delivery_is_dead_with_its_last_error(
    engine: Engine, desk: Desk, hook_settings: Settings
) -> None:
    account = desk.account()
    receiver = Receiver(script=["fail"])
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        desk.take(account)
        deliver_steps(
            engine, hook_settings, clock.utcnow(), steps=30, every=timedelta(hours=1, minutes=5)
        )
    with read_transaction(engine) as connection:
        [shown] = list_deliveries(connection, account_id=account.id)
    assert shown.state == "dead"
    assert shown.last_error == "HTTP 500: receiver is down"
    assert shown.next_attempt_at is None
    assert 2 <= shown.attempts <= 24


def test_replay_resends_the_same_event(engine: Engine, desk: Desk, hook_settings: Settings) -> None:
    account = desk.account()
    receiver = Receiver()
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.created"
        )
        desk.take(account)
        deliver_due(engine, hook_settings)
        event_id = receiver.requests[0][0]
        with write_transaction(engine) as connection:
            assert replay_event(connection, event_id=event_id, account_id=account.id) == 1
        deliver_due(engine, hook_settings)
    assert [r[0] for r in receiver.requests] == [event_id, event_id]
    assert receiver.requests[0][2] == receiver.requests[1][2]


def test_delivered_and_lead_created_events(
    engine: Engine, desk: Desk, hook_settings: Settings
) -> None:
    from answerdesk.sync import run_worker

    account = desk.account()
    receiver = Receiver()
    with serve(receiver.app()) as base:
        receiver.secret = _register(
            engine, hook_settings, account.id, f"{base}/hook", "message.delivered,crm.lead_created"
        )
        message_id = desk.take(account, first_name="Ann", phone="6175550123")
        run_worker(engine, once=True)  # carries it: a new lead
        with write_transaction(engine) as connection:
            change_status(
                connection,
                account_id=account.id,
                message_id=message_id,
                status="delivered",
                delivered_to="ann@acme.example",
            )
            change_status(
                connection, account_id=account.id, message_id=message_id, status="delivered"
            )
        deliver_due(engine, hook_settings)
    types = sorted(event["type"] for event in receiver.applied)
    assert types == ["crm.lead_created", "message.delivered"]
    by_type = {event["type"]: event for event in receiver.applied}
    assert by_type["message.delivered"]["data"]["status"] == "delivered"
    assert by_type["crm.lead_created"]["data"]["phone"] == "+16175550123"
    assert list(by_type["crm.lead_created"]["data"])[:2] == ["id", "first_name"]


def test_the_receiver_in_the_docs_works(
    engine: Engine, desk: Desk, hook_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    from pathlib import Path

    docs = (Path(__file__).parents[1] / "docs" / "integrations.md").read_text()
    [example] = [
        b for b in re.findall(r"```python\n(.*?)```", docs, re.S) if "answerdesk_events" in b
    ]
    account = desk.account()
    handled: list[dict[str, object]] = []
    monkeypatch.setenv("ANSWERDESK_WEBHOOK_SECRET", "pending")
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/integrations.md", "exec"), namespace)
    namespace["handle"] = handled.append
    with serve(namespace["app"]) as base:
        secret = _register(
            engine, hook_settings, account.id, f"{base}/answerdesk-events", "message.created"
        )
        namespace["SECRET"] = secret
        desk.take(account)
        assert deliver_due(engine, hook_settings) == 1
        with read_transaction(engine) as connection:
            [shown] = list_deliveries(connection, account_id=account.id)
        with write_transaction(engine) as connection:
            replay_event(connection, event_id=shown.event_id)
        deliver_due(engine, hook_settings)
    assert [event["id"] for event in handled] == [shown.event_id]
    with read_transaction(engine) as connection:
        [shown] = list_deliveries(connection, account_id=account.id)
    assert shown.state == "delivered" and shown.last_status == 204


def test_an_event_commits_with_its_cause_or_not_at_all(
    engine: Engine, desk: Desk, hook_settings: Settings
) -> None:
    from answerdesk.messages import take_message_data
    from answerdesk.store.tables import webhook_events

    account = desk.account()
    _register(engine, hook_settings, account.id, "http://127.0.0.1:9/hook", "message.created")
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        take_message_data(connection, account=account, data={"content": "x"}, taken_by_user_id=None)
        raise RuntimeError("the taking transaction fails")
    desk.take(account)
    with read_transaction(engine) as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar() == 1
        )
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(webhook_deliveries)).scalar()
            == 1
        )
