"""Create and edit accounts: number, name, time zone, phone region, phone."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit
from answerdesk.account_admin import AccountForm, save_account
from answerdesk.accounts import Account, get_account
from answerdesk.console.web.forms import Form
from answerdesk.console.web.pages import ADMIN, Page, view
from answerdesk.errors import ValidationFailed
from answerdesk.messages.rerender import rerender_in_background

FIELDS = ["number", "name", "timezone", "region", "phone"]


@cache
def zones() -> list[str]:
    """IANA zone names for the time-zone suggestions, computed once."""
    return sorted(available_timezones())


def _form_of(account: Account) -> Form:
    return Form(
        values={
            "number": account.number,
            "name": account.name,
            "timezone": account.timezone,
            "region": account.region,
            "phone": account.phone or "",
        }
    )


def _save(page: Page, form: Form, account: Account | None) -> Response:
    data = AccountForm(**{name: form.get(name) for name in FIELDS})
    try:
        with page.write() as connection:
            # The zone as stored now (another admin may have changed it since
            # the form was shown): a change from it makes the stored JSON stale.
            zone_before = (
                get_account(connection, account_id=account.id).timezone if account else None
            )
            saved = save_account(connection, form=data, account_id=account.id if account else None)
            changes = (
                ", ".join(
                    f"{name}: {getattr(account, name)!s} → {getattr(saved, name)!s}"
                    for name in FIELDS
                    if getattr(account, name) != getattr(saved, name)
                )
                if account
                else f"{saved.name}, {saved.timezone}, {saved.region}"
            )
            audit.record(
                connection,
                actor=page.me,
                action="account.update" if account else "account.create",
                target=f"account {saved.number}",
                detail=changes or "no change",
            )
    except ValidationFailed as error:
        form.fail(error.errors)
        return page.render(
            "admin/account_form.html",
            status=422,
            form=form,
            account=account,
            zones=zones(),
            tab="settings",
        )
    if account is None:
        return page.redirect(f"/console/admin/accounts/{saved.id}/script?created=1")
    if saved.timezone != zone_before:
        # The messages' stored JSON is in the old zone now: re-render it after
        # this commit, in the background (a big account takes minutes; readers
        # render stale rows themselves meanwhile).
        rerender_in_background(page.state.engine, saved)
    return page.redirect(f"/console/admin/accounts/{saved.id}?saved=1")


@view(roles=ADMIN)
def new_account(page: Page) -> Response:
    """The empty account form; on POST create the account."""
    form = page.form(FIELDS)
    if page.data is None:
        form.values.update(timezone="America/New_York", region="US")
        return page.render(
            "admin/account_form.html", form=form, account=None, zones=zones(), tab="settings"
        )
    return _save(page, form, None)


@view(roles=ADMIN)
def edit_account(page: Page) -> Response:
    """The account's settings; on POST save them (all or nothing)."""
    account_id = page.path_int("account_id")
    with page.read() as connection:
        account = get_account(connection, account_id=account_id)
    if page.data is None:
        return page.render(
            "admin/account_form.html",
            form=_form_of(account),
            account=account,
            zones=zones(),
            saved=page.param("saved") == "1",
            tab="settings",
        )
    return _save(page, page.form(FIELDS), account)


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/accounts/new", new_account, methods=["GET", "POST"]),
        Route("/admin/accounts/{account_id}", edit_account, methods=["GET", "POST"]),
    ]
