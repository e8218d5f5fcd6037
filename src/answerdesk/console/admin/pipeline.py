"""The CRM pipeline's status for admins: due, waiting, dead letters; retry them."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit, clock
from answerdesk.console.web.pages import ADMIN, Page, view
from answerdesk.sync.outbox import outbox_status, retry_dead


@view(roles=ADMIN)
def pipeline(page: Page) -> Response:
    """Counts of the outbox and the first dead letters with their last error."""
    with page.read() as connection:
        status = outbox_status(connection)
    return page.render(
        "admin/pipeline.html", pipeline=status, now=clock.utcnow(), retried=page.param("retried")
    )


@view(roles=ADMIN)
def retry(page: Page) -> Response:
    """Put one dead letter (`id`) or all of them back in the queue."""
    raw = page.form(["id"]).get("id")
    ids = [int(raw)] if raw.isdigit() else None
    with page.write() as connection:
        count = retry_dead(connection, ids=ids)
        audit.record(
            connection,
            actor=page.me,
            action="pipeline.retry",
            target=f"outbox {raw}" if ids else "all dead letters",
            detail=f"{count} re-queued",
        )
    return page.redirect(f"/console/admin/pipeline?retried={count}")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/pipeline", pipeline, methods=["GET"]),
        Route("/admin/pipeline/retry", retry, methods=["POST"]),
    ]
