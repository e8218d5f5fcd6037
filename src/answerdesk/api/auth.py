"""Who is calling: API tokens from headers, checked against the store.

Every way authentication can fail raises the same InvalidCredentials, so the
answer never tells a caller which part was wrong.
"""

from __future__ import annotations

import hmac

from sqlalchemy.engine import Engine
from starlette.requests import Request

from answerdesk import clock
from answerdesk.errors import InvalidCredentials
from answerdesk.ratelimit import SlidingWindowLimiter
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.tokens import Principal, touch_last_used, verify_token

#: A credential in the URL ends up in proxy and server logs; we refuse it
#: outright rather than let anyone come to rely on it.
CREDENTIAL_QUERY_KEYS = frozenset(
    {"token", "api_token", "x-api-token", "x_api_token", "access_token", "x-api-email"}
)


def _verify(engine: Engine, request: Request, token: str) -> Principal:
    with read_transaction(engine) as connection:
        principal = verify_token(connection, token)
    if principal is None:
        raise InvalidCredentials()
    limiter: SlidingWindowLimiter | None = getattr(request.app.state, "api_limiter", None)
    if limiter is not None:
        limiter.hit(f"token:{principal.token_id}")
    if principal.needs_touch(clock.utcnow()):
        with write_transaction(engine) as connection:
            touch_last_used(connection, token_id=principal.token_id)
    return principal


def _reject_query_credentials(request: Request) -> None:
    if any(key.lower() in CREDENTIAL_QUERY_KEYS for key in request.query_params):
        raise InvalidCredentials()


def bearer_token(request: Request) -> str | None:
    """Return the token of an `Authorization: Bearer` header, if there is one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def client_from_headers(engine: Engine, request: Request) -> Principal:
    """Authenticate a Messages API call: X-API-EMAIL + X-API-TOKEN of a client user."""
    _reject_query_credentials(request)
    email = request.headers.get("x-api-email", "").strip().lower()
    token = request.headers.get("x-api-token", "").strip()
    if not email or not token:
        raise InvalidCredentials()
    principal = _verify(engine, request, token)
    if principal.role != "client" or not hmac.compare_digest(
        principal.email.encode(), email.encode()
    ):
        raise InvalidCredentials()
    return principal


def principal_from_bearer(engine: Engine, request: Request) -> Principal:
    """Authenticate an `Authorization: Bearer` call (any role; callers check it)."""
    _reject_query_credentials(request)
    token = bearer_token(request)
    if token is None:
        raise InvalidCredentials()
    return _verify(engine, request, token)
