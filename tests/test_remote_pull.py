"""`answerdesk sync pull`: copy a remote account's messages here, resumably, on both databases.

The remote is a live answerdesk serving another account of the same test
database (or the seeds-only vendor stand-in), so one database holds both
sides and each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from answerdesk import clock
from answerdesk.accounts import Account, add_script_field, get_script
from answerdesk.cli import cli
from answerdesk.cli import pull as pull_cli
from answerdesk.client import MessagesClient
from answerdesk.errors import ValidationFailed
from answerdesk.messages import change_status
from answerdesk.remote_pull import Pull, source_key
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import messages, outbox, pull_checkpoints, pulled_messages
from tests.factories import ClientLogin, Desk
from tests.live import live_server_fixture, serve  # noqa: F401  (provides `live_server`)
from tests.vendor import EMAIL, TOKEN, Vendor

COMPARED = (
    "resource", "first_name", "last_name", "company_name", "phone", "caller_id", "content",
    "is_emergency", "fields", "created_at", "status", "delivered_at", "delivered_to",
)  # fmt: skip


def rows_of(engine: Engine, account: Account) -> list[Any]:
    with read_transaction(engine) as connection:
        return list(
            connection.execute(
                sa.select(messages).where(messages.c.account_id == account.id).order_by("id")
            )
        )


def labels_of(engine: Engine, account: Account) -> list[str]:
    with read_transaction(engine) as connection:
        return [field.label for field in get_script(connection, account_id=account.id)]


def _compared(row: Any) -> tuple[Any, ...]:
    values = {key: getattr(row, key) for key in COMPARED}
    if values["delivered_at"]:  # the API shows it to the second
        values["delivered_at"] = values["delivered_at"].replace(microsecond=0)
    return tuple(values.values())


def same_messages(engine: Engine, remote: Account, local: Account) -> None:
    """Assert the local account holds exactly the remote's messages, in the same order."""
    theirs = [_compared(row) for row in rows_of(engine, remote)]
    ours = [_compared(row) for row in rows_of(engine, local)]
    assert ours == theirs


class Puller:
    """Run `answerdesk sync pull` in-process against one remote and one local account."""

    def __init__(self, database_url: str, url: str, login: ClientLogin | None, local: Account):
        self.database_url = database_url
        self.url = url
        self.email = login.user.email if login else EMAIL
        self.token = login.token if login else TOKEN
        self.local = local

    def __call__(self, *extra: str) -> Result:
        args = [
            "--database", self.database_url, "sync", "pull", "--url", self.url,
            "--email", self.email, "--account", self.local.number, *extra,
        ]  # fmt: skip
        return CliRunner().invoke(cli, args, env={"ANSWERDESK_TOKEN": self.token})

    def ok(self, *extra: str) -> str:
        result = self(*extra)
        assert result.exit_code == 0, result.output
        return result.stdout


@pytest.fixture
def remote(desk: Desk) -> tuple[Account, ClientLogin]:
    account = desk.account(
        name="Remote desk", fields=[("Reason for Call?", False), ("Best time", False)]
    )
    return account, desk.client_of(account, name="Carla Client")


@pytest.fixture
def local(desk: Desk) -> Account:
    return desk.account(name="Local desk", timezone="Europe/London", region="GB")


@pytest.fixture
def pull(database_url: str, live_server: str, remote, local: Account) -> Puller:
    return Puller(database_url, live_server, remote[1], local)


def test_pull_copies_every_message_once(
    pull: Puller, desk: Desk, engine: Engine, remote, local: Account
) -> None:
    account, _login = remote
    desk.take(
        account,
        "Leak under the sink",
        first_name="John",
        last_name="Doe",
        phone="(617) 555-0123",
        company_name="Doe Corp",
        is_emergency=True,
        created_at="2024-03-15T10:32:05.123456-04:00",
        fields={"Reason for Call?": "Repair", "Best time": "after 5pm"},
        status="delivered",
        delivered_at="2024-03-15T10:40:00.5-04:00",
        delivered_to="carla@acme.example",
    )
    desk.take(account, "For Carla", caller_id="+16175550199", status="read")
    desk.take(account, "Back-dated", created_at="2020-01-01T09:00:00", status="archived")
    out = pull.ok()
    assert out.splitlines()[-1] == (
        f"pulled 3 new messages into account {local.number} from {source_key(pull.url)}"
        " (0 updated, 0 skipped)"
    )
    assert labels_of(engine, local) == ["Reason for Call?", "Best time"]
    same_messages(engine, account, local)
    # The messages went into the pipeline: each has its outbox row.
    with read_transaction(engine) as connection:
        queued = set(connection.execute(sa.select(outbox.c.message_id)).scalars())
    assert {row.id for row in rows_of(engine, local)} <= queued
    # Again: nothing new, nothing doubled.
    assert "pulled 0 new messages" in pull.ok()
    desk.take(account, "One more")
    assert "pulled 1 new messages" in pull.ok("--version", "2")
    same_messages(engine, account, local)
    with read_transaction(engine) as connection:
        checkpoint = connection.execute(sa.select(pull_checkpoints)).one()
        mapped = connection.execute(sa.select(sa.func.count()).select_from(pulled_messages))
        assert mapped.scalar_one() == 4
    assert checkpoint.last_remote_id == max(row.id for row in rows_of(engine, account))
    assert checkpoint.last_pulled_at is not None


def test_pull_adds_the_remote_custom_fields_to_the_local_script(
    pull: Puller, desk: Desk, engine: Engine, remote, local: Account
) -> None:
    account, _login = remote
    with write_transaction(engine) as connection:
        # Same field under another spelling: mapped by labelName, not added.
        add_script_field(connection, account_id=local.id, label="best time")
    desk.take(account, "first", fields={"Reason for Call?": "Repair", "Best time": "noon"})
    out = pull.ok()
    assert f"added field 'Reason for Call?' to the script of account {local.number}" in out
    assert labels_of(engine, local) == ["best time", "Reason for Call?"]
    with write_transaction(engine) as connection:
        add_script_field(connection, account_id=account.id, label="Gate code #")
    desk.take(account, "second", fields={"Gate code #": "1234", "Reason for Call?": "Quote"})
    out = pull.ok()
    assert out.splitlines()[0] == (
        f"added field 'Gate code #' to the script of account {local.number}"
    )
    assert labels_of(engine, local) == ["best time", "Reason for Call?", "Gate code #"]
    copies = rows_of(engine, local)
    assert json.loads(copies[0].fields) == [
        ["best_time", "best time", "noon"],
        ["reason_for_call", "Reason for Call?", "Repair"],
    ]
    assert json.loads(copies[1].fields) == [
        ["reason_for_call", "Reason for Call?", "Quote"],
        ["gate_code", "Gate code #", "1234"],
    ]


def test_a_status_change_within_the_look_back_is_caught_up(
    pull: Puller, desk: Desk, engine: Engine, remote, local: Account
) -> None:
    account, _login = remote
    recent = desk.take(account, "recent")
    old = desk.take(account, "old", created_at=(clock.utcnow() - timedelta(days=10)).isoformat())
    pull.ok()
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with write_transaction(engine) as connection:
        for message_id in (recent, old):
            change_status(
                connection,
                account_id=account.id,
                message_id=message_id,
                status="delivered",
                delivered_to="carla@acme.example",
                delivered_at=when,
            )
    assert "(1 updated, 0 skipped)" in pull.ok()
    copy_recent, copy_old = sorted(rows_of(engine, local), key=lambda r: r.content != "recent")
    assert (copy_recent.status, copy_recent.delivered_to) == ("delivered", "carla@acme.example")
    assert copy_recent.delivered_at == when
    assert copy_old.status == "new"  # older than the look-back: left alone
    with write_transaction(engine) as connection:
        change_status(connection, account_id=account.id, message_id=recent, status="archived")
    assert "(1 updated, 0 skipped)" in pull.ok()
    assert rows_of(engine, local)[0].status == "archived"
    assert "(0 updated, 0 skipped)" in pull.ok()
    # A longer look-back reaches the old one too.
    assert "(1 updated, 0 skipped)" in pull.ok("--look-back-days", "30")


def test_status_never_goes_backwards(
    pull: Puller, desk: Desk, engine: Engine, remote, local: Account
) -> None:
    account, _login = remote
    desk.take(account, "m")
    pull.ok()
    (copy,) = rows_of(engine, local)
    with write_transaction(engine) as connection:
        change_status(connection, account_id=local.id, message_id=copy.id, status="read")
    assert "(0 updated, 0 skipped)" in pull.ok()
    assert rows_of(engine, local)[0].status == "read"


def test_a_message_the_local_script_refuses_is_skipped_once(
    pull: Puller, desk: Desk, engine: Engine, remote, local: Account
) -> None:
    account, _login = remote
    with write_transaction(engine) as connection:
        add_script_field(connection, account_id=local.id, label="Policy number", required=True)
    refused = desk.take(account, "no policy number")
    result = pull()
    assert result.exit_code == 0, result.output
    assert (
        f"skipped remote message {refused}: Invalid input: fields.Policy number: is required"
        in (result.stderr)
    )
    assert "(0 updated, 1 skipped)" in result.stdout
    assert rows_of(engine, local) == []
    assert "pulled 0 new messages" in pull.ok()


def test_errors_are_error_lines(
    database_url: str, live_server: str, remote, local: Account
) -> None:
    _account, login = remote
    bad = Puller(database_url, live_server, login, local)
    bad.token = "adk_" + "x" * 60
    result = bad()
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {live_server} answered 404: Invalid token"
    nowhere = Puller(database_url, live_server, login, local)
    nowhere.local = Account(0, "99999", "x", "UTC", "US", None)
    result = nowhere()
    assert result.exit_code == 1 and result.stderr.strip() == "error: no account 99999"


def test_pull_from_a_vendor_that_has_only_the_documented_api(
    database_url: str, engine: Engine, local: Account
) -> None:
    vendor = Vendor()
    now = clock.utcnow()
    fields = [
        ("reason_for_call", "Reason for Call?", "Repair"),
        ("reason_for_call_2", "Reason for call", "x"),
    ]
    first = [vendor.add(now - timedelta(hours=h), f"m{h}", fields=fields) for h in (30, 20, 10)]
    with serve(vendor.asgi) as url:
        pull = Puller(database_url, url, None, local)
        assert "pulled 3 new messages" in pull.ok()
        vendor.add(now, "new")
        vendor.add(now - timedelta(days=1), "back-dated within the look-back")
        vendor.update(first[0], status="read")
        out = pull.ok()
    assert "pulled 2 new messages" in out and "(1 updated, 0 skipped)" in out
    copies = rows_of(engine, local)
    assert [row.content for row in copies] == [
        "m30", "m20", "m10", "new", "back-dated within the look-back",
    ]  # fmt: skip
    assert copies[0].status == "read"
    assert copies[0].created_at == datetime.fromisoformat(
        vendor.messages[first[0]]["raw_created_at"]
    )
    assert labels_of(engine, local) == ["Reason for Call?", "Reason for call"]
    assert not [r for r in vendor.requests if "after_id" in r]


def test_follow_pulls_every_interval_until_ctrl_c(
    pull: Puller, desk: Desk, engine: Engine, remote, local: Account, monkeypatch
) -> None:
    account, _login = remote
    desk.take(account, "first")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            desk.take(account, "second")
        elif len(sleeps) == 2:
            pass  # a pass with nothing new prints nothing
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(pull_cli, "time", SimpleNamespace(sleep=sleep))
    result = pull("--follow", "--interval", "5")
    assert result.exit_code == 130
    assert sleeps == [5.0, 5.0, 5.0]
    assert [line.split(" into")[0] for line in result.stdout.splitlines()] == [
        "pulled 1 new messages",
        "pulled 1 new messages",
    ]
    assert result.stderr == "interrupted: run the same command again to resume\n"
    assert [row.content for row in rows_of(engine, local)] == ["first", "second"]


def test_follow_survives_a_remote_that_fails(
    database_url: str, remote, local: Account, monkeypatch
) -> None:
    _account, login = remote
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr(pull_cli, "time", SimpleNamespace(sleep=sleep))
    down = Puller(database_url, "http://127.0.0.1:9", login, local)
    result = down("--follow", "--interval", "2", "--retries", "0")
    assert result.exit_code == 130
    assert result.stderr.startswith("error: ConnectError")
    assert "(trying again in 2s)" in result.stderr
    assert calls == [2.0]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Desk.Example/", "https://desk.example"),
        ("HTTP://desk.example:8080/api/", "http://desk.example:8080/api"),
        (" https://desk.example ", "https://desk.example"),
    ],
)
def test_one_server_is_one_source(url: str, key: str) -> None:
    assert source_key(url) == key


def test_a_source_must_be_an_http_url() -> None:
    with pytest.raises(ValidationFailed):
        source_key("desk.example")


def test_progress_is_shown_through_a_click_progressbar(
    live_server: str, desk: Desk, engine: Engine, remote, local: Account, capsys
) -> None:
    account, login = remote
    for number in range(3):
        desk.take(account, f"m{number}")
    with MessagesClient(live_server, login.user.email, login.token) as client:
        puller = Pull(engine, client, account=local, source_url=live_server)
        result = pull_cli._one_pass(puller, show_progress=True)
    assert result.copied == 3
    assert "pulling" in capsys.readouterr().err  # off a terminal click prints the label only
