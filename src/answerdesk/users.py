"""People who use answerdesk: admins, agents, and clients of one account."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email

from answerdesk import clock
from answerdesk.errors import Conflict, UserNotFound, ValidationFailed
from answerdesk.phones import clean_text
from answerdesk.store.tables import users

Role = Literal["admin", "agent", "client"]
ROLES: tuple[Role, ...] = ("admin", "agent", "client")
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a sign-in for a missing
    user costs the same time as one with a wrong password."""
    return _hasher.hash("answerdesk-timing-equaliser")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    account_id: int | None
    disabled: bool


def _user(row: sa.Row[tuple[object, ...]]) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        account_id=row.account_id,
        disabled=row.disabled,
    )


def normalise_email(email: str) -> str:
    """Return the address trimmed and lower-cased, or raise naming the field."""
    text = (clean_text(email) or "").lower()
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed({"email": str(error)}) from None
    return text


def hash_password(password: str) -> str:
    """Hash with argon2id (a slow, memory-hard KDF)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"must be at least {MIN_PASSWORD_LENGTH} characters"})
    return _hasher.hash(password)


def create_user(
    connection: sa.Connection,
    *,
    email: str,
    name: str,
    role: str,
    account_id: int | None = None,
    password: str | None = None,
) -> User:
    """Create a user; a client belongs to exactly one account, staff to none."""
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = "must be one of admin, agent, client"
    if not clean_text(name):
        errors["name"] = "is required"
    elif len(name.strip()) > 200:
        errors["name"] = "must be at most 200 characters"
    if role == "client" and account_id is None:
        errors["account"] = "a client user needs an account"
    if role in ("admin", "agent") and account_id is not None:
        errors["account"] = "only client users belong to an account"
    if errors:
        raise ValidationFailed(errors)
    address = normalise_email(email)
    if find_user(connection, email=address) is not None:
        raise Conflict(f"a user with e-mail {address} already exists")
    user_id = connection.execute(
        users.insert()
        .values(
            email=address,
            name=name.strip(),
            role=role,
            account_id=account_id,
            password_hash=hash_password(password) if password else None,
            disabled=False,
            created_at=clock.utcnow(),
        )
        .returning(users.c.id)
    ).scalar_one()
    return get_user(connection, user_id=user_id)


def find_user(connection: sa.Connection, *, email: str) -> User | None:
    """Return the user with this e-mail (any case), or None."""
    row = connection.execute(sa.select(users).where(users.c.email == email.strip().lower())).first()
    return _user(row) if row else None


def get_user(connection: sa.Connection, *, user_id: int) -> User:
    row = connection.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise UserNotFound()
    return _user(row)


def account_clients(connection: sa.Connection, *, account_id: int) -> list[User]:
    """Return the account's client users, lowest id first."""
    rows = connection.execute(
        sa.select(users)
        .where(users.c.account_id == account_id, users.c.role == "client")
        .order_by(users.c.id)
    )
    return [_user(row) for row in rows]


def set_password(connection: sa.Connection, *, user_id: int, password: str) -> None:
    connection.execute(
        users.update().where(users.c.id == user_id).values(password_hash=hash_password(password))
    )


def authenticate(connection: sa.Connection, *, email: str, password: str) -> User | None:
    """Return the enabled user whose password this is, else None (same cost either way)."""
    row = connection.execute(sa.select(users).where(users.c.email == email.strip().lower())).first()
    stored = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.password_hash or row.disabled:
        return None
    return _user(row)
