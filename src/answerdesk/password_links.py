"""One-use links that set a password: invitations and password resets.

The link carries a random token; the store keeps its SHA-256 only. Using a
link sets the password, spends every open link of that user and signs the
user out everywhere, so an old reset e-mail cannot be replayed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Literal

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.errors import NotFound
from answerdesk.sessions import end_user_sessions
from answerdesk.store.tables import password_links
from answerdesk.users import User, get_user, set_password

Purpose = Literal["invite", "reset"]
LIFETIMES: dict[str, timedelta] = {"invite": timedelta(days=7), "reset": timedelta(hours=2)}


class LinkNotFound(NotFound):
    default_message = "This link is invalid, used or expired"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_link(connection: sa.Connection, *, user_id: int, purpose: Purpose) -> str:
    """Create a link token for the user; it is shown (e-mailed) once, never stored."""
    now = clock.utcnow()
    token = secrets.token_urlsafe(32)
    connection.execute(
        password_links.insert().values(
            user_id=user_id,
            token_hash=_digest(token),
            purpose=purpose,
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def link_user(connection: sa.Connection, *, token: str) -> tuple[User, Purpose]:
    """Return whose link this is and what for, or raise LinkNotFound."""
    if not token or len(token) > 100:
        raise LinkNotFound()
    row = connection.execute(
        sa.select(password_links).where(password_links.c.token_hash == _digest(token))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= clock.utcnow():
        raise LinkNotFound()
    user = get_user(connection, user_id=row.user_id)
    if user.disabled:
        raise LinkNotFound()
    return user, row.purpose


def redeem_link(connection: sa.Connection, *, token: str, password: str) -> User:
    """Set the password through the link and spend all of the user's open links."""
    user, _purpose = link_user(connection, token=token)
    set_password(connection, user_id=user.id, password=password)
    connection.execute(
        password_links.update()
        .where(password_links.c.user_id == user.id, password_links.c.used_at.is_(None))
        .values(used_at=clock.utcnow())
    )
    end_user_sessions(connection, user_id=user.id)
    return user
