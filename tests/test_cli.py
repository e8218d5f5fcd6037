"""The command line: every command's happy path, output shape, and error lines."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from answerdesk import tokens
from answerdesk.accounts import find_account, get_script, list_accounts
from answerdesk.cli import cli
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import messages
from answerdesk.users import authenticate, find_user
from tests.factories import Desk

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str) -> Run:
    """Run `answerdesk --database <test db> ARGS...` in-process."""

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["--database", database_url, *args], input=input)

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def failed(result: Result) -> str:
    """Assert the command failed the CLI way: status 1, `error:` lines, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith("error: ")
    return result.stderr


def test_accounts_add_and_field(run: Run, engine: Engine) -> None:
    out = ok(
        run(
            "accounts", "add", "--number", "20077", "--name", "Berkshire Dental",
            "--timezone", "Europe/London", "--region", "gb", "--phone", "0118 496 0000",
        )
    )  # fmt: skip
    assert out == (
        "created account 20077 (Berkshire Dental): time zone Europe/London,"
        " region GB, phone +441184960000\n"
    )
    out = ok(run("accounts", "field", "--number", "20077", "--label", "Reason?", "--required"))
    assert out == "added field 1 'Reason?' (required) to account 20077\n"
    out = ok(run("accounts", "field", "--number", "20077", "--label", "Email"))
    assert out == "added field 2 'Email' (optional) to account 20077\n"
    with read_transaction(engine) as connection:
        account = find_account(connection, number="20077")
        assert account is not None
        script = get_script(connection, account_id=account.id)
    assert [(f.label, f.required) for f in script] == [("Reason?", True), ("Email", False)]


def test_accounts_add_defaults(run: Run) -> None:
    out = ok(run("accounts", "add", "--number", "1", "--name", "Acme"))
    assert out == "created account 1 (Acme): time zone America/New_York, region US, phone -\n"


def test_accounts_errors(run: Run) -> None:
    ok(run("accounts", "add", "--number", "1", "--name", "Acme"))
    assert failed(run("accounts", "add", "--number", "1", "--name", "Again")) == (
        "error: account 1 already exists\n"
    )
    err = failed(run("accounts", "add", "--number", "2", "--name", "B", "--timezone", "Mars/Base"))
    assert err == "error: timezone: unknown IANA time zone 'Mars/Base'\n"
    err = failed(run("accounts", "add", "--number", "3", "--name", " ", "--region", "XX"))
    assert err == "error: name: is required\nerror: region: unknown phone region 'XX'\n"
    assert failed(run("accounts", "field", "--number", "9", "--label", "X")) == (
        "error: no account 9\n"
    )


def test_accounts_update_changes_settings_and_re_renders_a_new_zone(
    run: Run, engine: Engine, desk: Desk
) -> None:
    account = desk.account(number="30001", timezone="America/New_York")
    for n in range(3):
        desk.take(account, f"Call back #{n}")
    out = ok(run("accounts", "update", "--number", "30001", "--name", "Renamed Co", "--phone", ""))
    assert out == (
        "updated account 30001 (Renamed Co): time zone America/New_York, region US, phone -\n"
    )
    out = ok(run("accounts", "update", "--number", "30001", "--timezone", "Asia/Tokyo"))
    assert out == (
        "updated account 30001 (Renamed Co): time zone Asia/Tokyo, region US, phone -\n"
        "re-rendered 3 of 3 messages of account 30001 (Asia/Tokyo)\n"
    )
    with read_transaction(engine) as connection:
        zones = set(
            connection.execute(
                sa.select(messages.c.wire_zone).where(messages.c.account_id == account.id)
            ).scalars()
        )
        assert list_accounts(connection, owing_rerender=True) == []
    assert zones == {"Asia/Tokyo"}


def test_accounts_update_errors(run: Run, desk: Desk) -> None:
    desk.account(number="30002")
    assert failed(run("accounts", "update", "--number", "9", "--name", "X")) == (
        "error: no account 9\n"
    )
    err = failed(run("accounts", "update", "--number", "30002", "--timezone", "Mars/Base"))
    assert err == "error: timezone: unknown IANA time zone 'Mars/Base'\n"


def test_users_add_every_role(run: Run, engine: Engine) -> None:
    ok(run("accounts", "add", "--number", "10042", "--name", "Acme"))
    out = ok(
        run(
            "users", "add", "--email", "Office@Acme.example", "--name", "Maria Lopez",
            "--role", "client", "--account", "10042", "--password-stdin",
            input="correct horse battery\n",
        )
    )  # fmt: skip
    assert re.fullmatch(
        r"created client user office@acme\.example \(Maria Lopez\), account 10042, id \d+\n", out
    )
    out = ok(run("users", "add", "--email", "agent@x.example", "--name", "Al", "--role", "agent"))
    assert re.fullmatch(
        r"created agent user agent@x\.example \(Al\), id \d+\n"
        r"no password set: the user cannot sign in until one is set\n",
        out,
    )
    ok(run("users", "add", "--email", "root@x.example", "--name", "Root", "--role", "admin"))
    with read_transaction(engine) as connection:
        assert authenticate(
            connection, email="office@acme.example", password="correct horse battery"
        )
        admin = find_user(connection, email="root@x.example")
    assert admin is not None and admin.role == "admin"


def test_users_add_errors(run: Run) -> None:
    ok(run("accounts", "add", "--number", "1", "--name", "Acme"))
    args = ("users", "add", "--email", "a@x.example", "--name", "A")
    assert failed(run(*args, "--role", "client")) == (
        "error: account: a client user needs an account\n"
    )
    assert failed(run(*args, "--role", "client", "--account", "404")) == "error: no account 404\n"
    assert failed(
        run(*args, "--role", "client", "--account", "1", "--password-stdin", input="short\n")
    ) == ("error: password: must be at least 10 characters\n")
    assert failed(run(*args, "--role", "agent", "--password-stdin", input="")) == (
        "error: password: no password on stdin\n"
    )
    assert failed(
        run("users", "add", "--email", "not-an-address", "--name", "A", "--role", "agent")
    )
    ok(run(*args, "--role", "agent"))
    assert failed(run(*args, "--role", "agent")) == (
        "error: a user with e-mail a@x.example already exists\n"
    )
    usage = run(*args, "--role", "boss")
    assert usage.exit_code == 2 and "Traceback" not in usage.output


def _client(run: Run) -> None:
    ok(run("accounts", "add", "--number", "10042", "--name", "Acme"))
    ok(
        run(
            "users",
            "add",
            "--email",
            "c@x.example",
            "--name",
            "C",
            "--role",
            "client",
            "--account",
            "10042",
        )
    )


def test_tokens_create_prints_the_token_alone_on_the_last_line(run: Run, engine: Engine) -> None:
    _client(run)
    out = ok(run("tokens", "create", "--email", "C@X.example"))
    *explanation, token = out.splitlines()
    assert len(token) == 64 and token.strip() == token
    assert "shown only this once" in "\n".join(explanation)
    assert re.match(r"token \d+ for c@x\.example \(client\), expires -$", explanation[0])
    with read_transaction(engine) as connection:
        principal = tokens.verify_token(connection, token)
    assert principal is not None and principal.email == "c@x.example"


def test_tokens_create_with_expiry(run: Run, engine: Engine) -> None:
    _client(run)
    out = ok(run("tokens", "create", "--email", "c@x.example", "--expires-days", "7"))
    assert re.search(r"expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", out)
    with read_transaction(engine) as connection:
        info = tokens.list_tokens(connection)[0]
    assert info.expires_at is not None
    assert (info.expires_at - info.created_at).days == 7
    assert run("tokens", "create", "--email", "c@x.example", "--expires-days", "0").exit_code == 2
    assert failed(run("tokens", "create", "--email", "nobody@x.example")) == (
        "error: no user with e-mail nobody@x.example\n"
    )


def test_tokens_list_shows_prefixes_never_tokens(run: Run) -> None:
    _client(run)
    ok(run("users", "add", "--email", "a@x.example", "--name", "A", "--role", "agent"))
    first = ok(run("tokens", "create", "--email", "c@x.example")).splitlines()[-1]
    second = ok(run("tokens", "create", "--email", "a@x.example")).splitlines()[-1]
    out = ok(run("tokens", "list"))
    header, *rows = out.splitlines()
    assert header.split() == [
        "ID",
        "OWNER",
        "PREFIX",
        "CREATED",
        "LAST",
        "USED",
        "EXPIRES",
        "REVOKED",
    ]
    assert first not in out and second not in out
    assert [row.split()[1:3] for row in rows] == [
        ["a@x.example", second[:12]],
        ["c@x.example", first[:12]],
    ]
    for row in rows:
        cells = row.split()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cells[3])
        assert cells[4:] == ["-", "-", "-"]
    only = ok(run("tokens", "list", "--email", "c@x.example")).splitlines()
    assert len(only) == 2 and "c@x.example" in only[1]
    assert failed(run("tokens", "list", "--email", "z@x.example")) == (
        "error: no user with e-mail z@x.example\n"
    )


def test_tokens_list_empty(run: Run) -> None:
    assert ok(run("tokens", "list")) == "no tokens\n"


def test_tokens_revoke(run: Run, engine: Engine) -> None:
    _client(run)
    token = ok(run("tokens", "create", "--email", "c@x.example")).splitlines()[-1]
    token_id = ok(run("tokens", "list")).splitlines()[1].split()[0]
    out = ok(run("tokens", "revoke", token_id))
    assert out == f"revoked token {token_id} ({token[:12]}) of c@x.example\n"
    with read_transaction(engine) as connection:
        assert tokens.verify_token(connection, token) is None
    assert ok(run("tokens", "list")).splitlines()[1].split()[-1] == "revoked"
    assert ok(run("tokens", "revoke", token_id)) == (
        f"token {token_id} ({token[:12]}) was already revoked\n"
    )
    assert failed(run("tokens", "revoke", "999")) == "error: no token 999\n"


def test_db_upgrade_is_idempotent(run: Run) -> None:
    assert re.fullmatch(r"database already at revision \w+\n", ok(run("db", "upgrade")))


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(cli, ["--database", url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"database upgraded from revision none to \w+\n", result.stdout)


def test_every_command_migrates_a_fresh_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(
        cli, ["--database", url, "accounts", "add", "--number", "1", "--name", "A"]
    )
    assert result.exit_code == 0, result.output


def test_database_from_the_environment(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    result = CliRunner().invoke(cli, ["tokens", "list"], env={"ANSWERDESK_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://nobody@127.0.0.1:1/none", "error: database: "),
        ("not a url", "error: database URL: "),
        ("mysql://localhost/x", "error: database URL: "),
        ("sqlite:////nonexistent-dir/answerdesk.db", "error: database: "),
    ],
)
def test_unusable_database_is_one_error_line(url: str, expected: str) -> None:
    result = CliRunner().invoke(cli, ["--database", url, "tokens", "list"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(expected)


def test_bad_setting_is_one_error_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(
        cli, ["--database", url, "tokens", "list"], env={"ANSWERDESK_POOL_SIZE": "many"}
    )
    assert result.exit_code == 1
    assert result.stderr == "error: settings: ANSWERDESK_POOL_SIZE must be an integer, got 'many'\n"


def test_answer_cache_size_must_not_be_negative(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(
        cli, ["--database", url, "tokens", "list"], env={"ANSWERDESK_ANSWER_CACHE_MB": "-1"}
    )
    assert result.exit_code == 1
    assert (
        result.stderr == "error: settings: ANSWERDESK_ANSWER_CACHE_MB must be 0 or more, got -1\n"
    )
