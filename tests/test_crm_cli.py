"""`answerdesk crm import | convert` and `answerdesk worker` from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from answerdesk.cli.crm import crm
from answerdesk.cli.main import cli
from answerdesk.cli.worker import worker
from answerdesk.crm import carrying
from tests.crm_support import contacts_of, leads_of, outbox_rows, text_messages_of
from tests.factories import Desk

# Registered here until the root group lists them (a no-op once it does).
for _command in (crm, worker):
    if _command.name not in cli.commands:
        cli.add_command(_command)

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str) -> Run:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--database", database_url, *args])

    return invoke


def test_crm_import_and_convert(run: Run, engine: Engine, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    path = tmp_path / "leads.csv"
    path.write_text("first_name,phone\nAnn,617 555 0123\nBo,617 555 0124\n")
    result = run("crm", "import", "--account", account.number, "--kind", "lead", str(path))
    assert result.exit_code == 0, result.output
    assert result.output == f"imported 2 leads into account {account.number}\n"
    lead = leads_of(engine, account.id)[0]
    result = run("crm", "convert", str(lead.id))
    assert result.exit_code == 0, result.output
    [contact] = contacts_of(engine, account.id)
    assert result.output == (
        f"converted lead {lead.id} into contact {contact.id} (0 text messages, 0 deals moved)\n"
    )
    result = run("crm", "convert", str(lead.id))
    assert result.exit_code == 1
    assert result.output == f"error: lead {lead.id} is already converted\n"


def test_crm_import_reports_bad_lines(run: Run, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    path = tmp_path / "contacts.jsonl"
    path.write_text('{"first_name": "Ann", "age": 3}\n{}\n')
    result = run("crm", "import", "--account", account.number, "--kind", "contact", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "line 1: age: unknown key",
        "line 2: record: needs a name, an organization name, a phone, a mobile or an e-mail",
        "error: 2 lines are bad; nothing was imported",
    ]
    result = run("crm", "import", "--account", "nope", "--kind", "lead", str(path))
    assert (result.exit_code, result.output) == (1, "error: no account nope\n")


def test_worker_once_status_and_retry_dead(
    run: Run, engine: Engine, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account()
    desk.take(account, phone="617 555 0123")
    result = run("worker", "--status")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        "due      1",
        "waiting  0  (failed, retrying with backoff)",
        "dead     0",
    ]
    result = run("worker", "--once")
    assert (result.exit_code, result.output) == (0, "carried 1 messages\n")
    assert len(text_messages_of(engine, account.id)) == 1

    bad = desk.take(account, phone="617 555 0124")

    def fail(self: carrying.Carrier, message: object) -> None:
        raise RuntimeError("CRM is on fire")

    monkeypatch.setattr(carrying.Carrier, "carry", fail)
    assert run("worker", "--once", "--max-attempts", "1").exit_code == 0
    status = run("worker", "--status").output.splitlines()
    assert status[2] == "dead     1"
    assert status[5].split()[:5] == ["ID", "MESSAGE", "ACCOUNT", "ATTEMPTS", "DEAD"]
    assert status[6].split()[1:4] == [str(bad), account.number, "1"]
    assert status[6].endswith("RuntimeError: CRM is on fire")
    monkeypatch.undo()
    assert run("worker", "--retry-dead").output == "queued 1 dead letters again\n"
    assert run("worker", "--once").output == "carried 1 messages\n"
    assert outbox_rows(engine) == []
