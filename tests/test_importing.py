"""`importing.import_messages`, the domain under `messages import` (and the console)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account
from answerdesk.importing import MAX_REPORTED_LINES, ImportFailed, LineProblem, import_messages
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import messages
from tests.factories import Desk


@pytest.fixture
def account(desk: Desk) -> Account:
    return desk.account(fields=[("Reason", True)])


def _count(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()
        )


def _line(content: str = "Call back") -> str:
    return json.dumps({"content": content, "fields": {"Reason": "Leak"}})


def test_lines_may_be_text_or_bytes_read_once(engine: Engine, account: Account) -> None:
    def lines() -> Iterator[str | bytes]:
        yield "\ufeff" + _line("one") + "\n"  # a byte-order mark on the first line
        yield _line("two").encode() + b"\r\n"
        yield b"\n"

    with write_transaction(engine) as connection:
        assert import_messages(connection, account=account, lines=lines()) == 2
    with read_transaction(engine) as connection:
        contents = connection.execute(sa.select(messages.c.content).order_by(messages.c.id))
        assert [row.content for row in contents] == ["one", "two"]


def test_failure_names_lines_and_the_callers_rollback_undoes_earlier_lines(
    engine: Engine, account: Account
) -> None:
    lines = [_line(), _line(), "{oops", "", b"\xff\xfe not utf-8\n", _line()]
    with pytest.raises(ImportFailed) as caught, write_transaction(engine) as connection:
        import_messages(connection, account=account, lines=lines)
    error = caught.value
    assert error.bad_lines == 2
    assert [(p.line, p.field) for p in error.problems] == [(3, "json"), (5, "json")]
    assert error.errors == {f"line {p.line}: {p.field}": p.problem for p in error.problems}
    assert error.message == "2 lines are bad; nothing was imported"
    assert _count(engine) == 0


def test_only_the_first_lines_are_detailed(engine: Engine, account: Account) -> None:
    lines = [_line("")] * (MAX_REPORTED_LINES + 3)
    with pytest.raises(ImportFailed) as caught, write_transaction(engine) as connection:
        import_messages(connection, account=account, lines=lines)
    assert caught.value.bad_lines == MAX_REPORTED_LINES + 3
    assert len(caught.value.problems) == MAX_REPORTED_LINES
    assert caught.value.problems[0] == LineProblem(1, "content", "is required")
    assert str(caught.value.problems[0]) == "line 1: content: is required"


def test_an_overlong_phone_is_a_line_error_on_every_database(
    engine: Engine, account: Account
) -> None:
    """The input check matches the column's width, so no database ever refuses it."""
    long_phone = "ext " + "9" * 60
    lines = [_line(), json.dumps({"content": "x", "phone": long_phone, "fields": {"Reason": "y"}})]
    with pytest.raises(ImportFailed) as caught, write_transaction(engine) as connection:
        import_messages(connection, account=account, lines=lines)
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (2, "phone")
    assert problem.problem == "must be at most 40 characters"
    assert _count(engine) == 0
