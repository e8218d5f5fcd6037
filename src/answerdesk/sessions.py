"""Console sign-in sessions, kept server-side so signing out or disabling a user ends them.

The browser holds a random token in an HttpOnly cookie; the store keeps only
its SHA-256, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.store.tables import console_sessions, users
from answerdesk.users import User

TOKEN_BYTES = 32


@dataclass(frozen=True)
class ConsoleSession:
    """A live session and the enabled user it belongs to."""

    id: int
    user: User
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(connection: sa.Connection, *, user_id: int, lifetime: timedelta) -> str:
    """Open a session for the user and return its token (for the cookie only).

    Expired sessions are pruned here, so the table never grows past the
    sessions that are live or died since the last sign-in.
    """
    now = clock.utcnow()
    connection.execute(console_sessions.delete().where(console_sessions.c.expires_at <= now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    connection.execute(
        console_sessions.insert().values(
            token_hash=_digest(token), user_id=user_id, created_at=now, expires_at=now + lifetime
        )
    )
    return token


def load_session(connection: sa.Connection, *, token: str) -> ConsoleSession | None:
    """Return the session for this cookie token, or None if unknown, expired or disabled."""
    if not token or len(token) > 100:
        return None
    row = connection.execute(
        sa.select(
            console_sessions.c.id.label("session_id"),
            console_sessions.c.expires_at,
            users,
        )
        .join(users, users.c.id == console_sessions.c.user_id)
        .where(console_sessions.c.token_hash == _digest(token))
    ).first()
    if row is None or row.disabled or row.expires_at <= clock.utcnow():
        return None
    user = User(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        account_id=row.account_id,
        disabled=row.disabled,
    )
    return ConsoleSession(id=row.session_id, user=user, expires_at=row.expires_at)


def end_session(connection: sa.Connection, *, token: str) -> None:
    """Sign this browser out; an unknown token is already signed out."""
    connection.execute(
        console_sessions.delete().where(console_sessions.c.token_hash == _digest(token))
    )


def end_user_sessions(connection: sa.Connection, *, user_id: int) -> None:
    """Sign the user out everywhere (disabled, or the password changed)."""
    connection.execute(console_sessions.delete().where(console_sessions.c.user_id == user_id))
