"""Keep each message's stored wire JSON (`messages.wire`) in step with its row.

Every write to a message calls `refresh_wire` in the same transaction, so a
reader that finds `wire_zone` equal to the account's zone can serve `wire`
as it is. A time-zone change needs no write here: the zone no longer
matches, and readers render those rows from their columns (correct, but the
slow path) until the account's messages are re-rendered with
`refresh_chunk` (`messages/rerender.py` drives it, chunk by chunk, from the
console, the command line and `answerdesk messages prerender`).

Nothing else baked into `wire` can change after it is written: the account
number is left out and prepended when read (`wire.object_prefix`), custom
fields are a snapshot of labels and values taken with the message, and the
only writes to a message (`take_message`, `change_status`) refresh it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from answerdesk.errors import AccountNotFound
from answerdesk.messages.wire import stored_wire
from answerdesk.store.tables import accounts, messages

#: Rows re-rendered per statement by `refresh_account`.
REFRESH_BATCH = 500

#: What a re-render reads of a message: every column but the old JSON itself.
_RENDER_COLUMNS = [column for column in messages.c if column.name != "wire"]


@dataclass(frozen=True)
class Chunk:
    """What one `refresh_chunk` did."""

    #: Messages of the account looked at (0: the walk is over).
    seen: int
    #: Of those, re-rendered (their stored JSON was missing, stale or forced).
    rendered: int
    #: The highest id looked at: where the next chunk starts.
    last_id: int


def refresh_wire(connection: sa.Connection, *, message_id: int) -> None:
    """Re-render one message's stored wire JSON in its account's current zone."""
    row = connection.execute(
        sa.select(messages, accounts.c.timezone.label("account_timezone"))
        .join(accounts, accounts.c.id == messages.c.account_id)
        .where(messages.c.id == message_id)
    ).first()
    if row is None:
        return
    wire, zone = stored_wire(row, zone=ZoneInfo(row.account_timezone))
    connection.execute(
        messages.update().where(messages.c.id == message_id).values(wire=wire, wire_zone=zone)
    )


def refresh_chunk(
    connection: sa.Connection,
    *,
    account_id: int,
    after_id: int = 0,
    size: int = REFRESH_BATCH,
    force: bool = False,
) -> Chunk:
    """Re-render the stale ones among the account's next `size` messages after `after_id`.

    Keyset by id on the (account_id, id) index, so each chunk costs the same
    however far into a big account it is, and a walk that stops (a crash, a
    stop request) can be started again from anywhere. The account's zone is
    read in this transaction, so a chunk never writes a zone older than the
    one it saw. The chunk's rows are locked (PostgreSQL `FOR UPDATE`; SQLite
    has one writer), so a status change cannot slip in between reading a row
    and storing its JSON. `force` re-renders rows already in the right zone
    too (after a time-zone database update, or a release that renders
    differently).
    """
    timezone = connection.execute(
        sa.select(accounts.c.timezone).where(accounts.c.id == account_id)
    ).scalar()
    if timezone is None:
        raise AccountNotFound()
    rows = connection.execute(
        sa.select(*_RENDER_COLUMNS, messages.c.wire.is_(None).label("no_wire"))
        .where(messages.c.account_id == account_id, messages.c.id > after_id)
        .order_by(messages.c.id)
        .limit(size)
        .with_for_update()
    ).all()
    if not rows:
        return Chunk(seen=0, rendered=0, last_id=after_id)
    stale = [row for row in rows if force or row.no_wire or row.wire_zone != timezone]
    if stale:
        zone = ZoneInfo(timezone)
        connection.execute(
            messages.update().where(messages.c.id == sa.bindparam("message_id")),
            [
                dict(zip(("wire", "wire_zone"), stored_wire(row, zone=zone), strict=True))
                | {"message_id": row.id}
                for row in stale
            ],
        )
    return Chunk(seen=len(rows), rendered=len(stale), last_id=rows[-1].id)


def refresh_account(connection: sa.Connection, *, account_id: int, limit: int | None = None) -> int:
    """Re-render the account's messages whose stored wire is missing or in another zone.

    All in the caller's one transaction: for a small account, or a test. A
    big account is better walked with `rerender.rerender_account`, one short
    transaction per chunk. Returns how many were re-rendered; with `limit`,
    at most that many.
    """
    done = 0
    after_id = 0
    while limit is None or done < limit:
        size = REFRESH_BATCH if limit is None else min(REFRESH_BATCH, limit - done)
        chunk = refresh_chunk(connection, account_id=account_id, after_id=after_id, size=size)
        if chunk.seen == 0:
            break
        done += chunk.rendered
        after_id = chunk.last_id
    return done
