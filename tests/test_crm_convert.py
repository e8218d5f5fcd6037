"""Converting a lead: a contact with its fields, its text messages and deals moved."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.crm.converting import convert_lead
from answerdesk.crm.deals import create_deal
from answerdesk.crm.records import LeadNotFound, RecordRef
from answerdesk.errors import Conflict
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import deals
from tests.crm_support import add_lead, carry_all, contacts_of, leads_of, rows, text_messages_of
from tests.factories import Desk


def _convert(engine: Engine, lead_id: int, account_id: int | None = None):  # type: ignore[no-untyped-def]
    with write_transaction(engine) as connection:
        return convert_lead(connection, lead_id=lead_id, account_id=account_id)


def test_convert_moves_text_messages_and_deals(
    engine: Engine, desk: Desk, http: TestClient
) -> None:
    account = desk.account()
    login = desk.client_of(account)
    desk.take(account, first_name="Ann", last_name="Lee", company_name="Lee Bakery",
              phone="617 555 0123")
    desk.take(account, phone="617 555 0123")
    carry_all(engine)
    [lead] = leads_of(engine, account.id)
    with write_transaction(engine) as connection:
        deal = create_deal(connection, account_id=account.id, record=RecordRef("lead", lead.id),
                           name="Oven")
    done = _convert(engine, lead.id)
    assert (done.text_messages, done.deals) == (2, 1)
    [contact] = contacts_of(engine, account.id)
    assert done.contact_id == contact.id
    assert (contact.first_name, contact.last_name, contact.organization_name, contact.phone) == (
        "Ann", "Lee", "Lee Bakery", "+16175550123",
    )
    assert contact.is_organization is False
    [lead] = leads_of(engine, account.id)
    assert lead.status == "Converted"
    texts = text_messages_of(engine, account.id)
    assert {(t.resource_type, t.resource_id) for t in texts} == {("contact", contact.id)}
    [moved] = rows(engine, deals)
    assert (moved.id, moved.lead_id, moved.contact_id) == (deal, None, contact.id)
    listed = http.get("/v2/text_messages", headers=login.bearer).json()["items"]
    assert [item["data"]["associated_deal_ids"] for item in listed] == [[deal], [deal]]
    # The caller calls again: the contact, not the converted lead nor a new lead.
    desk.take(account, phone="(617) 555-0123")
    carry_all(engine)
    assert len(leads_of(engine, account.id)) == 1
    assert text_messages_of(engine, account.id)[-1].resource_id == contact.id


def test_organization_lead_becomes_organization_contact(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    lead_id = add_lead(engine, account.id, organization_name="Lee Bakery")
    _convert(engine, lead_id)
    [contact] = contacts_of(engine, account.id)
    assert (contact.is_organization, contact.organization_name) == (True, "Lee Bakery")


def test_convert_twice_is_a_conflict_and_unknown_lead_not_found(
    engine: Engine, desk: Desk
) -> None:
    account = desk.account()
    lead_id = add_lead(engine, account.id, last_name="Lee")
    _convert(engine, lead_id)
    with pytest.raises(Conflict):
        _convert(engine, lead_id)
    with pytest.raises(LeadNotFound):
        _convert(engine, 999_999)
    with pytest.raises(LeadNotFound):
        _convert(engine, lead_id, account_id=desk.account().id)
