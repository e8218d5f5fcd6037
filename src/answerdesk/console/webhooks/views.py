"""`/console/webhooks`: a client's webhook endpoints and their deliveries.

Everything is scoped to the signed-in client's account: another account's
endpoint or event is not found. Clients cannot allow private addresses
(only an admin can, with the CLI). Changes go to the audit log.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit
from answerdesk.console.web.forms import Form
from answerdesk.console.web.pages import Page, view
from answerdesk.errors import Forbidden, NotFound, ValidationFailed
from answerdesk.users import Role
from answerdesk.webhooks import EVENT_TYPES
from answerdesk.webhooks.deliveries import list_deliveries, replay_event
from answerdesk.webhooks.endpoints import (
    delete_endpoint,
    disable_endpoint,
    list_endpoints,
    register_endpoint,
    rotate_secret,
)

CLIENT: tuple[Role, ...] = ("client",)
ACTIONS = ("disable", "delete", "rotate")


def _account_id(page: Page) -> int:
    if page.me.account_id is None:
        raise Forbidden("Webhooks belong to a client account.")
    return page.me.account_id


def _list(page: Page, form: Form, status: int = 200) -> Response:
    account_id = _account_id(page)
    with page.read() as connection:
        endpoints = list_endpoints(connection, account_id=account_id)
        deliveries = list_deliveries(connection, account_id=account_id, limit=50)
    return page.render(
        "webhooks/list.html",
        status=status,
        form=form,
        endpoints=endpoints,
        deliveries=deliveries,
        event_types=EVENT_TYPES,
    )


@view(CLIENT)
def list_webhooks(page: Page) -> Response:
    """List the account's endpoints and recent deliveries, with the form to add one."""
    return _list(page, Form(values={"message.created": "on"}))


def _shown_once(page: Page, endpoint_url: str, secret: str) -> Response:
    page.headers["Cache-Control"] = "no-store"
    return page.render("webhooks/created.html", url=endpoint_url, secret=secret)


@view(CLIENT)
def create_webhook(page: Page) -> Response:
    """Register an endpoint and show its signing secret this once."""
    account_id = _account_id(page)
    form = page.form(["url", *EVENT_TYPES])
    chosen = [event for event in EVENT_TYPES if form.checked(event)]
    try:
        with page.write() as connection:
            endpoint, secret = register_endpoint(
                connection,
                settings=page.settings,
                account_id=account_id,
                url=form.get("url"),
                events=chosen,
            )
            audit.record(
                connection,
                actor=page.me,
                action="webhook.create",
                target=endpoint.url[:200],
                detail=f"events {','.join(endpoint.events)}",
            )
    except ValidationFailed as error:
        form.fail(error.errors)
        return _list(page, form, status=422)
    return _shown_once(page, endpoint.url, secret)


@view(CLIENT)
def change_webhook(page: Page) -> Response:
    """Disable, delete or re-key one of the account's endpoints."""
    account_id = _account_id(page)
    endpoint_id = page.path_int("endpoint_id")
    action = str(page.request.path_params["action"])
    if action not in ACTIONS:
        raise NotFound("Page not found")
    with page.write() as connection:
        if action == "disable":
            endpoint = disable_endpoint(connection, endpoint_id=endpoint_id, account_id=account_id)
        elif action == "delete":
            endpoint = delete_endpoint(connection, endpoint_id=endpoint_id, account_id=account_id)
        else:
            secret = rotate_secret(
                connection, settings=page.settings, endpoint_id=endpoint_id, account_id=account_id
            )
            endpoint = next(
                e for e in list_endpoints(connection, account_id=account_id) if e.id == endpoint_id
            )
        audit.record(
            connection, actor=page.me, action=f"webhook.{action}", target=endpoint.url[:200]
        )
    if action == "rotate":
        return _shown_once(page, endpoint.url, secret)
    return page.redirect(f"/console/webhooks?{action}d=1")


@view(CLIENT)
def replay(page: Page) -> Response:
    """Send an event of this account again, with its same id."""
    account_id = _account_id(page)
    event_id = page.form(["event_id"]).get("event_id")
    with page.write() as connection:
        replay_event(connection, event_id=event_id, account_id=account_id)
        audit.record(connection, actor=page.me, action="webhook.replay", target=event_id[:200])
    return page.redirect("/console/webhooks?replayed=1")


def routes() -> list[BaseRoute]:
    return [
        Route("/webhooks", list_webhooks, methods=["GET"]),
        Route("/webhooks/new", create_webhook, methods=["POST"]),
        Route("/webhooks/replay", replay, methods=["POST"]),
        Route("/webhooks/{endpoint_id}/{action}", change_webhook, methods=["POST"]),
    ]
