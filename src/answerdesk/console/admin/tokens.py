"""Everyone's API tokens for admins: list (newest first, paged), revoke."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit, clock, tokens
from answerdesk.console.web.pages import ADMIN, Page, view
from answerdesk.token_admin import list_all_tokens

PAGE = 50


@view(roles=ADMIN)
def all_tokens(page: Page) -> Response:
    """Tokens of every user, searchable by owner or prefix."""
    search, before = page.param("q")[:100], page.param("before")
    with page.read() as connection:
        rows = list_all_tokens(
            connection,
            search=search or None,
            before_id=int(before) if before.isdigit() else None,
            limit=PAGE + 1,
        )
    return page.render(
        "admin/tokens.html",
        rows=rows[:PAGE],
        next_before=rows[PAGE - 1].info.id if len(rows) > PAGE else None,
        search=search,
        paged=bool(before),
        now=clock.utcnow(),
        revoked=page.param("revoked"),
    )


@view(roles=ADMIN)
def revoke_any(page: Page) -> Response:
    """Revoke anyone's token; recorded in the audit log."""
    token_id = page.path_int("token_id")
    with page.write() as connection:
        tokens.revoke_token(connection, token_id=token_id)
        info = tokens.get_token(connection, token_id=token_id)
        audit.record(
            connection,
            actor=page.me,
            action="token.revoke",
            target=info.prefix,
            detail=f"owner {info.owner_email}",
        )
    back = page.form(["back"]).get("back")
    if back.startswith("/console/admin/users/"):
        return page.redirect(f"{back}?done=revoked")
    return page.redirect(f"/console/admin/tokens?revoked={info.prefix}")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/tokens", all_tokens, methods=["GET"]),
        Route("/admin/tokens/{token_id}/revoke", revoke_any, methods=["POST"]),
    ]
