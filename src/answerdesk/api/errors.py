"""Turn any error into the envelope of the API the request was for.

`/v1/...`, `/v2/messages...` and `/agent/...` answer in the Messages API's
envelope; the Sell-compatible paths (and any other `/v2/` path asked with a
Bearer token) in Sell's. Nothing unexpected ever shows a stack trace.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from answerdesk.api.auth import bearer_token
from answerdesk.api.responses import messages_error, request_id, sell_error
from answerdesk.errors import (
    AnswerdeskError,
    InvalidCredentials,
    InvalidParameter,
    NotFound,
    ValidationFailed,
)

log = logging.getLogger("answerdesk.api")

SELL_PREFIXES = ("/v2/text_messages", "/v2/leads", "/v2/contacts")


def is_sell_request(request: Request) -> bool:
    """Tell whether the request should be answered in Sell's envelope (CONTRACT §1, §2)."""
    path = request.url.path
    if path.startswith(SELL_PREFIXES):
        return True
    return (
        path.startswith("/v2/")
        and not path.startswith("/v2/messages")
        and bearer_token(request) is not None
    )


def _sell_code(error: AnswerdeskError) -> tuple[int, str]:
    if isinstance(error, InvalidCredentials):
        return 401, "unauthorized"
    if isinstance(error, NotFound):
        return 404, "not_found"
    if isinstance(error, InvalidParameter):
        return 400, "invalid_param"
    if error.status == 429:
        return 429, "rate_limit_exceeded"
    if error.status >= 500:
        return 500, "server_error"
    return error.status, "invalid_param" if error.status < 500 else "server_error"


def render_error(request: Request, error: AnswerdeskError) -> Response:
    headers = dict(getattr(error, "headers", None) or {})
    if is_sell_request(request):
        status, code = _sell_code(error)
        return sell_error(request, status, code, error.message, headers=headers)
    status = error.status
    if isinstance(error, InvalidCredentials) and request.url.path.startswith("/agent/"):
        status = 401  # our own API: the standard answer, not the vendors' 404
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, ValidationFailed):
        return messages_error(
            status, error.default_message, data={"errors": error.errors}, headers=headers
        )
    return messages_error(status, error.message, headers=headers)


async def handle_answerdesk_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AnswerdeskError)
    return render_error(request, exc)


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _canonical_allow(allow: str) -> str:
    """Starlette lists allowed methods from a set; give them a stable order."""
    methods = {method.strip() for method in allow.split(",")}
    return ", ".join(method for method in _METHOD_ORDER if method in methods)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors: unknown path (404) and wrong method (405, with Allow)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if "Allow" in headers:
        headers["Allow"] = _canonical_allow(headers["Allow"])
    if exc.status_code == 405:
        if is_sell_request(request):
            return sell_error(
                request, 405, "method_not_allowed", "Method not allowed", headers=headers
            )
        return messages_error(405, "Method not allowed", headers=headers)
    if exc.status_code == 404:
        if is_sell_request(request):
            return sell_error(request, 404, "incorrect_path", "Not found", headers=headers)
        return messages_error(404, "Not found", headers=headers)
    if is_sell_request(request):
        return sell_error(request, exc.status_code, "invalid_param", str(exc.detail))
    return messages_error(exc.status_code, str(exc.detail), headers=headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Log with the request id (never the request's secrets) and answer 500.

    Starlette answers unhandled errors outside every middleware, so the
    request-id middleware never sees this response: the header is set here,
    or the one response an operator most needs to trace would lack it.
    """
    rid = request_id(request)
    log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
    headers = {"X-Request-Id": rid} if rid else {}
    if is_sell_request(request):
        return sell_error(request, 500, "server_error", "Internal error", headers=headers)
    return messages_error(500, "Internal error", headers=headers)
