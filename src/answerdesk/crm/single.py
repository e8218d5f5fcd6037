"""Read one text message, with its open deals, in one statement on the driver's cursor.

`GET /v2/text_messages/{id}` is the API's hottest path. SQLAlchemy's
statement execution and transaction bookkeeping cost more than the indexed
read itself, so this one read goes straight to the pooled driver connection
(stdlib `sqlite3` or psycopg): a single SELECT is its own consistent
snapshot. The deal ids come back as one comma-joined string.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from answerdesk.crm.text_messages import TextMessageNotFound
from answerdesk.crm.wire import iso_utc

#: Written with `?` marks and AGGREGATE; the stages are `deals.CLOSED_STAGES`.
_SQL = """
SELECT t.id, t.user_id, t.user_phone_number, t.content, t.incoming, t.resource_phone_number,
       t.resource_type, t.resource_id, t.sent_at, t.updated_at, t.created_at,
       (SELECT AGGREGATE FROM deals d
         WHERE d.stage NOT IN ('won', 'lost')
           AND ((t.resource_type = 'lead' AND d.lead_id = t.resource_id)
             OR (t.resource_type = 'contact' AND d.contact_id = t.resource_id)))
  FROM text_messages t
 WHERE t.id = ? AND t.account_id = ?
"""

SQLITE_SQL = _SQL.replace("AGGREGATE", "group_concat(d.id, ',')")
POSTGRES_SQL = _SQL.replace("AGGREGATE", "string_agg(CAST(d.id AS TEXT), ',')").replace("?", "%s")


def _instant(value: Any) -> str | None:
    """Render a stored instant; SQLite hands back its UTC text, PostgreSQL a datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso_utc(value)
    text = str(value)
    return f"{text[:10]}T{text[11:19]}Z"


def text_message_object(engine: Engine, *, account_id: int, text_message_id: int) -> dict[str, Any]:
    """Return one of the account's text messages as the API's object (keys in contract order)."""
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        sql = SQLITE_SQL if engine.dialect.name == "sqlite" else POSTGRES_SQL
        cursor.execute(sql, (text_message_id, account_id))
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()  # back to the pool (which ends PostgreSQL's implicit transaction)
    if row is None:
        raise TextMessageNotFound()
    return text_message_from_row(row)


def text_message_from_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """The API's object (keys in contract order) from a row of SQLITE_SQL or its twin."""
    (id_, user_id, user_phone, content, incoming, resource_phone, resource_type, resource_id,
     sent_at, updated_at, created_at, deal_ids) = row  # fmt: skip
    sent = _instant(sent_at)
    return {
        "id": id_,
        "user_id": user_id,
        "user_phone_number": user_phone,
        "content": content,
        "incoming": bool(incoming),
        "resource_phone_number": resource_phone,
        "resource_type": resource_type,
        "resource_id": None if resource_type == "none" else resource_id,
        "associated_deal_ids": sorted(int(n) for n in deal_ids.split(",")) if deal_ids else [],
        "sent_at": sent,
        "send_at": sent,
        "updated_at": _instant(updated_at),
        "created_at": _instant(created_at),
    }
