"""Two accounts on one database, B's data marked with strings that must never reach A.

Every name of B's people, companies and users carries `qx` (`Bravoqx`,
`Zebulonqx`, ...), a syllable no other test data uses, so a leak shows up as a
plain substring in any body A is answered with. Strings an attacker types
(B's account number, ids, the phone or e-mail they filter by) are not secret:
a page may echo them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import (
    api_tokens,
    contacts,
    leads,
    messages,
    script_fields,
    text_messages,
    users,
)
from answerdesk.tokens import DISPLAY_PREFIX_LENGTH
from tests.console.conftest import PASSWORD
from tests.crm_support import add_contact, carry_all, contacts_of, leads_of, text_messages_of
from tests.factories import ClientLogin, Desk

#: Substrings of B's data (case-insensitive) that no answer to A may contain.
B_SECRETS = ("bravoqx", "zebulonqx", "quarrelqx", "contactqx", "bettyqx")


@dataclass
class World:
    """What the isolation tests need: A's logins, B's ids and B's secret strings."""

    a: Account
    b: Account
    a_client: ClientLogin
    a_second: ClientLogin
    b_client: ClientLogin
    a_message: int
    b_messages: list[int]
    b_text_messages: list[int]
    b_lead: int
    b_contact: int
    b_token_id: int
    b_field_id: int
    secrets: list[str] = field(default_factory=list)

    def leaks(self, body: bytes | str) -> list[str]:
        """Return the secrets of B found in a body (an empty list: no leak)."""
        text = (body.decode("utf-8", "replace") if isinstance(body, bytes) else body).lower()
        return [secret for secret in self.secrets if secret.lower() in text]


def build_world(desk: Desk) -> World:
    """Create A (one message, carried) and B (messages, a lead, a contact, texts)."""
    engine = desk.engine
    a = desk.account(name="Alpha Plumbing", fields=[("Email", False)])
    b = desk.account(name="Bravoqx Holdings", fields=[("Email", False)])
    a_client = desk.client_of(a, password=PASSWORD, name="Alice Client")
    a_second = desk.client_of(a, password=PASSWORD, name="Arthur Client")
    b_client = desk.client_of(b, password=PASSWORD, name="Bettyqx Client")
    a_message = desk.take(a, "Alpha caller asked for a quote", phone="617 555 0111")
    contact = add_contact(
        engine,
        b.id,
        first_name="Contactqx",
        last_name="Bravoqx",
        phone="+16175550188",
        email="cq88@bravo.example",
    )
    b_messages = [
        desk.take(
            b,
            "Bravoqx secret: the safe code is 4471",
            first_name="Zebulonqx",
            last_name="Quarrelqx",
            company_name="Bravoqx Widgets",
            phone="617 555 0199",
            fields={"Email": "zq77@caller.example"},
            **{"for": b_client.user.email},
        ),
        desk.take(b, "Bravoqx contact called again", phone="617 555 0188"),
    ]
    carry_all(engine)
    (b_lead,) = leads_of(engine, b.id)
    assert [row.id for row in contacts_of(engine, b.id)] == [contact]
    with read_transaction(engine) as connection:
        b_token_id = connection.execute(
            sa.select(api_tokens.c.id).where(api_tokens.c.user_id == b_client.user.id)
        ).scalar_one()
        b_field_id = connection.execute(
            sa.select(script_fields.c.id).where(script_fields.c.account_id == b.id)
        ).scalar_one()
    secrets = [*B_SECRETS, b_client.token, b_client.token[:DISPLAY_PREFIX_LENGTH]]
    return World(
        a=a,
        b=b,
        a_client=a_client,
        a_second=a_second,
        b_client=b_client,
        a_message=a_message,
        b_messages=b_messages,
        b_text_messages=[row.id for row in text_messages_of(engine, b.id)],
        b_lead=b_lead.id,
        b_contact=contact,
        b_token_id=b_token_id,
        b_field_id=b_field_id,
        secrets=secrets,
    )


def b_fingerprint(engine: Engine, world: World) -> list[Any]:
    """Every row of B (messages, CRM, its users and tokens): unchanged means untouched."""
    account_id = world.b.id
    with read_transaction(engine) as connection:
        found: list[Any] = []
        for table in (messages, leads, contacts, text_messages):
            query = sa.select(table).where(table.c.account_id == account_id)
            found.extend(tuple(row) for row in connection.execute(query.order_by(table.c.id)))
        query = sa.select(users).where(users.c.account_id == account_id).order_by(users.c.id)
        found.extend(tuple(row) for row in connection.execute(query))
        query = sa.select(api_tokens).where(api_tokens.c.user_id == world.b_client.user.id)
        found.extend(tuple(row) for row in connection.execute(query))
    return found
