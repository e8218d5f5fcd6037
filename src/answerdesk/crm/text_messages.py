"""Read a page of an account's text messages.

An unfiltered page is a range of the per-account `seq` (1, 2, 3, ... in id
order, no gaps), so page 1000 costs what page 1 costs. Filtered pages (`ids`,
a resource) are small sets read through their own index with OFFSET.

Two readers share those rules: `list_text_messages` on a SQLAlchemy
connection (rows with named columns, for the console), and `api_page`, the
Sell API's: one statement on the pooled driver connection, each row with its
open deal ids, ready for `crm.single.text_message_from_row`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.crm.paging import Page, PageRequest
from answerdesk.crm.records import RecordRef
from answerdesk.errors import NotFound
from answerdesk.store.tables import text_messages

_C = text_messages.c


class TextMessageNotFound(NotFound):
    default_message = "Text message not found"


@dataclass(frozen=True)
class TextMessageQuery:
    """A list request: paging, optional filters, id order."""

    account_id: int
    page: PageRequest = field(default_factory=PageRequest)
    ids: Sequence[int] | None = None
    resource: RecordRef | None = None
    descending: bool = True


@cache
def _statements() -> dict[str, Any]:
    """Build the hot reads once, with bind parameters (no SQL construction per request)."""
    account = _C.account_id == sa.bindparam("account_id")
    in_range = _C.seq.between(sa.bindparam("low"), sa.bindparam("high"))
    by_range = sa.select(text_messages).where(account, in_range)
    return {
        "total": sa.select(sa.func.max(_C.seq)).where(account),
        "desc": by_range.order_by(_C.seq.desc()),
        "asc": by_range.order_by(_C.seq.asc()),
    }


def _by_seq(connection: sa.Connection, query: TextMessageQuery) -> Page:
    statements = _statements()
    total = connection.execute(statements["total"], {"account_id": query.account_id}).scalar()
    total = int(total or 0)
    size = query.page.size
    if query.descending:
        high = total - query.page.offset
        low = high - size + 1
        has_next = low > 1
    else:
        low = query.page.offset + 1
        high = low + size - 1
        has_next = high < total
    if high < 1 or low > total:
        return Page([], False)
    rows = connection.execute(
        statements["desc" if query.descending else "asc"],
        {"account_id": query.account_id, "low": max(low, 1), "high": high},
    ).all()
    return Page(list(rows), has_next)


def _filtered(connection: sa.Connection, query: TextMessageQuery) -> Page:
    select = sa.select(text_messages).where(_C.account_id == query.account_id)
    if query.ids is not None:
        select = select.where(_C.id.in_(sorted(set(query.ids))))
    if query.resource is not None:
        select = select.where(
            _C.resource_type == query.resource.type, _C.resource_id == query.resource.id
        )
    order = _C.id.desc() if query.descending else _C.id.asc()
    rows = connection.execute(
        select.order_by(order).limit(query.page.size + 1).offset(query.page.offset)
    ).all()
    return Page(list(rows[: query.page.size]), len(rows) > query.page.size)


def list_text_messages(connection: sa.Connection, query: TextMessageQuery) -> Page:
    """Return one page of the account's text messages, by id."""
    if query.ids is None and query.resource is None:
        return _by_seq(connection, query)
    return _filtered(connection, query)


# ---------------------------------------------------------------------------
# The Sell API's page: one statement on the driver's cursor.
# ---------------------------------------------------------------------------

#: `crm.single`'s columns in its order, so `text_message_from_row` renders
#: both; each row's open deal ids (stages not in `deals.CLOSED_STAGES`) come
#: back as one comma-joined string, NULL for none. One subquery per record
#: type, each a plain lookup in its own index, and none for a text message
#: without a record (the single read's one OR-ed subquery made a page of
#: leads with deals ~10 % slower, and ran for every row). Written with `?`
#: marks, AGGREGATE and INSTANT(column), which each dialect fills in.
_PAGE_SELECT = """
SELECT t.id, t.user_id, t.user_phone_number, t.content, t.incoming, t.resource_phone_number,
       t.resource_type, t.resource_id,
       INSTANT(t.sent_at), INSTANT(t.updated_at), INSTANT(t.created_at),
       CASE t.resource_type
         WHEN 'lead' THEN (SELECT AGGREGATE FROM deals d
                            WHERE d.lead_id = t.resource_id AND d.stage NOT IN ('won', 'lost'))
         WHEN 'contact' THEN (SELECT AGGREGATE FROM deals d
                               WHERE d.contact_id = t.resource_id
                                 AND d.stage NOT IN ('won', 'lost'))
       END
  FROM text_messages t
 WHERE t.account_id = ?"""

#: Unfiltered pages, one more row than asked (that row only tells whether a
#: next page exists). `seq` has no gaps, so "the `size` + 1 rows from this
#: `seq` on" is the range `_by_seq` computes: a seek on `(account_id, seq)`.
_NEWEST_FIRST = """
   AND t.seq <= (SELECT max(m.seq) FROM text_messages m WHERE m.account_id = ?) - ?
 ORDER BY t.seq DESC LIMIT ?"""
_OLDEST_FIRST = """
   AND t.seq > ?
 ORDER BY t.seq ASC LIMIT ?"""

_SQLITE_AGGREGATE = "group_concat(d.id, ',')"
_POSTGRES_AGGREGATE = "string_agg(CAST(d.id AS TEXT), ',')"
#: PostgreSQL hands instants over as UTC text, as SQLite stores them: three
#: `timestamptz` per row parsed into datetimes and formatted again took
#: ~700 us per 100 rows, the text ~150 us. `to_char` ignores DateStyle, pads
#: the year to four digits and drops the fraction, as `wire.iso_utc` does.
_POSTGRES_INSTANT = r"to_char(\1 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
_INSTANT = re.compile(r"INSTANT\((t\.\w+)\)")


def _for_dialect(sql: str, dialect: str) -> str:
    """Fill in the deal-id aggregate, the instants and the parameter marks of `dialect`."""
    if dialect == "sqlite":
        return _INSTANT.sub(r"\1", sql.replace("AGGREGATE", _SQLITE_AGGREGATE))
    sql = _INSTANT.sub(_POSTGRES_INSTANT, sql.replace("AGGREGATE", _POSTGRES_AGGREGATE))
    return sql.replace("?", "%s")


@cache
def _seq_sql(dialect: str, descending: bool) -> str:
    """The unfiltered page's statement, built once per dialect and order."""
    return _for_dialect(_PAGE_SELECT + (_NEWEST_FIRST if descending else _OLDEST_FIRST), dialect)


def _seq_statement(query: TextMessageQuery, dialect: str) -> tuple[str, tuple[int, ...]]:
    size, offset = query.page.size + 1, query.page.offset
    if query.descending:
        return _seq_sql(dialect, True), (query.account_id, query.account_id, offset, size)
    return _seq_sql(dialect, False), (query.account_id, offset, size)


def _filtered_statement(query: TextMessageQuery, dialect: str) -> tuple[str, tuple[Any, ...]]:
    """`ids` and resource filters over their indexes, by id, with OFFSET."""
    sql = _PAGE_SELECT
    params: list[Any] = [query.account_id]
    if query.ids is not None:
        ids = sorted(set(query.ids))
        sql += f"\n   AND t.id IN ({', '.join('?' * len(ids))})"
        params += ids
    if query.resource is not None:
        sql += "\n   AND t.resource_type = ? AND t.resource_id = ?"
        params += [query.resource.type, query.resource.id]
    sql += f"\n ORDER BY t.id {'DESC' if query.descending else 'ASC'} LIMIT ? OFFSET ?"
    params += [query.page.size + 1, query.page.offset]
    return _for_dialect(sql, dialect), tuple(params)


def api_page(engine: Engine, query: TextMessageQuery) -> Page:
    """Return the page `list_text_messages` would, as `crm.single`'s raw rows.

    SQLAlchemy's execution, row processing and BEGIN/COMMIT cost more than
    reading 100 rows, so this read goes straight to a pooled driver
    connection (stdlib `sqlite3` or psycopg): one SELECT is its own
    consistent snapshot, deals included.
    """
    if query.ids is not None and not query.ids:
        return Page([], False)
    dialect = engine.dialect.name
    if query.ids is None and query.resource is None:
        sql, params = _seq_statement(query, dialect)
    else:
        sql, params = _filtered_statement(query, dialect)
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()  # back to the pool (which ends PostgreSQL's implicit transaction)
    size = query.page.size
    return Page(rows[:size], len(rows) > size)
