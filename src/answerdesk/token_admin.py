"""Every API token, a page at a time, for the admins' token list."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from answerdesk.store.tables import api_tokens, users
from answerdesk.tokens import TokenInfo


@dataclass(frozen=True)
class OwnedToken:
    info: TokenInfo
    owner_name: str
    owner_role: str


def list_all_tokens(
    connection: sa.Connection,
    *,
    before_id: int | None = None,
    search: str | None = None,
    limit: int = 50,
) -> list[OwnedToken]:
    """Return tokens newest first (keyset on id), optionally of owners matching `search`."""
    query = (
        sa.select(
            api_tokens,
            users.c.email.label("owner_email"),
            users.c.name.label("owner_name"),
            users.c.role.label("owner_role"),
        )
        .join(users, users.c.id == api_tokens.c.user_id)
        .order_by(api_tokens.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(api_tokens.c.id < before_id)
    if search:
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            sa.or_(
                users.c.email.like(pattern, escape="\\"),
                sa.func.lower(users.c.name).like(pattern, escape="\\"),
                api_tokens.c.prefix.like(f"%{search}%"),
            )
        )
    return [
        OwnedToken(
            info=TokenInfo(
                id=row.id,
                user_id=row.user_id,
                owner_email=row.owner_email,
                prefix=row.prefix,
                created_at=row.created_at,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
                last_used_at=row.last_used_at,
            ),
            owner_name=row.owner_name,
            owner_role=row.owner_role,
        )
        for row in connection.execute(query)
    ]
