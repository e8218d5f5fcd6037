"""The errors the SDK raises: one tree, so a caller can catch as broadly as it likes.

ClientError                  base of everything below
├── TransportError           no usable answer arrived (after every retry)
│   └── RequestTimeout       ... because the server took too long
├── DecodeError              an answer was not the JSON the API documents
├── WebhookSignatureError    a webhook's signature is wrong or too old (_webhooks.py)
└── APIError                 the server answered with an error status
    ├── BadRequest           400: a parameter was refused
    ├── AuthenticationError  bad credentials (404 "Invalid token" on the
    │                        Messages API, 401 on the Text Messages API)
    ├── NotFound             404: no such message (or path)
    ├── RateLimited          429 after every retry; `retry_after` says how long
    └── ServerError          5xx after every retry

The Messages API answers bad credentials with a 404 (as the vendors'
documents say), so `AuthenticationError` is told apart from `NotFound` by the
envelope's `info`, not by the status.
"""

from __future__ import annotations

import httpx


class ClientError(Exception):
    """Base of every error the SDK raises on purpose."""


class TransportError(ClientError):
    """The request got no usable answer, even after retrying."""


class RequestTimeout(TransportError):
    """The server did not answer within the timeout, even after retrying."""


class DecodeError(ClientError):
    """An answer's body was not the JSON the API documents."""


class APIError(ClientError):
    """The server answered with an error status; `message` is what it said."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        #: Sell's error code (`not_found`, `invalid_param`, ...); None on the Messages API.
        self.code = code
        self.request_id = request_id
        self.response = response
        super().__init__(f"{status_code}: {message}")


class BadRequest(APIError):
    """The server refused a parameter (HTTP 400)."""


class AuthenticationError(APIError):
    """The e-mail or token was refused."""


class NotFound(APIError):
    """The message (or path) does not exist for these credentials."""


class RateLimited(APIError):
    """Too many requests, and retrying did not help."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        code: str | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, code=code, request_id=request_id, response=response
        )
        #: Seconds the server asked to wait (its `Retry-After`), when it said.
        self.retry_after = retry_after


class ServerError(APIError):
    """The server failed (HTTP 5xx), and retrying did not help."""
