"""Convert a lead into a contact: its text messages and deals go with it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.crm.locks import lock_account_crm
from answerdesk.crm.records import Person, create_contact, get_record
from answerdesk.errors import Conflict
from answerdesk.store.tables import LEAD_CONVERTED, deals, leads, text_messages


@dataclass(frozen=True)
class Conversion:
    """What converting a lead made and moved."""

    lead_id: int
    contact_id: int
    text_messages: int
    deals: int


def convert_lead(
    connection: sa.Connection, *, lead_id: int, account_id: int | None = None
) -> Conversion:
    """Make a contact of the lead's fields and move its text messages and deals to it.

    The lead stays, with status `Converted`, so its history is not lost, but
    it is never matched again: the caller's next message finds the contact.
    A lead with no person's name but an organization's becomes an
    organization contact. Converting a lead twice is a conflict.
    """
    lead = get_record(connection, kind="lead", record_id=lead_id, account_id=account_id)
    lock_account_crm(connection, lead.account_id)
    # Read again under the lock: a worker may have filled blanks meanwhile.
    lead = get_record(connection, kind="lead", record_id=lead_id)
    if lead.status == LEAD_CONVERTED:
        raise Conflict(f"lead {lead_id} is already converted")
    now = clock.utcnow()
    person = Person(
        first_name=lead.first_name,
        last_name=lead.last_name,
        organization_name=lead.organization_name,
        phone=lead.phone,
        mobile=lead.mobile,
        email=lead.email,
    )
    is_organization = not (lead.first_name or lead.last_name) and bool(lead.organization_name)
    contact_id = create_contact(
        connection,
        account_id=lead.account_id,
        person=person,
        is_organization=is_organization,
        now=now,
    )
    moved_texts = connection.execute(
        text_messages.update()
        .where(
            text_messages.c.account_id == lead.account_id,
            text_messages.c.resource_type == "lead",
            text_messages.c.resource_id == lead_id,
        )
        .values(resource_type="contact", resource_id=contact_id, updated_at=now)
    ).rowcount
    moved_deals = connection.execute(
        deals.update()
        .where(deals.c.lead_id == lead_id)
        .values(lead_id=None, contact_id=contact_id, updated_at=now)
    ).rowcount
    connection.execute(
        leads.update().where(leads.c.id == lead_id).values(status=LEAD_CONVERTED, updated_at=now)
    )
    return Conversion(lead_id, contact_id, int(moved_texts), int(moved_deals))
