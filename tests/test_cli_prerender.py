"""`answerdesk messages prerender`: re-render stale stored JSON by hand, and say how much."""

from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.accounts import update_account
from answerdesk.cli import cli
from answerdesk.store.engine import write_transaction
from tests.factories import Desk
from tests.rerender_support import FIELDS, assert_answers_are_fresh, stored_zones, take_varied


def prerender(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--database", database_url, "messages", "prerender", *args])


def test_prerender_one_account_reports_what_it_did(
    database_url: str, desk: Desk, engine: Engine, http: TestClient
) -> None:
    account = desk.account(number="10042", timezone="America/New_York", fields=FIELDS)
    login = desk.client_of(account)
    take_varied(desk, account, 7)
    with write_transaction(engine) as connection:
        update_account(connection, account_id=account.id, timezone="America/Los_Angeles")

    result = prerender(database_url, "--account", "10042", "--chunk-size", "2")

    assert result.exit_code == 0, result.output
    assert result.stdout == "re-rendered 7 of 7 messages of account 10042 (America/Los_Angeles)\n"
    assert set(stored_zones(engine, account.id).values()) == {"America/Los_Angeles"}
    assert_answers_are_fresh(http, login, engine, account.id)
    again = prerender(database_url, "--account", "10042")
    assert again.stdout == "re-rendered 0 of 7 messages of account 10042 (America/Los_Angeles)\n"
    forced = prerender(database_url, "--account", "10042", "--force")
    assert forced.stdout == "re-rendered 7 of 7 messages of account 10042 (America/Los_Angeles)\n"


def test_prerender_every_account_names_those_it_changed(
    database_url: str, desk: Desk, engine: Engine
) -> None:
    stale = desk.account(number="501", timezone="America/New_York", fields=FIELDS)
    current = desk.account(number="502", timezone="America/New_York", fields=FIELDS)
    desk.account(number="503")  # no messages
    take_varied(desk, stale, 5)  # one of each has no stored JSON (before migration 0004)
    take_varied(desk, current, 5)
    with write_transaction(engine) as connection:
        update_account(connection, account_id=stale.id, timezone="Asia/Kolkata")

    result = prerender(database_url)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "re-rendered 5 of 5 messages of account 501 (Asia/Kolkata)",
        "re-rendered 1 of 5 messages of account 502 (America/New_York)",
        "re-rendered 6 messages in 3 accounts",
    ]
    assert set(stored_zones(engine, stale.id).values()) == {"Asia/Kolkata"}
    assert set(stored_zones(engine, current.id).values()) == {"America/New_York"}


def test_prerender_unknown_account_is_an_error(database_url: str, desk: Desk) -> None:
    result = prerender(database_url, "--account", "nope")
    assert result.exit_code == 1
    assert result.stderr == "error: no account nope\n"
    assert "Traceback" not in result.output
