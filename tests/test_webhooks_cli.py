"""`answerdesk webhooks`: add (secret once), list, deliveries, replay, remove; scoped by account."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from answerdesk.cli import cli
from answerdesk.store.engine import read_transaction
from answerdesk.webhooks.deliveries import list_deliveries
from tests.factories import Desk

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("ANSWERDESK_WEBHOOK_ALLOW_PRIVATE", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--database", database_url, *args])

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_add_list_deliveries_replay_remove(run: Run, engine: Engine, desk: Desk) -> None:
    account = desk.account()
    refused = run(
        "webhooks",
        "add",
        "--account",
        account.number,
        "--url",
        "http://127.0.0.1:9/h",
        "--events",
        "message.created",
    )
    assert refused.exit_code == 1 and "private" in refused.stderr
    out = ok(
        run(
            "webhooks",
            "add",
            "--account",
            account.number,
            "--url",
            "http://127.0.0.1:9/h",
            "--events",
            "message.created,message.delivered",
            "--allow-private",
        )
    )
    secret = out.splitlines()[-1]
    assert secret.startswith("whsec_") and len(secret) > 40
    listing = ok(run("webhooks", "list"))
    assert "http://127.0.0.1:9/h" in listing and secret not in listing
    assert "message.created,message.delivered" in listing
    desk.take(account)
    with read_transaction(engine) as connection:
        [delivery] = list_deliveries(connection)
    shown = ok(run("webhooks", "deliveries", "--account", account.number))
    assert delivery.event_id in shown and "pending" in shown
    assert "queued" in ok(run("webhooks", "replay", delivery.event_id))
    assert "removed webhook" in ok(run("webhooks", "remove", str(delivery.endpoint_id)))
    assert ok(run("webhooks", "list")) == "no webhooks\n"


def test_account_scoping(run: Run, engine: Engine, desk: Desk) -> None:
    a, b = desk.account(), desk.account()
    ok(
        run(
            "webhooks",
            "add",
            "--account",
            b.number,
            "--url",
            "http://127.0.0.1:9/b",
            "--events",
            "message.created",
            "--allow-private",
        )
    )
    desk.take(b)
    with read_transaction(engine) as connection:
        [delivery] = list_deliveries(connection)
    assert ok(run("webhooks", "deliveries", "--account", a.number)) == "no deliveries\n"
    assert "no webhooks" in ok(run("webhooks", "list", "--account", a.number))
    refused = run("webhooks", "replay", delivery.event_id, "--account", a.number)
    assert refused.exit_code == 1 and "no webhook event" in refused.stderr
    refused = run("webhooks", "remove", str(delivery.endpoint_id), "--account", a.number)
    assert refused.exit_code == 1
    assert run("webhooks", "replay", delivery.event_id, "--account", b.number).exit_code == 0


def test_unknown_event_type_is_named(run: Run, desk: Desk) -> None:
    account = desk.account()
    result = run(
        "webhooks",
        "add",
        "--account",
        account.number,
        "--url",
        "https://example.com/h",
        "--events",
        "message.deleted",
    )
    assert result.exit_code == 1 and "message.deleted" in result.stderr


def test_worker_once_carries_and_delivers(
    run: Run, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.live import serve
    from tests.webhook_support import Receiver

    monkeypatch.setenv("ANSWERDESK_WEBHOOK_ALLOW_PRIVATE", "true")
    account = desk.account()
    receiver = Receiver()
    with serve(receiver.app()) as base:
        out = ok(
            run(
                "webhooks",
                "add",
                "--account",
                account.number,
                "--url",
                f"{base}/hook",
                "--events",
                "message.created,crm.lead_created",
            )
        )
        receiver.secret = out.splitlines()[-1]
        desk.take(account, first_name="Ann", phone="6175550123")
        assert "carried 1 messages" in ok(run("worker", "--once"))
    assert sorted(event["type"] for event in receiver.applied) == [
        "crm.lead_created",
        "message.created",
    ]
    assert all(verified for _id, verified, _body in receiver.requests)
