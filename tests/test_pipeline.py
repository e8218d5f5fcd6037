"""Messages become CRM records and text messages (CONTRACT §3), on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import LEAD_CONVERTED, leads
from tests.crm_support import (
    add_contact,
    add_lead,
    carry_all,
    contacts_of,
    leads_of,
    outbox_rows,
    text_messages_of,
)
from tests.factories import Desk


def test_taking_a_message_queues_it_in_the_same_transaction(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    message_id = desk.take(account, phone="(617) 555-0123")
    assert [row.message_id for row in outbox_rows(engine)] == [message_id]


def test_new_caller_makes_one_lead_and_one_text_message(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    message_id = desk.take(
        account, "Leak under sink", first_name="Ann", last_name="Lee",
        company_name="Lee Bakery", phone="(617) 555-0123",
    )
    assert carry_all(engine) == 1
    [lead] = leads_of(engine, account.id)
    assert (lead.first_name, lead.last_name, lead.organization_name) == ("Ann", "Lee", "Lee Bakery")
    assert (lead.phone, lead.status, lead.source) == ("+16175550123", "New", "answering service")
    [text] = text_messages_of(engine, account.id)
    assert text.message_id == message_id
    assert (text.resource_type, text.resource_id) == ("lead", lead.id)
    assert text.resource_phone_number == "+16175550123"
    assert text.user_phone_number == "+16175550100"
    assert text.incoming is True
    assert text.content == "Leak under sink"
    assert outbox_rows(engine) == []


def test_same_caller_again_updates_the_lead(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    desk.take(account, "first", first_name="Ann", phone="(617) 555-0123")
    carry_all(engine)
    desk.take(account, "second", last_name="Lee", phone="+1 617 555 0123")
    carry_all(engine)
    [lead] = leads_of(engine, account.id)
    assert (lead.first_name, lead.last_name) == ("Ann", "Lee")
    texts = text_messages_of(engine, account.id)
    assert [(t.resource_type, t.resource_id) for t in texts] == [("lead", lead.id)] * 2
    assert [t.seq for t in texts] == [1, 2]


def test_caller_who_is_a_contact_is_attached_to_the_contact(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    contact_id = add_contact(engine, account.id, last_name="Lee", mobile="+16175550123")
    desk.take(account, phone="617-555-0123", first_name="Ann")
    carry_all(engine)
    assert leads_of(engine, account.id) == []
    [contact] = contacts_of(engine, account.id)
    assert contact.id == contact_id
    assert (contact.first_name, contact.last_name) == ("Ann", "Lee")
    # The number is the contact's mobile: not copied into its blank phone.
    assert contact.phone is None
    [text] = text_messages_of(engine, account.id)
    assert (text.resource_type, text.resource_id) == ("contact", contact_id)


def test_blank_fields_are_filled_and_filled_fields_untouched(engine: Engine, desk: Desk) -> None:
    account = desk.account(fields=[("E-mail", False)])
    lead_id = add_lead(engine, account.id, first_name="Ann", phone="+16175550123")
    desk.take(
        account, first_name="Annabel", last_name="Lee", company_name="Lee Bakery",
        phone="6175550123", fields={"E-mail": "Ann@Example.com"},
    )
    carry_all(engine)
    [lead] = leads_of(engine, account.id)
    assert lead.id == lead_id
    assert (lead.first_name, lead.last_name, lead.organization_name) == ("Ann", "Lee", "Lee Bakery")
    assert (lead.email, lead.email_key) == ("Ann@example.com", "ann@example.com")


def test_no_number_and_no_email_makes_no_lead(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    desk.take(account, first_name="Ann", phone="not a number")
    carry_all(engine)
    assert leads_of(engine, account.id) == []
    [text] = text_messages_of(engine, account.id)
    assert (text.resource_type, text.resource_id, text.resource_phone_number) == ("none", None, None)


def test_caller_id_is_used_when_phone_is_not_a_number(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    desk.take(account, phone="ask for Bob", caller_id="617 555 0199")
    carry_all(engine)
    [lead] = leads_of(engine, account.id)
    assert lead.phone == "+16175550199"


def test_email_field_alone_makes_a_lead_and_matches_case_insensitively(
    engine: Engine, desk: Desk
) -> None:
    account = desk.account(fields=[("e-mail", False)])
    desk.take(account, fields={"e-mail": "bob@example.com"})
    desk.take(account, fields={"e-mail": "BOB@EXAMPLE.COM"}, phone="617 555 0111")
    carry_all(engine)
    [lead] = leads_of(engine, account.id)
    assert (lead.email, lead.phone) == ("bob@example.com", "+16175550111")
    assert len(text_messages_of(engine, account.id)) == 2


def test_invalid_email_is_not_an_email(engine: Engine, desk: Desk) -> None:
    account = desk.account(fields=[("Email", False)])
    desk.take(account, fields={"Email": "bob at example"})
    carry_all(engine)
    assert leads_of(engine, account.id) == []
    [text] = text_messages_of(engine, account.id)
    assert text.resource_type == "none"


def test_matching_order_contact_number_then_email_then_lead(engine: Engine, desk: Desk) -> None:
    account = desk.account(fields=[("Email", False)])
    add_lead(engine, account.id, phone="+16175550123")
    by_email = add_contact(engine, account.id, email="ann@example.com")
    by_number = add_contact(engine, account.id, phone="+16175550123")
    add_contact(engine, account.id, phone="+16175550123")  # a higher id: not chosen
    desk.take(account, phone="617 555 0123", fields={"Email": "ann@example.com"})
    desk.take(account, phone="617 555 0999", fields={"Email": "Ann@Example.com"})
    carry_all(engine)
    texts = text_messages_of(engine, account.id)
    assert [(t.resource_type, t.resource_id) for t in texts] == [
        ("contact", by_number),
        ("contact", by_email),
    ]


def test_lead_by_number_beats_lead_by_email(engine: Engine, desk: Desk) -> None:
    account = desk.account(fields=[("Email", False)])
    by_email = add_lead(engine, account.id, email="ann@example.com")
    by_number = add_lead(engine, account.id, mobile="+16175550123")
    assert by_email < by_number
    desk.take(account, phone="617 555 0123", fields={"Email": "ann@example.com"})
    carry_all(engine)
    [text] = text_messages_of(engine, account.id)
    assert (text.resource_type, text.resource_id) == ("lead", by_number)


def test_converted_lead_is_not_matched(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    old = add_lead(engine, account.id, phone="+16175550123")
    with write_transaction(engine) as connection:
        connection.execute(leads.update().where(leads.c.id == old).values(status=LEAD_CONVERTED))
    desk.take(account, phone="617 555 0123")
    carry_all(engine)
    assert [lead.id != old for lead in leads_of(engine, account.id)] == [False, True]


def test_accounts_never_share_records(engine: Engine, desk: Desk) -> None:
    first, second = desk.account(), desk.account()
    desk.take(first, phone="617 555 0123")
    desk.take(second, phone="617 555 0123")
    carry_all(engine)
    [lead_one], [lead_two] = leads_of(engine, first.id), leads_of(engine, second.id)
    assert lead_one.id != lead_two.id
    assert [t.resource_id for t in text_messages_of(engine, second.id)] == [lead_two.id]


def test_text_message_content_user_and_sent_at(engine: Engine, desk: Desk) -> None:
    account: Account = desk.account(fields=[("Reason for Call?", False), ("Email", False)])
    login = desk.client_of(account, name="Dr Who")
    message_id = desk.take(
        account, "Call back", phone="617 555 0123", created_at="2024-03-15T10:32:05",
        fields={"Reason for Call?": "Leak", "Email": "a@example.com"}, **{"for": "dr who"},
    )
    carry_all(engine)
    [text] = text_messages_of(engine, account.id)
    assert text.message_id == message_id
    assert text.content == "Call back\nReason for Call?: Leak\nEmail: a@example.com"
    assert text.user_id == login.user.id
    assert text.sent_at.isoformat() == "2024-03-15T14:32:05+00:00"


def test_seq_counts_per_account(engine: Engine, desk: Desk) -> None:
    first, second = desk.account(), desk.account()
    for account in (first, second, first, second, first):
        desk.take(account, phone="617 555 0123")
    carry_all(engine)
    assert [t.seq for t in text_messages_of(engine, first.id)] == [1, 2, 3]
    assert [t.seq for t in text_messages_of(engine, second.id)] == [1, 2]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM outbox")).scalar() == 0
