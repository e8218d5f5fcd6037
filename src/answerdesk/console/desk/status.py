"""Move a message forward: delivered (to whom, when), read, archived."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.console.desk.access import open_account
from answerdesk.console.desk.listing import rendered
from answerdesk.console.web.pages import Page, view
from answerdesk.errors import Conflict, ValidationFailed
from answerdesk.messages import STATUSES, change_status, get_message
from answerdesk.messages.localtime import NonexistentLocalTime, parse_instant
from answerdesk.users import account_clients

#: Clients confirm they read a message or put it away; delivering is staff work.
CLIENT_STATUSES = ("read", "archived")


@view()
def set_status(page: Page) -> Response:
    """Apply the posted status; errors are shown on the message page, next to the field."""
    number = str(page.request.path_params["number"])
    message_id = page.path_int("message_id")
    form = page.form(["status", "delivered_to", "delivered_at"])
    status = form.get("status")
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        get_message(connection, account_id=account.id, message_id=message_id)
    allowed = CLIENT_STATUSES if page.me.role == "client" else STATUSES
    delivered_at: datetime | None = None
    if status not in allowed:
        form.errors["status"] = f"must be one of {', '.join(allowed)}"
    if status == "delivered" and form.get("delivered_at").strip():
        try:
            delivered_at = parse_instant(form.get("delivered_at"), account.zone)
        except NonexistentLocalTime:
            form.errors["delivered_at"] = "does not exist on that day (daylight-saving change)"
        except ValueError:
            form.errors["delivered_at"] = "must be a date and time, e.g. 2024-03-15T10:32"
    if form.ok:
        try:
            with page.write() as connection:
                change_status(
                    connection,
                    account_id=account.id,
                    message_id=message_id,
                    status=status,
                    delivered_to=form.get("delivered_to")[:320] if status == "delivered" else None,
                    delivered_at=delivered_at,
                )
        except (Conflict, ValidationFailed) as error:
            form.summary = error.message
    if form.ok:
        return page.redirect(
            f"/console/accounts/{account.number}/messages/{message_id}?changed={status}"
        )
    with page.read() as connection:
        row = get_message(connection, account_id=account.id, message_id=message_id)
        clients = account_clients(connection, account_id=account.id)
    return page.render(
        "desk/message.html",
        status=422,
        account=account,
        item=rendered(row, account),
        saved=False,
        changed="",
        form=form,
        clients=clients,
        statuses=STATUSES,
        tab="messages",
    )


def routes() -> list[BaseRoute]:
    return [Route("/accounts/{number}/messages/{message_id}/status", set_status, methods=["POST"])]
