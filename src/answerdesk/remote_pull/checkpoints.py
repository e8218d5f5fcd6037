"""The pull's memory in the database: a checkpoint per source and the remote-to-local map.

Every function takes the caller's connection: the map row of a remote
message is written in the same transaction as its local copy and the
checkpoint, so after a crash either all three exist or none does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.errors import ValidationFailed
from answerdesk.store.tables import pull_checkpoints, pulled_messages

MAX_SOURCE_LENGTH = 500
MAX_ERROR_LENGTH = 2000


def source_key(url: str) -> str:
    """Normalise a base URL so one server is one source, however its URL is typed.

    The scheme and host are lower-cased and a trailing `/` dropped. The API
    version is not part of it: `/v1` and `/v2` serve the same messages.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationFailed({"url": "must be an http:// or https:// URL"})
    key = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    if len(key) > MAX_SOURCE_LENGTH:
        raise ValidationFailed({"url": f"must be at most {MAX_SOURCE_LENGTH} characters"})
    return key


def _checkpoint_row(connection: sa.Connection, source: str, account_id: int) -> sa.Row[Any] | None:
    return connection.execute(
        sa.select(pull_checkpoints).where(
            pull_checkpoints.c.source_url == source, pull_checkpoints.c.account_id == account_id
        )
    ).first()


def last_remote_id(connection: sa.Connection, *, source: str, account_id: int) -> int | None:
    """Return the highest remote message_id copied from `source`, or None before the first."""
    row = _checkpoint_row(connection, source, account_id)
    return None if row is None else int(row.last_remote_id) if row.last_remote_id else None


def advance(
    connection: sa.Connection,
    *,
    source: str,
    account_id: int,
    remote_id: int | None = None,
    pulled_at: datetime | None = None,
) -> None:
    """Move the checkpoint forward to `remote_id` (never back); note when a pass ended."""
    row = _checkpoint_row(connection, source, account_id)
    if row is None:
        connection.execute(
            pull_checkpoints.insert().values(
                source_url=source,
                account_id=account_id,
                last_remote_id=remote_id,
                last_pulled_at=pulled_at,
                created_at=clock.utcnow(),
            )
        )
        return
    values: dict[str, object] = {}
    if remote_id is not None and (row.last_remote_id is None or remote_id > row.last_remote_id):
        values["last_remote_id"] = remote_id
    if pulled_at is not None:
        values["last_pulled_at"] = pulled_at
    if values:
        connection.execute(
            pull_checkpoints.update().where(pull_checkpoints.c.id == row.id).values(**values)
        )


def local_ids(
    connection: sa.Connection, *, source: str, account_id: int, remote_ids: Iterable[int]
) -> dict[int, int | None]:
    """Map the remote ids already handled to their local message id (None: skipped)."""
    wanted = list(remote_ids)
    found: dict[int, int | None] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        rows = connection.execute(
            sa.select(
                pulled_messages.c.remote_message_id, pulled_messages.c.local_message_id
            ).where(
                pulled_messages.c.source_url == source,
                pulled_messages.c.account_id == account_id,
                pulled_messages.c.remote_message_id.in_(chunk),
            )
        )
        found.update({row.remote_message_id: row.local_message_id for row in rows})
    return found


def record(
    connection: sa.Connection,
    *,
    source: str,
    account_id: int,
    remote_id: int,
    local_id: int | None,
    error: str | None = None,
) -> None:
    """Remember a remote message as handled; a second record of it violates UNIQUE."""
    connection.execute(
        pulled_messages.insert().values(
            source_url=source,
            account_id=account_id,
            remote_message_id=remote_id,
            local_message_id=local_id,
            error=error[:MAX_ERROR_LENGTH] if error else None,
            pulled_at=clock.utcnow(),
        )
    )
