"""An account's messages: the filtered list (keyset pages) and one message."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.accounts import Account
from answerdesk.console.desk.access import open_account
from answerdesk.console.web.forms import Form
from answerdesk.console.web.pages import Page, view
from answerdesk.messages import STATUSES, get_message, local_day_range, render_message
from answerdesk.messages.search import Cursor, MessageFilter, search_messages
from answerdesk.users import account_clients

FILTER_FIELDS = ["from", "to", "q", "emergency", "status"]


def _day(form: Form, name: str) -> date | None:
    raw = form.get(name).strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        form.errors[name] = "must be a date, e.g. 2024-03-15"
        return None


def _cursor(raw: str) -> Cursor | None:
    second, _, last_id = raw.partition(".")
    if second.lstrip("-").isdigit() and last_id.isdigit():
        return int(second), int(last_id)
    return None


def _filters(page: Page, account: Account) -> tuple[Form, MessageFilter]:
    form = Form(values={name: page.param(name) for name in FILTER_FIELDS})
    first, last = _day(form, "from"), _day(form, "to")
    if first and last and first > last:
        form.errors["to"] = "must be on or after the start date"
    status = form.get("status")
    if status and status not in STATUSES:
        form.errors["status"] = "is not a status"
    return form, MessageFilter(
        days=local_day_range(account.zone, first, last),
        text=form.get("q")[:200] or None,
        emergency_only=form.checked("emergency"),
        status=status or None,
    )


def rendered(row: Any, account: Account) -> dict[str, Any]:
    """The message as the API shows it, plus the raw row for the template."""
    wire = render_message(row, account_number=account.number, zone=account.zone)
    return {
        "wire": wire,
        "fields": orjson.loads(row.fields),
        "delivered_at": row.delivered_at,
        "json": orjson.dumps(wire, option=orjson.OPT_INDENT_2).decode(),
    }


@view()
def list_messages(page: Page) -> Response:
    """Newest first, 50 a page; filters by local dates, text, emergency and status."""
    number = str(page.request.path_params["number"])
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        form, filters = _filters(page, account)
        result = None
        if form.ok:
            result = search_messages(
                connection,
                account_id=account.id,
                filters=filters,
                cursor=_cursor(page.param("before")),
            )
    items = [rendered(row, account) for row in result.rows] if result else []
    return page.render(
        "desk/messages.html",
        status=200 if form.ok else 422,
        account=account,
        form=form,
        items=items,
        next_params=_params(form, result.next_cursor) if result and result.next_cursor else None,
        window_exhausted=bool(result and result.window_exhausted),
        paged=bool(page.param("before")),
        statuses=STATUSES,
        tab="messages",
    )


def _params(form: Form, cursor: Cursor) -> dict[str, str]:
    params = {name: value for name, value in form.values.items() if value}
    params["before"] = f"{cursor[0]}.{cursor[1]}"
    return params


@view()
def show_message(page: Page) -> Response:
    """One message, as stored and as the API returns it."""
    number = str(page.request.path_params["number"])
    message_id = page.path_int("message_id")
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        row = get_message(connection, account_id=account.id, message_id=message_id)
        clients = account_clients(connection, account_id=account.id)
    return page.render(
        "desk/message.html",
        account=account,
        item=rendered(row, account),
        saved=page.param("saved") == "1",
        changed=page.param("changed"),
        form=Form(),
        clients=clients,
        statuses=STATUSES,
        tab="messages",
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/accounts/{number}/messages", list_messages, methods=["GET"]),
        Route("/accounts/{number}/messages/{message_id}", show_message, methods=["GET"]),
    ]
