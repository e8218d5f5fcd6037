"""Read an account's text messages: one, or a page, with their open deals.

An unfiltered page is a range of the per-account `seq` (1, 2, 3, ... in id
order), so page 1000 costs what page 1 costs. Filtered pages (`ids`, a
resource) are small sets read through their own index with OFFSET.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa

from answerdesk.crm.deals import open_deal_ids
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
        "one": sa.select(text_messages).where(_C.id == sa.bindparam("id"), account),
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


def get_text_message(connection: sa.Connection, *, account_id: int, text_message_id: int) -> Any:
    """Return one of the account's text messages; another account's id is not found."""
    row = connection.execute(
        _statements()["one"], {"id": text_message_id, "account_id": account_id}
    ).first()
    if row is None:
        raise TextMessageNotFound()
    return row


def record_of(row: Any) -> RecordRef | None:
    """Return the lead or contact a text message is attached to, if any."""
    if row.resource_type in ("lead", "contact") and row.resource_id is not None:
        return RecordRef(row.resource_type, row.resource_id)
    return None


def with_deals(connection: sa.Connection, rows: Sequence[Any]) -> list[tuple[Any, list[int]]]:
    """Pair each text message with its record's open deal ids, read in one query."""
    deals = open_deal_ids(connection, [ref for row in rows if (ref := record_of(row))])
    return [(row, deals.get(ref, []) if (ref := record_of(row)) else []) for row in rows]
