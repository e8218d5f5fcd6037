"""HTML error pages for console paths (the JSON APIs keep their own envelopes)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from answerdesk.console.web.pages import error_response
from answerdesk.console.web.state import ConsoleState
from answerdesk.errors import AnswerdeskError

log = logging.getLogger("answerdesk.console")


async def handle_error(request: Request, exc: Exception) -> Response:
    """Render a routing error (404, 405) or a domain error as an HTML page."""
    state: ConsoleState = request.app.state.console
    if isinstance(exc, HTTPException):
        message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        response = error_response(state, request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
    if isinstance(exc, AnswerdeskError):
        return error_response(state, request, exc.status, exc.message)
    log.error("console error", exc_info=exc)
    return error_response(state, request, 500, "The error was logged. Please try again.")
