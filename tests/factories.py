"""Test data: `desk.account()`, `desk.client_of(account)`, `desk.take(account, ...)`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from answerdesk import accounts, tokens, users
from answerdesk.accounts import Account
from answerdesk.messages import take_message_data
from answerdesk.store.engine import write_transaction
from answerdesk.users import User

_numbers = itertools.count(10001)


@dataclass(frozen=True)
class ClientLogin:
    """A client user with a token: what the Messages API needs."""

    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-EMAIL": self.user.email, "X-API-TOKEN": self.token}

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Desk:
    """Verbs that set up what a test needs, each in its own committed transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def account(
        self,
        *,
        number: str | None = None,
        name: str = "Acme Plumbing",
        timezone: str = "America/New_York",
        region: str = "US",
        phone: str | None = "+16175550100",
        fields: list[tuple[str, bool]] | None = None,
    ) -> Account:
        with write_transaction(self.engine) as connection:
            account = accounts.create_account(
                connection,
                number=number or str(next(_numbers)),
                name=name,
                timezone=timezone,
                region=region,
                phone=phone,
            )
            for label, required in fields or []:
                accounts.add_script_field(
                    connection, account_id=account.id, label=label, required=required
                )
        return account

    def user(
        self,
        *,
        role: str,
        account: Account | None = None,
        email: str | None = None,
        name: str | None = None,
        password: str | None = None,
    ) -> User:
        serial = next(_numbers)
        with write_transaction(self.engine) as connection:
            return users.create_user(
                connection,
                email=email or f"{role}{serial}@example.com",
                name=name or f"{role.title()} {serial}",
                role=role,
                account_id=account.id if account else None,
                password=password,
            )

    def token(self, user: User, *, expires_days: int | None = None) -> str:
        with write_transaction(self.engine) as connection:
            _info, token = tokens.create_token(
                connection, user_id=user.id, expires_days=expires_days
            )
        return token

    def client_of(self, account: Account, **user_fields: Any) -> ClientLogin:
        user = self.user(role="client", account=account, **user_fields)
        return ClientLogin(user=user, token=self.token(user))

    def staff(self, role: str = "agent") -> ClientLogin:
        user = self.user(role=role)
        return ClientLogin(user=user, token=self.token(user))

    def take(self, account: Account, content: str = "Please call back", **data: Any) -> int:
        """Take a message as an import would (no agent), return its id."""
        with write_transaction(self.engine) as connection:
            return take_message_data(
                connection,
                account=account,
                data={"content": content, **data},
                taken_by_user_id=None,
            )
