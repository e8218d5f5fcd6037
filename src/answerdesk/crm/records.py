"""Leads and contacts: create them, fill their blanks, read them.

Both kinds share the person fields (name, organization, phone, mobile,
e-mail), so most functions take the table and work for either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.crm.normalise import email_key
from answerdesk.errors import NotFound
from answerdesk.store.tables import contacts, leads

RecordType = Literal["lead", "contact"]
LEAD_STATUS_NEW = "New"
PIPELINE_SOURCE = "answering service"
#: The fields a message may fill on a record that has them blank (CONTRACT §3).
FILLABLE = ("first_name", "last_name", "organization_name", "phone", "email")


class LeadNotFound(NotFound):
    default_message = "Lead not found"


class ContactNotFound(NotFound):
    default_message = "Contact not found"


@dataclass(frozen=True)
class RecordRef:
    """A lead or a contact, by kind and id."""

    type: RecordType
    id: int


@dataclass(frozen=True)
class Person:
    """Person fields of a lead or contact, already cleaned and normalised."""

    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None

    def values(self) -> dict[str, Any]:
        """Return the column values, with the e-mail's match key."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "organization_name": self.organization_name,
            "phone": self.phone,
            "mobile": self.mobile,
            "email": self.email,
            "email_key": email_key(self.email),
        }


def table_of(kind: RecordType) -> sa.Table:
    """Return the table that holds records of this kind."""
    return leads if kind == "lead" else contacts


@cache
def _insert(kind: RecordType) -> Any:
    table = table_of(kind)
    return table.insert().returning(table.c.id)


@cache
def _fillable(kind: RecordType) -> Any:
    table = table_of(kind)
    columns = (table.c[name] for name in (*FILLABLE, "mobile"))
    return sa.select(*columns).where(table.c.id == sa.bindparam("record_id"))


def create_lead(
    connection: sa.Connection,
    *,
    account_id: int,
    person: Person,
    status: str = LEAD_STATUS_NEW,
    source: str | None = PIPELINE_SOURCE,
    description: str | None = None,
    now: datetime | None = None,
) -> int:
    """Insert a lead and return its id."""
    now = now or clock.utcnow()
    values = {
        "account_id": account_id,
        **person.values(),
        "status": status,
        "source": source,
        "description": description,
        "created_at": now,
        "updated_at": now,
    }
    return int(connection.execute(_insert("lead"), values).scalar_one())


def create_contact(
    connection: sa.Connection,
    *,
    account_id: int,
    person: Person,
    is_organization: bool = False,
    now: datetime | None = None,
) -> int:
    """Insert a contact and return its id."""
    now = now or clock.utcnow()
    values = {
        "account_id": account_id,
        **person.values(),
        "is_organization": is_organization,
        "created_at": now,
        "updated_at": now,
    }
    return int(connection.execute(_insert("contact"), values).scalar_one())


def blanks_to_fill(record: Any, person: Person) -> dict[str, Any]:
    """Return the values `person` gives for fields the record has blank.

    Filled fields are never overwritten. A number the record already holds
    as its mobile is not copied into its blank phone: one number, one place.
    """
    values: dict[str, Any] = {}
    for name in FILLABLE:
        given = getattr(person, name)
        if given is None or getattr(record, name) is not None:
            continue
        if name == "phone" and record.mobile == given:
            continue
        values[name] = given
    if "email" in values:
        values["email_key"] = email_key(values["email"])
    return values


def fill_blanks(
    connection: sa.Connection, *, ref: RecordRef, person: Person, now: datetime | None = None
) -> bool:
    """Fill the record's blank fields from `person`; tell whether anything changed."""
    record = connection.execute(_fillable(ref.type), {"record_id": ref.id}).one()
    values = blanks_to_fill(record, person)
    if not values:
        return False
    table = table_of(ref.type)
    values["updated_at"] = now or clock.utcnow()
    connection.execute(table.update().where(table.c.id == ref.id).values(**values))
    return True


def get_record(
    connection: sa.Connection, *, kind: RecordType, record_id: int, account_id: int | None = None
) -> sa.Row[Any]:
    """Return one lead or contact (of this account, when given), or raise not found."""
    table = table_of(kind)
    query = sa.select(table).where(table.c.id == record_id)
    if account_id is not None:
        query = query.where(table.c.account_id == account_id)
    row = connection.execute(query).first()
    if row is None:
        raise LeadNotFound() if kind == "lead" else ContactNotFound()
    return row
