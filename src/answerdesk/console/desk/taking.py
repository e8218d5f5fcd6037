"""The message form: standard fields plus the account's script, checked on the server too.

Custom fields are posted as `f_<field id>` and handed to the domain by
label; the domain's errors (`fields.<label>`) come back to the same inputs.
Nothing is stored unless the whole message is valid.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.accounts import ScriptField, get_script
from answerdesk.console.desk.access import open_account
from answerdesk.console.web.forms import Form
from answerdesk.console.web.pages import STAFF, Page, view
from answerdesk.errors import ValidationFailed
from answerdesk.messages import take_message_data
from answerdesk.users import account_clients

STANDARD = [
    "first_name",
    "last_name",
    "company_name",
    "phone",
    "caller_id",
    "for",
    "content",
    "is_emergency",
]


def _data(form: Form, script: list[ScriptField]) -> dict[str, Any]:
    data: dict[str, Any] = {key: form.get(key) for key in STANDARD if key != "is_emergency"}
    data["is_emergency"] = form.checked("is_emergency")
    data["fields"] = {field.label: form.get(f"f_{field.id}") for field in script}
    return data


@view(roles=STAFF)
def new_message(page: Page) -> Response:
    """Show the form for this account; on POST take the message or show every error."""
    number = str(page.request.path_params["number"])
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        script = get_script(connection, account_id=account.id)
        clients = account_clients(connection, account_id=account.id)
    names = STANDARD + [f"f_{field.id}" for field in script]
    form = page.form(names)
    if page.data is None:
        return page.render(
            "desk/new_message.html",
            account=account,
            script=script,
            clients=clients,
            form=form,
            tab="new",
        )
    rename = {f"fields.{field.label}": f"f_{field.id}" for field in script}
    try:
        with page.write() as connection:
            # Re-read inside the write: the script may have changed since the form was shown.
            script = get_script(connection, account_id=account.id)
            rename = {f"fields.{field.label}": f"f_{field.id}" for field in script}
            message_id = take_message_data(
                connection, account=account, data=_data(form, script), taken_by_user_id=page.me.id
            )
    except ValidationFailed as error:
        form.fail(error.errors, rename)
        return page.render(
            "desk/new_message.html",
            status=422,
            account=account,
            script=script,
            clients=clients,
            form=form,
            tab="new",
        )
    return page.redirect(f"/console/accounts/{account.number}/messages/{message_id}?saved=1")


def routes() -> list[BaseRoute]:
    return [Route("/accounts/{number}/messages/new", new_message, methods=["GET", "POST"])]
