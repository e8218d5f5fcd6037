"""Manage people from the console: list, create with every error at once, disable.

Signing in and passwords live in `users`; this module adds what an admin
does to other people's accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from answerdesk.errors import ValidationFailed
from answerdesk.phones import clean_text
from answerdesk.sessions import end_user_sessions
from answerdesk.store.tables import accounts, users
from answerdesk.users import ROLES, User, create_user, find_user, get_user, normalise_email

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class UserRow:
    """A user as the admin list shows it, with the account's number."""

    user: User
    account_number: str | None


@dataclass(frozen=True)
class UserForm:
    email: str
    name: str
    role: str
    account_number: str


def list_users(
    connection: sa.Connection,
    *,
    search: str | None = None,
    role: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[UserRow]:
    """Return users by id, a page at a time, optionally filtered by role and text."""
    query = (
        sa.select(users, accounts.c.number.label("account_number"))
        .outerjoin(accounts, accounts.c.id == users.c.account_id)
        .order_by(users.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(users.c.id > after_id)
    if role in ROLES:
        query = query.where(users.c.role == role)
    if search:
        pattern = (
            "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            sa.or_(
                users.c.email.like(pattern, escape="\\"),
                sa.func.lower(users.c.name).like(pattern, escape="\\"),
            )
        )
    return [
        UserRow(
            user=User(
                id=row.id,
                email=row.email,
                name=row.name,
                role=row.role,
                account_id=row.account_id,
                disabled=row.disabled,
            ),
            account_number=row.account_number,
        )
        for row in connection.execute(query)
    ]


def create_from_form(connection: sa.Connection, *, form: UserForm) -> User:
    """Create a user without a password (they set it through an invitation)."""
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normalise_email(form.email)
    except ValidationFailed as error:
        errors["email"] = "must be a valid e-mail address" if form.email.strip() else "is required"
        del error
    if email and find_user(connection, email=email) is not None:
        errors["email"] = "is already used by another user"
    name = clean_text(form.name)
    if name is None:
        errors["name"] = "is required"
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = f"must be at most {MAX_NAME_LENGTH} characters"
    if form.role not in ROLES:
        errors["role"] = "must be admin, agent or client"
    account_id: int | None = None
    number = clean_text(form.account_number)
    if form.role == "client":
        if number is None:
            errors["account_number"] = "is required for a client"
        else:
            row = connection.execute(
                sa.select(accounts.c.id).where(accounts.c.number == number)
            ).first()
            if row is None:
                errors["account_number"] = "does not match any account"
            else:
                account_id = row.id
    elif number is not None and form.role in ROLES:
        errors["account_number"] = "must be empty for admins and agents"
    if errors:
        raise ValidationFailed(errors)
    return create_user(
        connection, email=email, name=name or "", role=form.role, account_id=account_id
    )


def set_disabled(connection: sa.Connection, *, user_id: int, disabled: bool) -> User:
    """Disable (signing the user out everywhere, tokens stop working) or re-enable."""
    get_user(connection, user_id=user_id)
    connection.execute(users.update().where(users.c.id == user_id).values(disabled=disabled))
    if disabled:
        end_user_sessions(connection, user_id=user_id)
    return get_user(connection, user_id=user_id)
