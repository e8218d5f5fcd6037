"""`/console/accounts/<number>/crm`: leads and contacts; convert a lead to a contact."""

from __future__ import annotations

from typing import Literal

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit
from answerdesk.console.desk.access import open_account
from answerdesk.console.web.pages import Page, view
from answerdesk.crm.converting import convert_lead
from answerdesk.crm.paging import PageRequest
from answerdesk.crm.people import PeopleQuery, get_person, list_people
from answerdesk.crm.records import RecordRef
from answerdesk.crm.text_messages import TextMessageQuery, list_text_messages
from answerdesk.crm_summary import open_deals
from answerdesk.errors import Conflict, NotFound
from answerdesk.store.tables import LEAD_CONVERTED

PAGE_SIZE = 25
MAX_PAGE = 1000
TEXTS_SHOWN = 50
Kind = Literal["lead", "contact"]


def _kind(raw: str) -> Kind:
    if raw == "lead":
        return "lead"
    if raw == "contact":
        return "contact"
    raise NotFound("Page not found")


@view()
def people(page: Page) -> Response:
    """A page of the account's leads or contacts, newest first."""
    number = str(page.request.path_params["number"])
    kind = _kind(page.param("kind") or "lead")
    raw = page.param("page")
    number_of_page = int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        result = list_people(
            connection,
            PeopleQuery(
                account_id=account.id,
                kind=kind,
                page=PageRequest(number_of_page, PAGE_SIZE),
                descending=True,
            ),
            region=account.region,
        )
    return page.render(
        "crm/people.html",
        account=account,
        kind=kind,
        rows=result.rows,
        page_number=number_of_page,
        has_next=result.has_next and number_of_page < MAX_PAGE,
        tab="crm",
    )


@view()
def person(page: Page) -> Response:
    """One lead or contact: its fields, open deals and text messages (newest first)."""
    number = str(page.request.path_params["number"])
    kind = _kind(str(page.request.path_params["kind"]))
    record_id = page.path_int("record_id")
    ref = RecordRef(kind, record_id)
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        row = get_person(connection, account_id=account.id, kind=kind, id=record_id)
        texts = list_text_messages(
            connection,
            TextMessageQuery(account_id=account.id, page=PageRequest(1, TEXTS_SHOWN), resource=ref),
        )
        deals = open_deals(connection, account_id=account.id, record=ref)
    return page.render(
        "crm/person.html",
        account=account,
        kind=kind,
        record=row,
        texts=texts.rows,
        more_texts=texts.has_next,
        deals=deals,
        converted=kind == "lead" and row.status == LEAD_CONVERTED,
        notice=page.param("converted"),
        error="",
        tab="crm",
    )


@view()
def convert(page: Page) -> Response:
    """Convert a lead: a contact is made and the lead's texts and deals move to it."""
    number = str(page.request.path_params["number"])
    lead_id = page.path_int("record_id")
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
    try:
        with page.write() as connection:
            done = convert_lead(connection, lead_id=lead_id, account_id=account.id)
            audit.record(
                connection,
                actor=page.me,
                action="crm.convert",
                target=f"account {account.number} lead {lead_id}",
                detail=f"contact {done.contact_id}; moved {done.text_messages} text "
                f"message(s), {done.deals} deal(s)",
            )
    except Conflict:
        return page.redirect(f"/console/accounts/{account.number}/crm/lead/{lead_id}")
    return page.redirect(
        f"/console/accounts/{account.number}/crm/contact/{done.contact_id}?converted={lead_id}"
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/accounts/{number}/crm", people, methods=["GET"]),
        Route("/accounts/{number}/crm/{kind}/{record_id}", person, methods=["GET"]),
        Route("/accounts/{number}/crm/lead/{record_id}/convert", convert, methods=["POST"]),
    ]
