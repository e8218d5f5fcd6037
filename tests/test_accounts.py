"""Accounts and users refuse values the columns cannot hold, on both databases."""

from __future__ import annotations

import pytest

from answerdesk import accounts, users
from answerdesk.errors import Conflict, ValidationFailed
from answerdesk.store.engine import write_transaction


def test_account_inputs_are_checked(engine) -> None:
    with write_transaction(engine) as connection:
        with pytest.raises(ValidationFailed) as bad:
            accounts.create_account(
                connection, number="9" * 33, name="n" * 201, region="XX", phone="1" * 41
            )
        assert set(bad.value.errors) == {"number", "name", "region", "phone"}
        with pytest.raises(ValidationFailed):
            accounts.create_account(connection, number="1", name="A", timezone="Mars/Base")
        account = accounts.create_account(connection, number="1", name="A")
        with pytest.raises(Conflict):
            accounts.create_account(connection, number="1", name="B")
        with pytest.raises(ValidationFailed):
            accounts.add_script_field(connection, account_id=account.id, label="L" * 201)
        with pytest.raises(ValidationFailed):
            accounts.update_account(connection, account_id=account.id, phone="1" * 41)


def test_user_inputs_are_checked(engine) -> None:
    with write_transaction(engine) as connection:
        account = accounts.create_account(connection, number="1", name="A")
        with pytest.raises(ValidationFailed) as bad:
            users.create_user(connection, email="nope", name="x" * 201, role="client")
        assert {"name", "account"} <= set(bad.value.errors)
        with pytest.raises(ValidationFailed):
            users.create_user(connection, email="a@example.com", name="A", role="boss")
        with pytest.raises(ValidationFailed):
            users.create_user(
                connection, email="a@example.com", name="A", role="agent", account_id=account.id
            )
        users.create_user(connection, email="A@Example.com", name="A", role="agent")
        with pytest.raises(Conflict):
            users.create_user(connection, email="a@example.COM", name="B", role="agent")
        with pytest.raises(ValidationFailed):
            users.create_user(
                connection, email="b@example.com", name="B", role="agent", password="short"
            )
