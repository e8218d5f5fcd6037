"""Find the record a caller belongs to, in the order CONTRACT §3 fixes.

A contact with the number, a contact with the e-mail, a lead with the number,
a lead with the e-mail; the lowest id when several of one kind match. All six
index lookups go to the database as one statement.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from answerdesk.crm.normalise import email_key
from answerdesk.crm.records import RecordRef
from answerdesk.store.tables import LEAD_CONVERTED, contacts, leads


def _lowest(table: sa.Table, column: str, value: str | None, account_id: int) -> Any:
    if value is None:
        return sa.null()
    query = sa.select(table.c.id).where(table.c.account_id == account_id, table.c[column] == value)
    if table is leads:
        # A converted lead lives on as its contact; it is never matched again.
        query = query.where(table.c.status != LEAD_CONVERTED)
    return query.order_by(table.c.id).limit(1).scalar_subquery()


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
    key = email_key(email)
    row = connection.execute(
        sa.select(
            _lowest(contacts, "phone", number, account_id),
            _lowest(contacts, "mobile", number, account_id),
            _lowest(contacts, "email_key", key, account_id),
            _lowest(leads, "phone", number, account_id),
            _lowest(leads, "mobile", number, account_id),
            _lowest(leads, "email_key", key, account_id),
        )
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
