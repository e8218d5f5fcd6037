"""`/console/tokens`: a person's API tokens. The token itself is shown once, at creation."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit, clock, tokens
from answerdesk.accounts import get_account
from answerdesk.console.web.forms import Form
from answerdesk.console.web.pages import Page, view
from answerdesk.errors import ValidationFailed

MAX_EXPIRY_DAYS = 3650


def _messages_path(page: Page) -> str:
    version = page.settings.api_version_label.lower()
    return f"/{version if version in ('v1', 'v2') else 'v1'}/messages"


def _list(page: Page, form: Form, status: int = 200) -> Response:
    with page.read() as connection:
        mine = tokens.list_tokens(connection, user_id=page.me.id)
    return page.render(
        "tokens/list.html", status=status, tokens=mine, form=form, now=clock.utcnow()
    )


@view()
def list_tokens(page: Page) -> Response:
    """List the person's tokens, newest first, with the form to create one."""
    return _list(page, Form(values={"expires_days": "90"}))


@view()
def create_token(page: Page) -> Response:
    """Create a token and show it this once, with a ready-to-run curl command."""
    form = page.form(["expires_days"])
    raw = form.get("expires_days").strip()
    expires_days: int | None = None
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_EXPIRY_DAYS:
            form.errors["expires_days"] = (
                f"must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or empty"
            )
        else:
            expires_days = int(raw)
    if not form.ok:
        return _list(page, form, status=422)
    try:
        with page.write() as connection:
            info, token = tokens.create_token(
                connection, user_id=page.me.id, expires_days=expires_days
            )
            audit.record(
                connection,
                actor=page.me,
                action="token.create",
                target=info.prefix,
                detail=f"owner {page.me.email}",
            )
            account = (
                get_account(connection, account_id=page.me.account_id)
                if page.me.account_id
                else None
            )
    except ValidationFailed as error:
        form.fail(error.errors)
        return _list(page, form, status=422)
    page.headers["Cache-Control"] = "no-store"
    return page.render(
        "tokens/created.html",
        info=info,
        token=token,
        account=account,
        base=page.base_url,
        messages_path=_messages_path(page),
    )


@view()
def revoke_token(page: Page) -> Response:
    """Revoke one of the person's own tokens (another person's is not found)."""
    token_id = page.path_int("token_id")
    with page.write() as connection:
        tokens.revoke_token(connection, token_id=token_id, user_id=page.me.id)
        info = tokens.get_token(connection, token_id=token_id)
        audit.record(
            connection,
            actor=page.me,
            action="token.revoke",
            target=info.prefix,
            detail=f"owner {info.owner_email}",
        )
    return page.redirect("/console/tokens?revoked=1")


def routes() -> list[BaseRoute]:
    return [
        Route("/tokens", list_tokens, methods=["GET"]),
        Route("/tokens/new", create_token, methods=["POST"]),
        Route("/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
    ]
