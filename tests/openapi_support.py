"""A populated desk for the OpenAPI tests: every object the document describes, filled.

Account 10042 (the number docs/api.md uses) has a script with custom fields,
a client with a token, messages with and without custom fields, delivered
and not, carried into its CRM (leads, a contact, a deal); a second account
has its own client and message, so "another account's id" exists. An agent
token takes messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from answerdesk.accounts import Account
from answerdesk.crm.deals import create_deal
from answerdesk.crm.records import RecordRef
from answerdesk.store.engine import write_transaction
from tests.crm_support import add_contact, carry_all, leads_of, text_messages_of
from tests.factories import ClientLogin, Desk

ACCOUNT_NUMBER = "10042"
SCRIPT = [("Reason for Call?", False), ("Best time", False), ("E-mail", False)]


@dataclass(frozen=True)
class Population:
    """What `populate` made, by the names the tests need."""

    account: Account
    client: ClientLogin
    agent: ClientLogin
    message_ids: list[int]
    text_message_ids: list[int]
    lead_ids: list[int]
    contact_id: int
    other_client: ClientLogin
    other_message_id: int


def populate(engine: Engine, desk: Desk) -> Population:
    """Fill an empty database with one of everything (committed: a live server sees it)."""
    account = desk.account(number=ACCOUNT_NUMBER, fields=SCRIPT)
    client = desk.client_of(account, email="carla@acme.example", name="Carla Client")
    agent = desk.staff("agent")
    message_ids = [
        desk.take(
            account,
            "Leak under the sink",
            first_name="John",
            last_name="Doe",
            phone="(617) 555-0123",
            caller_id="617-555-0199",
            company_name="Doe Corp",
            is_emergency=True,
            created_at="2024-03-15T10:32:05",
            delivered_at="2024-03-15T10:40:00",
            delivered_to="carla@acme.example",
            fields={"Reason for Call?": "Repair", "Best time": "after 5pm"},
            **{"for": "carla@acme.example"},
        ),
        desk.take(
            account,
            "Please call back about the quote",
            company_name="Lone Corp",
            fields={"E-mail": "buyer@lone.example"},
            created_at="2024-03-16T09:00:00",
        ),
        desk.take(account, "No name, no number", created_at="2024-03-17T12:00:00"),
    ]
    contact_id = add_contact(
        engine, account.id, first_name="Ann", last_name="Smith", phone="+16175550777"
    )
    desk.take(account, "Ann again", phone="617 555 0777", created_at="2024-03-18T08:00:00")
    carry_all(engine)
    lead_ids = [row.id for row in leads_of(engine, account.id)]
    with write_transaction(engine) as connection:
        create_deal(
            connection,
            account_id=account.id,
            record=RecordRef("lead", lead_ids[0]),
            name="Sink repair",
        )
    other = desk.account(number="20077", name="Other Plumbing")
    other_client = desk.client_of(other)
    other_message_id = desk.take(other, "Someone else's message", phone="617 555 0100")
    return Population(
        account=account,
        client=client,
        agent=agent,
        message_ids=message_ids,
        text_message_ids=[row.id for row in text_messages_of(engine, account.id)],
        lead_ids=lead_ids,
        contact_id=contact_id,
        other_client=other_client,
        other_message_id=other_message_id,
    )
