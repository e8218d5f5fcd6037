"""`answerdesk messages import`: JSON Lines, every line checked, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account
from answerdesk.cli import cli
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import messages
from tests.factories import ClientLogin, Desk

SCRIPT = [("Reason for Call?", True), ("Email", False)]


@pytest.fixture
def account(desk: Desk) -> Account:
    return desk.account(number="10042", fields=SCRIPT)


@pytest.fixture
def client(desk: Desk, account: Account) -> ClientLogin:
    return desk.client_of(account, email="maria@acme.example", name="Maria Lopez")


def line(**data: Any) -> str:
    data.setdefault("content", "Please call back")
    data.setdefault("fields", {"Reason for Call?": "Leak"})
    return json.dumps(data)


def import_file(database_url: str, tmp_path: Path, text: str, number: str = "10042") -> Result:
    path = tmp_path / "messages.jsonl"
    path.write_text(text, encoding="utf-8")
    args = ["--database", database_url, "messages", "import", "--account", number, str(path)]
    return CliRunner().invoke(cli, args)


def stored(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()
    return int(count)


def rejected(result: Result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return result.stderr.splitlines()


def test_import_stores_every_line_and_says_how_many(
    database_url: str, tmp_path: Path, client: ClientLogin, http
) -> None:
    text = "\n".join(
        [
            line(
                first_name="Ann", last_name="Lee", company_name="Lee & Co", phone="(617) 555-0123",
                caller_id="617 555 0199", is_emergency=True, created_at="2024-03-15T10:32:05",
                fields={"Reason for Call?": "Burst pipe", "Email": "ann@lee.example"},
                **{"for": "MARIA@acme.example"},
            ),
            "",
            line(created_at="2024-03-16T09:00:00Z", status="read", delivered_to="maria@acme.example",
                 delivered_at="2024-03-16T09:05:00Z", **{"for": "maria lopez"}),
            line(created_at="2024-03-17T08:00:00+01:00", **{"for": "Service Department"}),
        ]
    )  # fmt: skip
    result = import_file(database_url, tmp_path, text + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 3 messages into account 10042\n"
    listed = http.get("/v1/messages", headers=client.headers).json()
    first, second, third = listed
    assert first["utc_created_at"] == "2024-03-15T14:32:05Z"  # local New York time (EDT)
    assert first["created_at"] == "03-15-2024 10:32 AM"
    assert first["resource"] == "Maria Lopez"
    assert first["phone"] == "+16175550123" and first["caller_id"] == "+16175550199"
    assert first["is_emergency"] is True and first["status"] == "new"
    assert first["content_with_additional_details_table"] == {
        "reason_for_call": "Burst pipe",
        "email": "ann@lee.example",
    }
    assert second["resource"] == "Maria Lopez"
    assert second["status"] == "read"
    assert second["delivered_at"] == "2024-03-16T09:05:00Z"
    assert second["delivered_to"] == "maria@acme.example"
    assert third["utc_created_at"] == "2024-03-17T07:00:00Z"
    assert third["resource"] == "Service Department"


def test_a_bad_line_imports_nothing_and_is_named_by_its_physical_number(
    database_url: str, tmp_path: Path, engine: Engine, account: Account
) -> None:
    text = "\n".join([line(), "", "   ", line(content=""), line()]) + "\n"
    lines = rejected(import_file(database_url, tmp_path, text))
    assert lines == ["line 4: content: is required", "error: 1 line is bad; nothing was imported"]
    assert stored(engine) == 0


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            line(fields={"Reason for Call?": "Leak", "Colour": "red"}),
            "line 2: fields.Colour: unknown field: not in this account's script",
        ),
        (line(fields={"Email": "a@b.example"}), "line 2: fields.Reason for Call?: is required"),
        (line(colour="red"), "line 2: colour: unknown field"),
        ('{"content": "x", ', "line 2: json: is not valid JSON"),
        ("[1, 2]", "line 2: message: must be a JSON object"),
        (
            line(created_at="2024-03-10T02:30:00"),
            "line 2: created_at: 2024-03-10T02:30:00 does not exist in America/New_York"
            " (a daylight-saving gap)",
        ),
        (line(status="lost"), "line 2: status: must be one of new, delivered, read, archived"),
        (line(is_emergency="yes"), "line 2: is_emergency: must be true or false"),
    ],
)
def test_each_kind_of_bad_line_is_reported(
    database_url: str, tmp_path: Path, engine: Engine, account: Account, bad: str, expected: str
) -> None:
    lines = rejected(import_file(database_url, tmp_path, f"{line()}\n{bad}\n{line()}\n"))
    assert lines[0].startswith(expected), lines
    assert lines[-1] == "error: 1 line is bad; nothing was imported"
    assert stored(engine) == 0


def test_every_bad_field_of_a_line_is_reported(
    database_url: str, tmp_path: Path, account: Account
) -> None:
    bad = json.dumps({"content": " ", "fields": {"Nope": "x"}, "extra": 1})
    lines = rejected(import_file(database_url, tmp_path, bad + "\n"))
    assert sorted(lines[:-1]) == [
        "line 1: content: is required",
        "line 1: extra: unknown field",
        "line 1: fields.Nope: unknown field: not in this account's script",
        "line 1: fields.Reason for Call?: is required",
    ]


def test_more_than_twenty_bad_lines_reports_twenty(
    database_url: str, tmp_path: Path, engine: Engine, account: Account
) -> None:
    text = "\n".join([line(), *[line(content="") for _ in range(25)]]) + "\n"
    lines = rejected(import_file(database_url, tmp_path, text))
    assert lines[:20] == [f"line {n}: content: is required" for n in range(2, 22)]
    assert lines[20:] == [
        "... and 5 more bad lines",
        "error: 25 lines are bad; nothing was imported",
    ]
    assert stored(engine) == 0


def test_unknown_account(database_url: str, tmp_path: Path) -> None:
    lines = rejected(import_file(database_url, tmp_path, line() + "\n", number="404"))
    assert lines == ["error: no account 404"]


def test_import_from_stdin(database_url: str, engine: Engine, account: Account) -> None:
    args = ["--database", database_url, "messages", "import", "--account", "10042", "-"]
    result = CliRunner().invoke(cli, args, input=f"{line()}\n{line()}")
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 2 messages into account 10042\n"
    assert stored(engine) == 2


def test_empty_file_imports_nothing(database_url: str, tmp_path: Path, account: Account) -> None:
    result = import_file(database_url, tmp_path, "\n\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 0 messages into account 10042\n"


def test_missing_file_is_a_usage_error(database_url: str, tmp_path: Path) -> None:
    args = ["--database", database_url, "messages", "import", "--account", "1", "nope.jsonl"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
