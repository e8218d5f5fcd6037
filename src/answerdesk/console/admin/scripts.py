"""The script editor: add, rename, reorder, require and remove an account's custom fields."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit, scripts
from answerdesk.accounts import Account, add_script_field, get_account, get_script
from answerdesk.console.web.forms import Form
from answerdesk.console.web.pages import ADMIN, Page, view
from answerdesk.errors import ValidationFailed

ACTIONS = ("rename", "up", "down", "require", "optional", "remove")


def _render(
    page: Page, account: Account, form: Form, status: int = 200, edited: int = 0
) -> Response:
    with page.read() as connection:
        script = get_script(connection, account_id=account.id)
    return page.render(
        "admin/script.html",
        status=status,
        account=account,
        script=script,
        form=form,
        edited=edited,
        created=page.param("created") == "1",
        done=page.param("done"),
        tab="script",
    )


def _account(page: Page) -> Account:
    with page.read() as connection:
        return get_account(connection, account_id=page.path_int("account_id"))


@view(roles=ADMIN)
def show_script(page: Page) -> Response:
    """The account's custom fields in order, each with its tools."""
    return _render(page, _account(page), Form())


@view(roles=ADMIN)
def add_field(page: Page) -> Response:
    """Append a field to the script."""
    account = _account(page)
    form = page.form(["label", "required"])
    try:
        with page.write() as connection:
            label = scripts.check_label(connection, account_id=account.id, label=form.get("label"))
            add_script_field(
                connection, account_id=account.id, label=label, required=form.checked("required")
            )
            audit.record(
                connection,
                actor=page.me,
                action="script.add",
                target=f"account {account.number}",
                detail=f"{label}{' (required)' if form.checked('required') else ''}",
            )
    except ValidationFailed as error:
        form.fail(error.errors)
        return _render(page, account, form, status=422)
    return page.redirect(f"/console/admin/accounts/{account.id}/script?done=added")


@view(roles=ADMIN)
def edit_field(page: Page) -> Response:
    """Apply one tool (rename, up, down, require, optional, remove) to one field."""
    account = _account(page)
    field_id = page.path_int("field_id")
    form = page.form(["action", f"label_{field_id}"])
    action = form.get("action")
    if action not in ACTIONS:
        form.summary = "Unknown action."
        return _render(page, account, form, status=422)
    try:
        with page.write() as connection:
            before = next(
                (f for f in get_script(connection, account_id=account.id) if f.id == field_id),
                None,
            )
            if before is None:
                raise scripts.ScriptFieldNotFound()
            detail = before.label
            if action == "rename":
                new_label = form.get(f"label_{field_id}")
                scripts.rename_field(
                    connection, account_id=account.id, field_id=field_id, label=new_label
                )
                detail = f"{before.label} → {new_label.strip()}"
            elif action in ("up", "down"):
                offset = -1 if action == "up" else 1
                scripts.move_field(
                    connection, account_id=account.id, field_id=field_id, offset=offset
                )
            elif action in ("require", "optional"):
                scripts.set_required(
                    connection,
                    account_id=account.id,
                    field_id=field_id,
                    required=action == "require",
                )
            else:
                scripts.remove_field(connection, account_id=account.id, field_id=field_id)
            audit.record(
                connection,
                actor=page.me,
                action=f"script.{action}",
                target=f"account {account.number}",
                detail=detail,
            )
    except ValidationFailed as error:
        form.fail({f"label_{field_id}": problem for problem in error.errors.values()})
        return _render(page, account, form, status=422, edited=field_id)
    return page.redirect(f"/console/admin/accounts/{account.id}/script?done={action}")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/accounts/{account_id}/script", show_script, methods=["GET"]),
        Route("/admin/accounts/{account_id}/script/add", add_field, methods=["POST"]),
        Route("/admin/accounts/{account_id}/script/{field_id}", edit_field, methods=["POST"]),
    ]
