"""JSON responses and the two error envelopes (Messages API and Sell)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

JSON_TYPE = "application/json; charset=utf-8"


class JSONBytesResponse(Response):
    """A JSON response rendered with orjson, declaring its charset."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)


def messages_error(
    status: int,
    info: str,
    *,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The Messages API envelope: `{"success": false, "info": ..., "data": {}}`.

    Rendered with the standard library's separators so the bytes are exactly
    the documented ones (`"success": false`, with the space).
    """
    body = json.dumps({"success": False, "info": info, "data": dict(data or {})}).encode()
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=dict(headers or {}))


def sell_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Zendesk Sell's error envelope, with `meta.logref` equal to X-Request-Id."""
    phrase = HTTPStatus(status).phrase
    body = {
        "errors": [
            {
                "error": {"code": code, "message": message, "details": details or message},
                "meta": {"type": "error"},
            }
        ],
        "meta": {
            "type": "errors",
            "http_status": f"{status} {phrase}",
            "logref": request_id(request),
        },
    }
    return JSONBytesResponse(body, status_code=status, headers=dict(headers or {}))


def request_id(request: Request) -> str:
    """The id the request-id middleware gave this request."""
    return str(request.scope.get("state", {}).get("request_id", ""))
