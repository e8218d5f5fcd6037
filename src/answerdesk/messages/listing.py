"""Serve message JSON from the stored wire text: the Messages API's hot paths.

A list is the account's stored `wire` texts joined, in keyset chunks, each
chunk one short read transaction. The rows are fetched with the driver's own
cursor (stdlib `sqlite3` or psycopg): three plain columns per row need none
of SQLAlchemy's result processing, which cost more than everything else
together (see docs/performance.md). A row whose stored text is missing or
was rendered in another zone than the account's current one is rendered
from its columns instead, so answers never depend on whether it was stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.errors import MessageNotFound
from answerdesk.messages.reading import ListQuery
from answerdesk.messages.wire import message_json, object_prefix
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import messages


@dataclass(frozen=True)
class WireChunk:
    """Some message objects as UTF-8 JSON joined by commas (no brackets)."""

    body: bytes
    count: int
    last_id: int
    #: No chunk follows (known without another query when this one was short).
    last: bool = False


#: The stored text as UTF-8 bytes, straight from the database's own bytes:
#: decoding it to `str` and encoding it back cost a third of a list's time.
#: PostgreSQL's `textsend` is the text's bytes in the client encoding, which
#: is UTF-8 on every connection answerdesk opens (store/engine.py; asyncpg
#: always): a fifth less backend time than `convert_to(wire, 'UTF8')`, which
#: checks and copies the text once more.
_WIRE_BYTES = {
    "sqlite": "CASE WHEN wire_zone = ? THEN CAST(wire AS BLOB) END",
    "postgresql": "CASE WHEN wire_zone = ? THEN textsend(wire) END",
}


def _execute(connection: sa.Connection, text: str, params: list[Any]) -> list[Any]:
    """Run `text` (written with `?`) on the driver's own cursor; return all rows."""
    cursor: Any = connection.connection.cursor()
    try:
        if connection.dialect.name == "sqlite":
            cursor.execute(text, params)
        else:
            # Binary results: bytea arrives as bytes as it is, not as hex text.
            cursor.execute(text.replace("?", "%s"), params, binary=True)
        rows: list[Any] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def _chunk_sql(
    query: ListQuery, cursor: tuple[int, int] | None, dialect: str, *, columns: str = ""
) -> tuple[str, list[Any]]:
    """A chunk's statement (`?` placeholders) and its parameters after the zone's.

    `columns` replaces the usual id, created second and stored render (whose
    zone is the statement's first parameter, not in the list returned).
    """
    where = ["account_id = ?"]
    params: list[Any] = [query.account_id]
    if query.days.start_second is not None:
        where.append("created_second >= ?")
        params.append(query.days.start_second)
    if query.days.end_second is not None:
        where.append("created_second < ?")
        params.append(query.days.end_second)
    if query.by_id:
        where.append("id > ?")
        params.append(cursor[1] if cursor else (query.after_id or 0))
        order = "id"
    else:
        if cursor is not None:
            # Row-value comparison: an index range on (account_id, created_second, id).
            where.append("(created_second, id) > (?, ?)")
            params.extend(cursor)
        order = "created_second, id"
    columns = columns or f"id, created_second, {_WIRE_BYTES[dialect]}"
    sql = (
        f"SELECT {columns} FROM messages "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    )
    return sql, params


def _render_missing(
    connection: sa.Connection, ids: list[int], number: str, zone: ZoneInfo
) -> dict[int, bytes]:
    """Render rows that have no usable stored text, from their columns."""
    rows = connection.execute(sa.select(messages).where(messages.c.id.in_(ids)))
    return {row.id: message_json(row, account_number=number, zone=zone) for row in rows}


def _read_chunk(
    connection: sa.Connection, sql: str, params: list[Any], number: str, timezone: str
) -> tuple[bytes, list[Any]]:
    rows = _execute(connection, sql, params)
    prefix = object_prefix(number).encode()
    wires = [row[2] for row in rows]
    if None in wires:
        missing = [row[0] for row in rows if row[2] is None]
        rendered = _render_missing(connection, missing, number, ZoneInfo(timezone))
        body = b",".join(rendered[row[0]] if row[2] is None else prefix + row[2] for row in rows)
    else:
        body = joined_objects(wires, prefix)
    return body, rows


def iter_wire_chunks(
    engine: Engine,
    query: ListQuery,
    *,
    number: str,
    timezone: str,
    chunk_size: int,
    connection: sa.Connection | None = None,
) -> Iterator[WireChunk]:
    """Yield the account's messages as JSON text in chunks.

    Each chunk is read in its own short transaction, except that the first
    one is read on `connection` when given (the caller's open transaction,
    which already looked up the account: one transaction fewer for a small
    list). No connection is held between chunks; memory is one chunk.
    """
    remaining = query.limit
    cursor: tuple[int, int] | None = None
    while True:
        size = chunk_size if remaining is None else min(chunk_size, remaining)
        if size <= 0:
            return
        sql, params = _chunk_sql(query, cursor, engine.dialect.name)
        params = [timezone, *params, size]
        if connection is not None:
            body, rows = _read_chunk(connection, sql, params, number, timezone)
            connection = None
        else:
            with read_transaction(engine) as own:
                body, rows = _read_chunk(own, sql, params, number, timezone)
        if not rows:
            return
        if remaining is not None:
            remaining -= len(rows)
        last = len(rows) < size or remaining == 0
        yield WireChunk(body, len(rows), rows[-1][0], last)
        if last:
            return
        cursor = (rows[-1][1], rows[-1][0])


_ONE_SQL = (
    "SELECT m.wire, m.wire_zone, a.number, a.timezone FROM messages m "
    "JOIN accounts a ON a.id = m.account_id WHERE m.id = ? AND m.account_id = ?"
)

#: SQLite: one message's stored text as UTF-8 bytes (NULL when missing or
#: rendered in another zone) and its account's number; no row when the id is
#: not the account's. Used by the fast path (api/fastpath.py).
STORED_ONE_SQL = (
    "SELECT CASE WHEN m.wire_zone = a.timezone THEN CAST(m.wire AS BLOB) END, a.number "
    "FROM messages m JOIN accounts a ON a.id = m.account_id "
    "WHERE m.id = ? AND m.account_id = ?"
)

#: The same for PostgreSQL (read with binary results, so the text arrives as bytes).
STORED_ONE_POSTGRES_SQL = (
    "SELECT CASE WHEN m.wire_zone = a.timezone THEN textsend(m.wire) END, a.number "
    "FROM messages m JOIN accounts a ON a.id = m.account_id "
    "WHERE m.id = %s AND m.account_id = %s"
)

#: An account's zone and number, for the fast path's date-range lists.
ACCOUNT_ZONE_SQL = "SELECT timezone, number FROM accounts WHERE id = ?"


def range_statement(
    query: ListQuery, timezone: str, size: int, dialect: str
) -> tuple[str, list[Any]]:
    """A list's first chunk as one statement and its parameters, in the driver's style.

    For the fast path (api/fastpath.py), which reads a date range whole when
    it fits in `size` rows.
    """
    sql, params = _chunk_sql(query, None, dialect)
    if dialect != "sqlite":
        sql = sql.replace("?", "%s")
    return sql, [timezone, *params, size]


def range_ids_statement(query: ListQuery, size: int) -> tuple[str, list[Any]]:
    """The ids of a list's first chunk, in order, for PostgreSQL (`%s` placeholders).

    Read from the index on (account_id, created_second, id) alone (an
    index-only scan once the table is vacuumed): for the fast path, which
    answers a range from renders it keeps (api/hot_readers.py).
    """
    sql, params = _chunk_sql(query, None, "postgresql", columns="id")
    return sql.replace("?", "%s"), [*params, size]


#: PostgreSQL: the stored renders of some of an account's messages, as UTF-8
#: bytes (NULL when rendered in another zone than the one given).
STORED_SOME_POSTGRES_SQL = (
    "SELECT id, CASE WHEN wire_zone = %s THEN textsend(wire) END FROM messages "
    "WHERE account_id = %s AND id = ANY(CAST(%s AS bigint[]))"
)


def joined_wires(rows: list[Any], number: str) -> bytes | None:
    """Rows of `range_statement` as one JSON array; None if any stored text is stale."""
    wires = [row[2] for row in rows]
    if None in wires:
        return None
    if not wires:
        return b"[]"
    return joined_objects(wires, stored_object_prefix(number), brackets=True)


def joined_objects(parts: list[bytes], prefix: bytes = b"", *, brackets: bool = False) -> bytes:
    """`prefix + part` for each part, comma-separated (in `[` `]` with `brackets`).

    In one copy of the bytes: `b"[" + b",".join(parts) + b"]"` copies a
    ~2 MB range twice more, a fifth of a kept range's time (docs/performance.md,
    "Tenth look").
    """
    if not parts:
        return b"[]" if brackets else b""
    step = 3 if prefix else 2
    pieces = [b","] * (step * len(parts) + 1)
    if prefix:
        pieces[1::3] = [prefix] * len(parts)
    pieces[step - 1 :: step] = parts
    pieces[0] = b"[" if brackets else b""
    pieces[-1] = b"]" if brackets else b""
    return b"".join(pieces)


@lru_cache(maxsize=4096)
def stored_object_prefix(account_number: str) -> bytes:
    """`object_prefix` as bytes, remembered: numbers are few and rarely change."""
    return object_prefix(account_number).encode()


def message_wire(engine: Engine, *, account_id: int, message_id: int) -> bytes:
    """Return one message of this account as JSON; another account's id is not found.

    One statement on a pooled driver connection, outside SQLAlchemy's
    Connection: a single SELECT is its own consistent snapshot, and the
    transaction bookkeeping cost more than the read (docs/performance.md).
    """
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(_ONE_SQL, (message_id, account_id))
        else:
            cursor.execute(_ONE_SQL.replace("?", "%s"), (message_id, account_id))
        found = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()  # back to the pool (which ends PostgreSQL's implicit transaction)
    if found is None:
        raise MessageNotFound()
    wire, wire_zone, number, timezone = found
    if wire is not None and wire_zone == timezone:
        body: bytes = (object_prefix(number) + wire).encode()
        return body
    with read_transaction(engine) as connection:
        row = connection.execute(
            sa.select(messages).where(
                messages.c.id == message_id, messages.c.account_id == account_id
            )
        ).one()
    return message_json(row, account_number=number, zone=ZoneInfo(timezone))
