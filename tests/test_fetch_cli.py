"""`answerdesk fetch messages | text-messages` against a live server, on both databases."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from answerdesk.cli import cli
from tests.crm_support import carry_all
from tests.factories import ClientLogin, Desk
from tests.live import live_server_fixture  # noqa: F401  (provides `live_server`)

FIELDS = [("Reason for Call?", False), ("Best time", False)]


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def acme(desk: Desk) -> tuple[list[int], ClientLogin]:
    account = desk.account(fields=FIELDS)
    taken = [
        desk.take(
            account,
            "Leak under the sink",
            first_name="John",
            last_name="Doe",
            phone="6175550123",
            created_at="2024-03-15T10:32:05",
            fields={"Reason for Call?": "Repair"},
        ),
        desk.take(
            account,
            "Call me\nplease",
            company_name="Doe Corp",
            created_at="2024-03-16T09:00:00",
            fields={"Best time": "after 5pm"},
        ),
    ]
    return taken, desk.client_of(account)


def messages_args(url: str, login: ClientLogin, *extra: str) -> list[str]:
    return ["fetch", "messages", "--url", url, "--email", login.user.email, *extra]


def test_json_is_the_api_array(live_server: str, acme) -> None:
    taken, login = acme
    env = {"ANSWERDESK_TOKEN": login.token}
    out = ok(run(*messages_args(live_server, login), env=env))
    objects = json.loads(out)
    assert [obj["message_id"] for obj in objects] == taken
    assert objects[0]["content_with_additional_details_table"] == {"reason_for_call": "Repair"}
    assert login.token not in out


def test_date_range_version_and_jsonl(live_server: str, acme) -> None:
    taken, login = acme
    args = messages_args(
        live_server, login, "--token", login.token, "--from", "03-16-2024", "--version", "2"
    )
    lines = ok(run(*args, "--format", "jsonl")).splitlines()
    assert [json.loads(line)["message_id"] for line in lines] == [taken[1]]
    out = ok(run(*messages_args(live_server, login, "--token", login.token, "--to", "03-15-2024")))
    assert [obj["message_id"] for obj in json.loads(out)] == [taken[0]]


def test_csv_has_a_column_per_key_and_custom_field(live_server: str, acme) -> None:
    taken, login = acme
    out = ok(run(*messages_args(live_server, login, "--format", "csv"), input=login.token + "\n"))
    rows = list(csv.DictReader(io.StringIO(out[out.index("account_number") :])))
    assert [int(row["message_id"]) for row in rows] == taken
    header = list(rows[0])
    assert header[:3] == ["account_number", "resource", "message_id"]
    assert "content_with_additional_details_table" not in header
    assert header[-2:] == [
        "content_with_additional_details_table__reason_for_call",
        "content_with_additional_details_table__best_time",
    ]
    assert rows[0]["content_with_additional_details_table__reason_for_call"] == "Repair"
    assert rows[0]["content_with_additional_details_table__best_time"] == ""
    assert rows[1]["content"] == "Call me\nplease"
    assert rows[0]["is_emergency"] == "false"
    assert rows[0]["phone"] == "+16175550123"


def test_table_is_one_line_per_message(live_server: str, acme) -> None:
    _taken, login = acme
    env = {"ANSWERDESK_TOKEN": login.token}
    lines = ok(run(*messages_args(live_server, login, "--format", "table"), env=env)).splitlines()
    assert lines[0].split() == ["id", "created_at", "from", "phone", "status", "content"]
    assert "John Doe" in lines[1] and "Leak under the sink" in lines[1]
    assert "Doe Corp" in lines[2] and lines[2].endswith("Call me")


def test_errors_are_error_lines(live_server: str, acme) -> None:
    _taken, login = acme
    result = run(*messages_args(live_server, login, "--token", "adk_" + "x" * 60))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {live_server} answered 404: Invalid token"
    result = run(*messages_args(live_server, login, "--token", "t", "--from", "2024-03-15"))
    assert result.exit_code == 2
    assert "MM-DD-YYYY" in result.stderr
    result = run(*messages_args("http://127.0.0.1:9", login, "--token", "t", "--retries", "0"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ConnectError")


@pytest.fixture
def texts(desk: Desk, engine: Engine) -> tuple[list[int], ClientLogin]:
    account = desk.account()
    for number in range(5):
        desk.take(account, f"text {number}", phone=f"+1617555010{number}")
    carry_all(engine)
    login = desk.client_of(account)
    return [], login


def text_ids(out: str) -> list[int]:
    return [obj["id"] for obj in json.loads(out)]


def test_text_messages_pages_and_all(live_server: str, texts) -> None:
    _none, login = texts
    env = {"ANSWERDESK_TOKEN": login.token, "ANSWERDESK_URL": live_server}
    default = text_ids(ok(run("fetch", "text-messages", env=env)))
    assert default == sorted(default, reverse=True) and len(default) == 5
    ascending = sorted(default)
    page = ok(
        run(
            "fetch",
            "text-messages",
            "--page",
            "2",
            "--per-page",
            "2",
            "--sort-by",
            "id:asc",
            env=env,
        )
    )
    assert text_ids(page) == ascending[2:4]
    everything = ok(run("fetch", "text-messages", "--all", "--per-page", "2", env=env))
    assert text_ids(everything) == ascending
    chosen = ok(run("fetch", "text-messages", "--ids", f"{ascending[0]},{ascending[1]}", env=env))
    assert sorted(text_ids(chosen)) == ascending[:2]
    first = json.loads(everything)[0]
    by_lead = ok(
        run(
            "fetch", "text-messages", "--resource-type", first["resource_type"],
            "--resource-id", str(first["resource_id"]), "--format", "jsonl", env=env,
        )
    )  # fmt: skip
    assert [json.loads(line)["id"] for line in by_lead.splitlines()] == [first["id"]]


def test_text_messages_csv_and_table(live_server: str, texts) -> None:
    _none, login = texts
    env = {"ANSWERDESK_TOKEN": login.token}
    out = ok(
        run("fetch", "text-messages", "--url", live_server, "--all", "--format", "csv", env=env)
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5
    assert list(rows[0])[:3] == ["id", "user_id", "user_phone_number"]
    assert rows[0]["incoming"] == "true"
    assert rows[0]["associated_deal_ids"] == ""
    table = ok(run("fetch", "text-messages", "--url", live_server, "--format", "table", env=env))
    lines = table.splitlines()
    assert lines[0].split() == ["id", "sent_at", "resource", "phone", "content"]
    assert len(lines) == 6


def test_text_messages_errors(live_server: str, texts) -> None:
    _none, login = texts
    env = {"ANSWERDESK_TOKEN": login.token, "ANSWERDESK_URL": live_server}
    result = run("fetch", "text-messages", "--all", "--page", "2", env=env)
    assert result.exit_code == 2
    result = run("fetch", "text-messages", "--resource-type", "lead", env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {live_server} answered 400: ")
    result = run("fetch", "text-messages", "--ids", "1,x", env=env)
    assert result.exit_code == 2
    bad = {**env, "ANSWERDESK_TOKEN": "adk_" + "x" * 60}
    result = run("fetch", "text-messages", env=bad)
    assert result.exit_code == 1 and "answered 401" in result.stderr


def test_docs_cover_every_option_and_their_python_compiles() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "integrations.md").read_text()
    for path in (["fetch", "messages"], ["fetch", "text-messages"], ["sync", "pull"]):
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            for option in param.opts:
                assert option in docs, f"{' '.join(path)} {option} is not in docs/integrations.md"
    for block in re.findall(r"```python\n(.*?)```", docs, flags=re.DOTALL):
        compile(block, "docs/integrations.md", "exec")
