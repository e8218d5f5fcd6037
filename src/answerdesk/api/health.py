"""`/healthz`, `/readyz` and `/metrics`: what load balancers and Prometheus ask."""

from __future__ import annotations

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.api.responses import JSONBytesResponse
from answerdesk.store.migrate import current_revision, head_revision


async def healthz(request: Request) -> Response:
    """Answer 200 while the process serves requests (no database involved)."""
    return JSONBytesResponse({"status": "ok"})


def readyz(request: Request) -> Response:
    """Answer 200 when the database answers and its schema matches this code, else 503."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        current = current_revision(engine)
    except sa.exc.SQLAlchemyError:
        return JSONBytesResponse({"status": "unavailable", "database": "unreachable"}, 503)
    expected = head_revision()
    if current != expected:
        return JSONBytesResponse(
            {"status": "unavailable", "database": "ok", "schema": current, "expected": expected},
            503,
        )
    return JSONBytesResponse({"status": "ok", "database": "ok", "schema": current})


def metrics(request: Request) -> Response:
    """Prometheus text format: this app's registry, then the process-wide one.

    The process-wide registry holds the pipeline worker's counters and the
    Python process figures (memory, CPU, open files).
    """
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = generate_latest(registry) + generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
