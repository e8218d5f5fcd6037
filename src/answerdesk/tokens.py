"""API tokens: issued once, stored as SHA-256, recognisable by prefix and checksum.

Shape (64 characters, the length the official Sell clients insist on):

    adk_ + 54 random base62 characters (≥ 321 bits) + 6-character CRC-32 checksum

The prefix and checksum let secret scanners recognise an answerdesk token and
let us reject a mistyped one without touching the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.errors import TokenNotFound, ValidationFailed
from answerdesk.store.tables import api_tokens, users
from answerdesk.users import Role

PREFIX = "adk_"
TOKEN_LENGTH = 64
_ALPHABET = string.digits + string.ascii_letters
_CHECKSUM_LENGTH = 6
_RANDOM_LENGTH = TOKEN_LENGTH - len(PREFIX) - _CHECKSUM_LENGTH
DISPLAY_PREFIX_LENGTH = 12
#: `last_used_at` is written at most this often per token, not per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token after creation (never the token)."""

    id: int
    user_id: int
    owner_email: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for."""

    token_id: int
    user_id: int
    email: str
    name: str
    role: Role
    account_id: int | None
    last_used_at: datetime | None
    #: Kept so a cached principal (api/auth.py) still expires on time.
    expires_at: datetime | None = None

    def needs_touch(self, now: datetime) -> bool:
        """Tell whether `last_used_at` is stale enough to be written now."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), _CHECKSUM_LENGTH)


def generate_token() -> str:
    """Return a fresh token (not stored anywhere yet)."""
    body = PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + _checksum(body)


def looks_like_token(token: str) -> bool:
    """Check shape and checksum: true for every token we issued, cheaply."""
    if len(token) != TOKEN_LENGTH or not token.startswith(PREFIX):
        return False
    body, check = token[:-_CHECKSUM_LENGTH], token[-_CHECKSUM_LENGTH:]
    if any(char not in _ALPHABET for char in token[len(PREFIX) :]):
        return False
    return hmac.compare_digest(_checksum(body), check)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    connection: sa.Connection, *, user_id: int, expires_days: int | None = None
) -> tuple[TokenInfo, str]:
    """Issue a token for the user; return its info and the token, shown this once."""
    if expires_days is not None and expires_days <= 0:
        raise ValidationFailed({"expires_days": "must be a positive number of days"})
    token = generate_token()
    now = clock.utcnow()
    token_id = connection.execute(
        api_tokens.insert()
        .values(
            user_id=user_id,
            token_hash=hash_token(token),
            prefix=token[:DISPLAY_PREFIX_LENGTH],
            created_at=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    return get_token(connection, token_id=token_id), token


def _info_query() -> sa.Select[tuple[object, ...]]:
    return sa.select(api_tokens, users.c.email.label("owner_email")).join(
        users, users.c.id == api_tokens.c.user_id
    )


def _info(row: sa.Row[tuple[object, ...]]) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        user_id=row.user_id,
        owner_email=row.owner_email,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def get_token(connection: sa.Connection, *, token_id: int) -> TokenInfo:
    row = connection.execute(_info_query().where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise TokenNotFound()
    return _info(row)


def list_tokens(
    connection: sa.Connection, *, user_id: int | None = None, account_id: int | None = None
) -> list[TokenInfo]:
    """Return tokens, newest first, of one user, one account's users, or everyone."""
    query = _info_query().order_by(api_tokens.c.id.desc())
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    if account_id is not None:
        query = query.where(users.c.account_id == account_id)
    return [_info(row) for row in connection.execute(query)]


def revoke_token(connection: sa.Connection, *, token_id: int, user_id: int | None = None) -> None:
    """Revoke a token (of `user_id` only, when given); revoking twice is harmless."""
    query = api_tokens.update().where(api_tokens.c.id == token_id)
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    result = connection.execute(
        query.where(api_tokens.c.revoked_at.is_(None)).values(revoked_at=clock.utcnow())
    )
    if result.rowcount == 0:
        get_token(connection, token_id=token_id)  # raises TokenNotFound if absent
        if user_id is not None and get_token(connection, token_id=token_id).user_id != user_id:
            raise TokenNotFound()


def verify_token(connection: sa.Connection, token: str) -> Principal | None:
    """Return who the token speaks for, or None if it is unknown, revoked or expired.

    The lookup is by SHA-256, so how long it takes tells nothing about how
    close a guess was; the final comparison is constant-time as well.
    """
    if not looks_like_token(token):
        return None
    digest = hash_token(token)
    row = connection.execute(
        sa.select(
            api_tokens.c.id,
            api_tokens.c.token_hash,
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
            api_tokens.c.last_used_at,
            users.c.id.label("user_id"),
            users.c.email,
            users.c.name,
            users.c.role,
            users.c.account_id,
            users.c.disabled,
        )
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == digest)
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = clock.utcnow()
    if row.revoked_at is not None or row.disabled:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return Principal(
        token_id=row.id,
        user_id=row.user_id,
        email=row.email,
        name=row.name,
        role=row.role,
        account_id=row.account_id,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
    )


def touch_last_used(connection: sa.Connection, *, token_id: int) -> None:
    """Record use; the condition keeps concurrent requests from writing it twice.

    Callers check `Principal.needs_touch` first, so a read request opens a
    write transaction at most once a minute per token.
    """
    now = clock.utcnow()
    connection.execute(
        api_tokens.update()
        .where(
            api_tokens.c.id == token_id,
            sa.or_(
                api_tokens.c.last_used_at.is_(None),
                api_tokens.c.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
