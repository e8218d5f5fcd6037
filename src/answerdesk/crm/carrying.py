"""Carry a taken message into its account's CRM as an incoming text message.

CONTRACT §3 in code: find the caller's record (or make a lead), fill its
blanks, then add the text message. `message_id` is unique on text messages,
so carrying a message twice leaves one text message, whatever the timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from answerdesk import clock
from answerdesk.accounts import Account, get_account
from answerdesk.crm.locks import lock_account_crm
from answerdesk.crm.matching import find_record
from answerdesk.crm.normalise import to_e164, valid_email
from answerdesk.crm.records import Person, RecordRef, create_lead, fill_blanks
from answerdesk.messages.wire import render_message
from answerdesk.store.tables import text_messages
from answerdesk.webhooks.events import enqueue_event  # webhooks (issue 6)

#: Custom fields (by labelName) that hold the caller's e-mail, first wins.
EMAIL_LABEL_NAMES = ("email", "e_mail")


@dataclass(frozen=True)
class Caller:
    """Who called, as the CRM sees it: a number, an e-mail, and name fields."""

    number: str | None
    email: str | None
    person: Person


def caller_of(message: Any, region: str) -> Caller:
    """Read the caller's number, e-mail and names off a stored message row."""
    number = to_e164(message.phone, region) or to_e164(message.caller_id, region)
    email = None
    for name, _label, value in orjson.loads(message.fields):
        if name in EMAIL_LABEL_NAMES:
            email = valid_email(value)
            break
    person = Person(
        first_name=message.first_name,
        last_name=message.last_name,
        organization_name=message.company_name,
        phone=number,
        email=email,
    )
    return Caller(number=number, email=email, person=person)


@cache
def _insert_statement(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(text_messages)
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(text_messages.c.id)
    )


@cache
def _highest_seq() -> Any:
    return sa.select(sa.func.coalesce(sa.func.max(text_messages.c.seq), 0)).where(
        text_messages.c.account_id == sa.bindparam("account_id")
    )


def _insert_ignoring_duplicate(connection: sa.Connection, values: dict[str, Any]) -> int | None:
    """Insert a text message unless its message has one already (the unique key decides)."""
    found = connection.execute(_insert_statement(connection.dialect.name), values).scalar()
    return None if found is None else int(found)


class Carrier:
    """Carry messages within one transaction (the caller's), account by account.

    It remembers what it looked up (accounts, each account's next `seq`) for
    the life of the transaction, and takes each account's CRM lock the first
    time it touches that account. Callers carrying several accounts should
    go in ascending account order so two workers never wait on each other
    in a cycle.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self._accounts: dict[int, tuple[Account, str | None]] = {}
        self._next_seq: dict[int, int] = {}

    def open_accounts(self, account_ids: list[int]) -> None:
        """Lock and load these accounts now, in ascending order.

        Call it before any savepoint: a lock taken inside a savepoint that is
        rolled back is released, and this object would not know.
        """
        for account_id in sorted(account_ids):
            self._account(account_id)

    def _account(self, account_id: int) -> tuple[Account, str | None]:
        known = self._accounts.get(account_id)
        if known is None:
            lock_account_crm(self.connection, account_id)
            account = get_account(self.connection, account_id=account_id)
            known = (account, to_e164(account.phone, account.region))
            self._accounts[account_id] = known
        return known

    def _seq(self, account_id: int) -> int:
        if account_id not in self._next_seq:
            highest = self.connection.execute(
                _highest_seq(), {"account_id": account_id}
            ).scalar_one()
            self._next_seq[account_id] = int(highest) + 1
        return self._next_seq[account_id]

    def resolve(self, account: Account, caller: Caller) -> RecordRef | None:
        """Return the caller's record, updated or newly made; None for no number or e-mail."""
        if caller.number is None and caller.email is None:
            return None
        now = clock.utcnow()
        found = find_record(
            self.connection, account_id=account.id, number=caller.number, email=caller.email
        )
        if found is not None:
            fill_blanks(self.connection, ref=found, person=caller.person, now=now)
            return found
        lead_id = create_lead(self.connection, account_id=account.id, person=caller.person, now=now)
        enqueue_event(  # webhooks (issue 6): in the carrying transaction (or its savepoint)
            self.connection, account_id=account.id, type="crm.lead_created", lead_id=lead_id
        )
        return RecordRef("lead", lead_id)

    def carry(self, message: Any) -> int | None:
        """Carry one message row; return its text message id, None if it was carried before."""
        account, account_phone = self._account(message.account_id)
        caller = caller_of(message, account.region)
        record = self.resolve(account, caller)
        rendered = render_message(message, account_number=account.number, zone=account.zone)
        now = clock.utcnow()
        seq = self._seq(account.id)
        text_message_id = _insert_ignoring_duplicate(
            self.connection,
            {
                "account_id": account.id,
                "seq": seq,
                "message_id": message.id,
                "user_id": message.for_user_id,
                "user_phone_number": account_phone,
                "content": rendered["content_with_additional_details"],
                "incoming": True,
                "resource_phone_number": caller.number,
                "resource_type": record.type if record else "none",
                "resource_id": record.id if record else None,
                "sent_at": message.created_at,
                "created_at": now,
                "updated_at": now,
            },
        )
        if text_message_id is not None:
            # Only now: a failed or skipped insert must leave `seq` gapless.
            self._next_seq[account.id] = seq + 1
        return text_message_id
