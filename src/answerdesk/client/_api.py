"""What each API expects on the wire: paths, headers, parameters, and its error envelopes.

No I/O here: the sync and async clients both build their requests and read
their answers through these two classes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, NoReturn

import httpx

from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequest,
    DecodeError,
    NotFound,
    RateLimited,
    ServerError,
)
from ._retry import parse_retry_after

#: The Messages API's answer to bad credentials, whatever the cause.
INVALID_TOKEN = "Invalid token"  # noqa: S105 (an error text, not a secret)


def format_date(day: date) -> str:
    """Return a date as the Messages API's `MM-DD-YYYY`."""
    return f"{day.month:02d}-{day.day:02d}-{day.year:04d}"


def read_json(response: httpx.Response) -> Any:
    """Return the decoded body, or raise DecodeError naming the request."""
    try:
        return json.loads(response.content)
    except ValueError as error:
        raise DecodeError(f"{response.request.url} did not answer JSON: {error}") from None


def _error_class(status: int) -> type[APIError]:
    if status == 400:
        return BadRequest
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    return ServerError if status >= 500 else APIError


def _raise(
    response: httpx.Response, cls: type[APIError], message: str, code: str | None, logref: Any
) -> NoReturn:
    request_id = logref if isinstance(logref, str) else response.headers.get("X-Request-Id")
    common: dict[str, Any] = {
        "status_code": response.status_code,
        "code": code,
        "request_id": request_id,
        "response": response,
    }
    if cls is RateLimited:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimited(message, retry_after=retry_after, **common)
    raise cls(message, **common)


def _safe_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


class MessagesAPI:
    """The Messages API (v1 or v2): `X-API-EMAIL` and `X-API-TOKEN`, nothing else."""

    def __init__(self, *, email: str, token: str, version: int) -> None:
        if version not in (1, 2):
            raise ValueError(f"version must be 1 or 2, got {version!r}")
        self.version = version
        self.list_path = f"/v{version}/messages"
        # Exactly the headers the vendors' documents show.
        self.headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-API-EMAIL": email,
            "X-API-TOKEN": token,
        }

    def one_path(self, message_id: int) -> str:
        return f"{self.list_path}/{int(message_id)}"

    @staticmethod
    def range_params(from_date: date | None, to_date: date | None) -> dict[str, str]:
        params = {}
        if from_date is not None:
            params["from_date"] = format_date(from_date)
        if to_date is not None:
            params["to_date"] = format_date(to_date)
        return params

    @staticmethod
    def check(response: httpx.Response) -> Any:
        """Return the JSON of a successful answer; raise the matching APIError otherwise."""
        if response.is_success:
            return read_json(response)
        body = _safe_json(response)
        info = body.get("info") if isinstance(body, Mapping) else None
        message = info if isinstance(info, str) else (response.reason_phrase or "error")
        cls = _error_class(response.status_code)
        if response.status_code == 404 and message == INVALID_TOKEN:
            cls = AuthenticationError
        _raise(response, cls, message, None, None)


class TextMessagesAPI:
    """The Zendesk Sell compatible Text Messages API: `Authorization: Bearer`."""

    list_path = "/v2/text_messages"

    def __init__(self, *, token: str) -> None:
        self.headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}

    def one_path(self, text_message_id: int) -> str:
        return f"{self.list_path}/{int(text_message_id)}"

    @staticmethod
    def list_params(
        *,
        page: int | None = None,
        per_page: int | None = None,
        ids: Iterable[int] | None = None,
        resource_type: str | None = None,
        resource_id: int | None = None,
        sort_by: str | None = None,
    ) -> dict[str, str]:
        given: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            "ids": ",".join(str(int(i)) for i in ids) if ids is not None else None,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "sort_by": sort_by,
        }
        return {key: str(value) for key, value in given.items() if value is not None}

    @staticmethod
    def check(response: httpx.Response) -> Any:
        """Return the JSON of a successful answer; raise the matching APIError otherwise."""
        if response.is_success:
            return read_json(response)
        body = _safe_json(response)
        message, code, logref = response.reason_phrase or "error", None, None
        if isinstance(body, Mapping):
            errors = body.get("errors")
            first = errors[0] if isinstance(errors, list) and errors else None
            error = first.get("error") if isinstance(first, Mapping) else None
            if isinstance(error, Mapping):
                code = error.get("code") if isinstance(error.get("code"), str) else None
                text = error.get("message")
                message = text if isinstance(text, str) else message
                details = error.get("details")
                if isinstance(details, str) and details and details != message:
                    message = f"{message}: {details}"
            meta = body.get("meta")
            logref = meta.get("logref") if isinstance(meta, Mapping) else None
        _raise(response, _error_class(response.status_code), message, code, logref)
