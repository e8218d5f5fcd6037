"""Find the record a caller belongs to, in the order CONTRACT §3 fixes.

A contact with the number, a contact with the e-mail, a lead with the number,
a lead with the e-mail; the lowest id when several of one kind match. All six
index lookups go to the database as one statement.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from answerdesk.crm.normalise import email_key
from answerdesk.crm.records import RecordRef
from answerdesk.store.tables import LEAD_CONVERTED, contacts, leads


def _lowest(table: sa.Table, column: str, parameter: str) -> Any:
    # A NULL parameter matches nothing (NULL = NULL is not true), so one
    # statement serves callers with a number, an e-mail, or both.
    query = sa.select(table.c.id).where(
        table.c.account_id == sa.bindparam("account_id"), table.c[column] == sa.bindparam(parameter)
    )
    if table is leads:
        # A converted lead lives on as its contact; it is never matched again.
        query = query.where(table.c.status != LEAD_CONVERTED)
    return query.order_by(table.c.id).limit(1).scalar_subquery()


@cache
def _find_statement() -> sa.Select[Any]:
    """Build the six lookups once: the hot path then pays for no SQL construction."""
    return sa.select(
        _lowest(contacts, "phone", "number"),
        _lowest(contacts, "mobile", "number"),
        _lowest(contacts, "email_key", "email_key"),
        _lowest(leads, "phone", "number"),
        _lowest(leads, "mobile", "number"),
        _lowest(leads, "email_key", "email_key"),
    )


def _first(*ids: int | None) -> int | None:
    found = [value for value in ids if value is not None]
    return min(found) if found else None


def find_record(
    connection: sa.Connection, *, account_id: int, number: str | None, email: str | None
) -> RecordRef | None:
    """Return the caller's lead or contact, or None when nothing matches.

    `number` is E.164 (or None); `email` a valid address (or None).
    """
    if number is None and email is None:
        return None
    row = connection.execute(
        _find_statement(),
        {"account_id": account_id, "number": number, "email_key": email_key(email)},
    ).one()
    contact_phone, contact_mobile, contact_email, lead_phone, lead_mobile, lead_email = row
    if (found := _first(contact_phone, contact_mobile)) is not None:
        return RecordRef("contact", found)
    if contact_email is not None:
        return RecordRef("contact", contact_email)
    if (found := _first(lead_phone, lead_mobile)) is not None:
        return RecordRef("lead", found)
    if lead_email is not None:
        return RecordRef("lead", lead_email)
    return None
