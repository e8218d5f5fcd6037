"""Read an account's leads and contacts: one, or a page, filtered and sorted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from answerdesk.crm.normalise import email_key, normalise_phone
from answerdesk.crm.paging import Page, PageRequest
from answerdesk.crm.records import RecordType, get_record, table_of

SORT_FIELDS = ("id", "created_at", "updated_at")


@dataclass(frozen=True)
class PeopleQuery:
    """A list request for leads or contacts (CONTRACT §3)."""

    account_id: int
    kind: RecordType
    page: PageRequest = field(default_factory=PageRequest)
    ids: Sequence[int] | None = None
    #: Any format: normalised with the account's region, matches phone or mobile.
    phone: str | None = None
    email: str | None = None
    sort_field: str = "id"
    descending: bool = False


def list_people(connection: sa.Connection, query: PeopleQuery, *, region: str) -> Page:
    """Return one page of the account's leads or contacts."""
    table = table_of(query.kind)
    c = table.c
    select = sa.select(table).where(c.account_id == query.account_id)
    if query.ids is not None:
        select = select.where(c.id.in_(sorted(set(query.ids))))
    if query.phone is not None:
        number = normalise_phone(query.phone, region)
        select = select.where(sa.or_(c.phone == number, c.mobile == number))
    if query.email is not None:
        select = select.where(c.email_key == email_key(query.email.strip()))
    if query.sort_field not in SORT_FIELDS:
        raise ValueError(f"cannot sort by {query.sort_field!r}")
    columns = [c[query.sort_field], c.id] if query.sort_field != "id" else [c.id]
    order = [column.desc() if query.descending else column.asc() for column in columns]
    rows = connection.execute(
        select.order_by(*order).limit(query.page.size + 1).offset(query.page.offset)
    ).all()
    return Page(list(rows[: query.page.size]), len(rows) > query.page.size)


def get_person(connection: sa.Connection, *, account_id: int, kind: RecordType, id: int) -> Any:
    """Return one lead or contact of the account; another account's id is not found."""
    return get_record(connection, kind=kind, record_id=id, account_id=account_id)
