"""`answerdesk demo`: realistic data once, fresh tokens every time."""

from __future__ import annotations

import re

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from answerdesk.accounts import find_account, get_script
from answerdesk.cli import cli
from answerdesk.demo import ADMIN_EMAIL, AGENT_EMAIL, DEMO_PASSWORD
from answerdesk.store.engine import create_engine_for_url, read_transaction
from answerdesk.store.tables import accounts, messages, users
from answerdesk.tokens import verify_token
from answerdesk.users import authenticate

CURL = re.compile(
    r'curl -H "X-API-EMAIL: (\S+)" -H "X-API-TOKEN: (\S{64})" http://127\.0\.0\.1:8000/v1/messages'
)


def _demo(database_url: str) -> str:
    result = CliRunner().invoke(cli, ["--database", database_url, "demo"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _count(engine: Engine, table: sa.Table) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_demo_seeds_accounts_users_messages_and_prints_logins(
    database_url: str, engine: Engine
) -> None:
    out = _demo(database_url)
    assert out.startswith("demo data created: 2 accounts, 4 users, 500 messages\n")
    assert "console: http://127.0.0.1:8000/" in out
    assert f"password {DEMO_PASSWORD}" in out
    for email in (ADMIN_EMAIL, AGENT_EMAIL):
        assert email in out
    logins = dict(CURL.findall(out))
    assert set(logins) == {"office@acme-plumbing.example", "reception@berkshire-dental.example"}
    with read_transaction(engine) as connection:
        for email, token in logins.items():
            principal = verify_token(connection, token)
            assert principal is not None and principal.email == email
            assert authenticate(connection, email=email, password=DEMO_PASSWORD)
        assert authenticate(connection, email=AGENT_EMAIL, password=DEMO_PASSWORD)
        acme = find_account(connection, number="10042")
        dental = find_account(connection, number="20077")
        assert acme is not None and acme.timezone == "America/New_York"
        assert dental is not None and (dental.timezone, dental.region) == ("Europe/London", "GB")
        script = get_script(connection, account_id=acme.id)
        assert [(f.label, f.required) for f in script] == [
            ("Reason for Call?", True),
            ("Email", False),
            ("Best time to call", False),
        ]
        rows = connection.execute(sa.select(messages)).all()
    assert len(rows) == 500
    assert any(row.is_emergency for row in rows)
    assert {row.status for row in rows} >= {"new", "delivered", "read"}
    assert all(row.phone.startswith(("+1", "+44")) for row in rows)


def test_demo_messages_read_over_the_api(database_url: str, http) -> None:
    out = _demo(database_url)
    email, token = CURL.findall(out)[0]
    response = http.get("/v1/messages", headers={"X-API-EMAIL": email, "X-API-TOKEN": token})
    assert response.status_code == 200
    listed = response.json()
    assert len(listed) == 300
    assert {m["account_number"] for m in listed} == {"10042"}
    assert any("content_with_additional_details_table__reason_for_call" in m for m in listed)


def test_demo_twice_adds_nothing_but_fresh_tokens(database_url: str, engine: Engine) -> None:
    first = dict(CURL.findall(_demo(database_url)))
    counts = [_count(engine, table) for table in (accounts, users, messages)]
    out = _demo(database_url)
    assert out.startswith("demo data already exists; issued fresh API tokens\n")
    second = dict(CURL.findall(out))
    assert set(second) == set(first)
    assert all(second[email] != first[email] for email in first)
    assert [_count(engine, table) for table in (accounts, users, messages)] == counts
    with read_transaction(engine) as connection:
        assert all(verify_token(connection, token) for token in [*first.values(), *second.values()])


def test_demo_is_deterministic(database_url: str, engine: Engine, tmp_path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _demo(database_url)
    _demo(other)
    columns = [messages.c.first_name, messages.c.last_name, messages.c.phone, messages.c.content]
    query = sa.select(*columns).order_by(messages.c.id)
    second = create_engine_for_url(other)
    try:
        with read_transaction(engine) as one, read_transaction(second) as two:
            assert list(one.execute(query)) == list(two.execute(query))
    finally:
        second.dispose()
