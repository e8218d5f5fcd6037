"""Agents pick the account a call is for: search by number or name."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.accounts import list_accounts
from answerdesk.console.web.pages import STAFF, Page, view

MAX_LISTED = 100


@view(roles=STAFF)
def pick_account(page: Page) -> Response:
    """List accounts matching the search; a single exact number match opens it."""
    search = page.param("q")[:100]
    with page.read() as connection:
        found = list_accounts(connection, search=search or None)
    exact = [account for account in found if account.number == search]
    if search and len(exact) == 1 and page.param("go") == "1":
        return page.redirect(f"/console/accounts/{exact[0].number}/messages/new")
    return page.render(
        "desk/accounts.html",
        accounts=found[:MAX_LISTED],
        more=len(found) > MAX_LISTED,
        search=search,
    )


def routes() -> list[BaseRoute]:
    return [Route("/accounts", pick_account, methods=["GET"])]
