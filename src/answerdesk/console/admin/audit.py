"""The audit log, newest first, for admins."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.audit import list_entries
from answerdesk.console.web.pages import ADMIN, Page, view

PAGE = 50


@view(roles=ADMIN)
def audit_log(page: Page) -> Response:
    """Who changed what, 50 entries a page."""
    before = page.param("before")
    with page.read() as connection:
        entries = list_entries(
            connection, before_id=int(before) if before.isdigit() else None, limit=PAGE + 1
        )
    return page.render(
        "admin/audit.html",
        entries=entries[:PAGE],
        next_before=entries[PAGE - 1].id if len(entries) > PAGE else None,
        paged=bool(before),
    )


def routes() -> list[BaseRoute]:
    return [Route("/admin/audit", audit_log, methods=["GET"])]
