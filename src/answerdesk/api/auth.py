"""Who is calling: API tokens from headers, checked against the store.

Every way authentication can fail raises the same InvalidCredentials, so the
answer never tells a caller which part was wrong.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Engine
from starlette.requests import Request

from answerdesk import clock
from answerdesk.errors import InvalidCredentials
from answerdesk.ratelimit import Limiter
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.tokens import Principal, hash_token, touch_last_used, verify_token

#: How long a verified token is trusted without asking the database again.
TOKEN_CACHE_SECONDS = 5.0
#: A token seen in the last seconds of its cache entry is verified again
#: (one read), so a busy token never falls out of the cache and the fast path
#: (api/fastpath.py), which only takes entries with this much life left,
#: keeps answering it.
REVERIFY_MARGIN = 2.0
#: A credential in the URL ends up in proxy and server logs; we refuse it
#: outright rather than let anyone come to rely on it.
CREDENTIAL_QUERY_KEYS = frozenset(
    {"token", "api_token", "x-api-token", "x_api_token", "access_token", "x-api-email"}
)


class TokenCache:
    """Tokens verified in the last `ttl` seconds, by SHA-256, so a busy client costs no query.

    A revoked token, a disabled user or a changed role is noticed within `ttl`
    seconds (docs/api.md says so); expiry is checked on every request.
    """

    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str, *, margin: float = 0.0) -> Principal | None:
        """The principal verified for `digest`, if still good for `margin` more seconds."""
        entry = self._entries.get(digest)
        if entry is None or time.monotonic() - entry[0] >= self.ttl - margin:
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal, *, since: float | None = None) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # rare; cheaper than tracking ages
        self._entries[digest] = (time.monotonic() if since is None else since, principal)

    def forget(self, digest: str) -> None:
        """Drop an entry (its token no longer verifies)."""
        self._entries.pop(digest, None)

    def refresh(self, digest: str, principal: Principal) -> None:
        """Replace an entry's principal, keeping when it was verified."""
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = (entry[0], principal)


def token_cache(request: Request) -> TokenCache:
    """The app's cache of verified tokens (made on first use, one per app)."""
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    if cache is None:
        cache = TokenCache()
        request.app.state.token_cache = cache
    return cache


def auth_failure_limiter(request: Request) -> Limiter | None:
    """The app's counter of failed authentications per client address (None: no limit).

    Built once by `create_app` (`ratelimit_shared.build_limiter`): shared by
    every process on PostgreSQL, per process on SQLite.
    """
    limiter: Limiter | None = getattr(request.app.state, "auth_failure_limiter", None)
    return limiter


def client_address(request: Request) -> str:
    """The caller's address (the proxy's X-Forwarded-For when it is trusted)."""
    return request.client.host if request.client else "unknown"


@contextmanager
def _failures_limited(request: Request) -> Iterator[None]:
    """Refuse an address that failed too often, before its token is even looked at.

    Guessing tokens is hopeless (321 random bits), but every guess costs a
    hash and a query; this keeps a guesser from spending our database, and
    from probing which e-mails exist through timing.
    """
    limiter = auth_failure_limiter(request)
    if limiter is None:
        yield
        return
    key = f"auth-failure:{client_address(request)}"
    limiter.check(key)
    try:
        yield
    except InvalidCredentials:
        limiter.record(key)
        raise


def _expired(principal: Principal, now: datetime) -> bool:
    return principal.expires_at is not None and principal.expires_at <= now


def _verify(engine: Engine, request: Request, token: str) -> Principal:
    cache = token_cache(request)
    digest = hash_token(token)
    principal = cache.get(digest, margin=REVERIFY_MARGIN)
    if principal is None:
        with read_transaction(engine) as connection:
            principal = verify_token(connection, token)
        if principal is None:
            # Revoked while cached: the fast path, which may still be using
            # the entry while this request verified it again, stops at once.
            cache.forget(digest)
            raise InvalidCredentials()
        cache.put(digest, principal)
    now = clock.utcnow()
    if _expired(principal, now):
        raise InvalidCredentials()
    limiter: Limiter | None = getattr(request.app.state, "api_limiter", None)
    if limiter is not None:
        limiter.hit(f"token:{principal.token_id}")
    if principal.needs_touch(now):
        with write_transaction(engine) as connection:
            touch_last_used(connection, token_id=principal.token_id)
        cache.refresh(digest, replace(principal, last_used_at=now))
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
    with _failures_limited(request):
        return _client_from_headers(engine, request)


def _client_from_headers(engine: Engine, request: Request) -> Principal:
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
    with _failures_limited(request):
        return _principal_from_bearer(engine, request)


def _principal_from_bearer(engine: Engine, request: Request) -> Principal:
    _reject_query_credentials(request)
    token = bearer_token(request)
    if token is None:
        raise InvalidCredentials()
    return _verify(engine, request, token)
