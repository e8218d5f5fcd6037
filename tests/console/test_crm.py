"""CRM pages: leads and contacts with their text messages and open deals; convert a lead."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa

from answerdesk.crm.deals import create_deal
from answerdesk.crm.records import RecordRef
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import outbox
from tests.console.conftest import PASSWORD, Console
from tests.crm_support import carry_all, contacts_of, leads_of
from tests.factories import Desk


def test_client_reads_leads_and_converts_one(console: Console, desk: Desk) -> None:
    account = desk.account()
    desk.take(
        account, "Quote for a new boiler", first_name="Ann", last_name="Lee", phone="617 555 0123"
    )
    carry_all(desk.engine)
    (lead,) = leads_of(desk.engine, account.id)
    with write_transaction(desk.engine) as connection:
        create_deal(
            connection,
            account_id=account.id,
            record=RecordRef("lead", lead.id),
            name="Boiler install",
            value=Decimal("4200"),
        )
        create_deal(
            connection,
            account_id=account.id,
            record=RecordRef("lead", lead.id),
            name="Old deal",
            stage="lost",
        )
    client = console.sign_in(desk.user(role="client", account=account, password=PASSWORD))
    listing = client.get(f"/console/accounts/{account.number}/crm")
    assert listing.status_code == 200 and "Ann Lee" in listing.text
    page = client.get(f"/console/accounts/{account.number}/crm/lead/{lead.id}")
    assert "Quote for a new boiler" in page.text
    assert "Boiler install" in page.text and "4,200.00" in page.text
    assert "Old deal" not in page.text
    done = client.post(f"/console/accounts/{account.number}/crm/lead/{lead.id}/convert")
    assert done.status_code == 303
    contact_page = client.get(done.headers["location"])
    assert "is converted" in contact_page.text
    assert "Quote for a new boiler" in contact_page.text and "Boiler install" in contact_page.text
    assert [c.first_name for c in contacts_of(desk.engine, account.id)] == ["Ann"]
    again = client.get(f"/console/accounts/{account.number}/crm/lead/{lead.id}")
    assert "Converted" in again.text and "Convert to contact" not in again.text
    contacts = client.get(f"/console/accounts/{account.number}/crm?kind=contact")
    assert re.search(r"/crm/contact/\d+\">Ann Lee", contacts.text)


def test_another_accounts_records_are_not_found(console: Console, desk: Desk) -> None:
    mine, theirs = desk.account(), desk.account()
    desk.take(theirs, "Their caller", phone="617 555 0199")
    carry_all(desk.engine)
    (lead,) = leads_of(desk.engine, theirs.id)
    client = console.sign_in(desk.user(role="client", account=mine, password=PASSWORD))
    for path in (
        f"/console/accounts/{theirs.number}/crm",
        f"/console/accounts/{mine.number}/crm/lead/{lead.id}",
        f"/console/accounts/{theirs.number}/crm/lead/{lead.id}",
        f"/console/accounts/{mine.number}/crm/deal/{lead.id}",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(f"/console/accounts/{mine.number}/crm/lead/{lead.id}/convert").status_code
        == 404
    )
    assert leads_of(desk.engine, theirs.id)[0].status != "Converted"


def test_admin_sees_the_pipeline_and_retries_dead_letters(console: Console, desk: Desk) -> None:
    account = desk.account()
    message_id = desk.take(account, "Stuck", phone="617 555 0123")
    with write_transaction(desk.engine) as connection:
        connection.execute(
            outbox.update().values(
                dead_at=sa.func.now(), attempts=8, last_error="OSError: CRM down"
            )
        )
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))
    page = admin.get("/console/admin/pipeline")
    assert page.status_code == 200
    assert "OSError: CRM down" in page.text and f"#{message_id}" in page.text
    assert admin.post("/console/admin/pipeline/retry").status_code == 303
    assert "1 message(s) put back" in admin.get("/console/admin/pipeline?retried=1").text
    assert carry_all(desk.engine) == 1
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    assert agent.get("/console/admin/pipeline").status_code == 403
