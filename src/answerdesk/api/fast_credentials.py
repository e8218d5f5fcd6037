"""Who is calling the fast path: credentials verified moments ago, without the database.

The fast path (api/fastpath.py) answers only a caller the full path has
verified recently: its token is in the full path's cache of verified tokens
(api/auth.py), of the right role, and, for the Messages API, with the right
e-mail. The answer for one exact set of credential headers is then
remembered for a second, so a busy client costs a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from answerdesk import clock
from answerdesk.api.auth import REVERIFY_MARGIN, TokenCache
from answerdesk.tokens import LAST_USED_RESOLUTION, Principal, hash_token

#: A token that expires within this long is left to the full path, so it
#: cannot expire mid-request.
_MARGIN = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: How long the answer for one set of credential headers is remembered
#: (within the cache entry's REVERIFY_MARGIN, so within its life).
SEEN_SECONDS = 1.0
_SEEN_SIZE = 10_000
#: How long one request has to verify a token again (the full path) before
#: another may try; meanwhile the others keep using the token's entry.
_REVERIFY_CLAIM_SECONDS = 0.5


class RecentCallers:
    """Callers verified moments ago, looked up by their credential headers."""

    def __init__(self, state: dict[str, Any]) -> None:
        #: The app's state (its `token_cache` is the full path's verified tokens).
        self._state = state
        #: sha256(credential headers) -> (monotonic deadline, clock deadline, principal)
        self.seen: dict[bytes, tuple[float, datetime, Principal]] = {}
        #: token digest -> monotonic time until which one request is verifying it again
        self.reverifying: dict[str, float] = {}

    def principal(self, found: dict[bytes, bytes], *, sell: bool) -> Principal | None:
        """The caller, if its credentials were verified moments ago (no database needed).

        The answer for these exact header bytes is remembered for a second
        (keyed by their SHA-256, never the token itself), which is inside
        every bound the full check below guarantees.
        """
        key = _credentials_key(found, sell=sell)
        seen = self.seen.get(key)
        now = time.monotonic()
        if seen is not None and seen[0] > now and clock.utcnow() < seen[1]:
            return seen[2]
        principal = self._verified(found, sell=sell)
        if principal is not None:
            if len(self.seen) >= _SEEN_SIZE:
                self.seen.clear()  # rare; cheaper than tracking ages
            self.seen[key] = (now + SEEN_SECONDS, good_until(principal), principal)
        return principal

    def unverified(self, found: dict[bytes, bytes], *, sell: bool) -> bytes | None:
        """A key for these credentials if their token is not verified at all yet, else None.

        For requests that the full path would each verify (a token not in
        its cache): the fast path lets one of them go and the rest wait for
        it under this key (api/fastpath.py). None for anything else that
        `principal` turns away (no token, a token verified but of another
        role or e-mail, one being verified again), which waiting cannot change.
        """
        token = _token(found, sell=sell)
        if not token:
            return None
        cache: TokenCache | None = self._state.get("token_cache")
        if cache is not None and cache.get(hash_token(token)) is not None:
            return None
        return _credentials_key(found, sell=sell)

    def _verified(self, found: dict[bytes, bytes], *, sell: bool) -> Principal | None:
        """The full path's own checks, answered from its cache of verified tokens only.

        Headers are read as the full path reads them: the first of each name,
        decoded as Latin-1, stripped.
        """
        email = None
        if not sell:
            email = found.get(b"x-api-email", b"").decode("latin-1").strip().lower()
            if not email:
                return None
        token = _token(found, sell=sell)
        if not token:
            return None
        cache: TokenCache | None = self._state.get("token_cache")
        if cache is None:
            return None
        # Good for longer than a remembered answer lives (see `principal`); an
        # older entry goes the full way once, which verifies it afresh.
        digest = hash_token(token)
        principal = cache.get(digest, margin=REVERIFY_MARGIN)
        if principal is None:
            principal = self._while_reverified(cache, digest)
        if principal is None or principal.role != "client" or principal.account_id is None:
            return None
        if clock.utcnow() >= good_until(principal):
            return None
        if email is not None and not hmac.compare_digest(principal.email.encode(), email.encode()):
            return None
        return principal

    def _while_reverified(self, cache: TokenCache, digest: str) -> Principal | None:
        """An entry in its re-verify margin: one request verifies it again, the rest use it.

        Without this, every request of a busy token in flight when its entry
        entered the margin went the full way (up to c=32 of them every three
        seconds, ~20 ms of work that showed as the single message's p99).
        The others keep the entry only while it outlives an answer
        remembered from it (`SEEN_SECONDS`), so the cache's bound holds.
        """
        principal = cache.get(digest, margin=SEEN_SECONDS)
        if principal is None:
            return None
        now = time.monotonic()
        claimed = self.reverifying.get(digest)
        if claimed is None or claimed <= now:
            if len(self.reverifying) >= _SEEN_SIZE:
                self.reverifying.clear()
            self.reverifying[digest] = now + _REVERIFY_CLAIM_SECONDS
            return None  # this request goes the full way and verifies it again
        return principal


def _credentials_key(found: dict[bytes, bytes], *, sell: bool) -> bytes:
    """The SHA-256 of exactly the credential headers an answer depends on (never the token)."""
    if sell:
        raw = b"b" + found.get(b"authorization", b"")
    else:
        raw = b"m" + found.get(b"x-api-token", b"") + b"\n" + found.get(b"x-api-email", b"")
    return hashlib.sha256(raw).digest()


def _token(found: dict[bytes, bytes], *, sell: bool) -> str | None:
    """The token of the credential headers, read as the full path reads it."""
    if sell:
        return bearer(found.get(b"authorization", b"").decode("latin-1"))
    return found.get(b"x-api-token", b"").decode("latin-1").strip()


def good_until(principal: Principal) -> datetime:
    """When a verified token stops being usable without the database.

    Exactly when the full path would write `last_used_at` (`needs_touch`):
    stopping any earlier left a gap in which neither path wrote it, so every
    request of a busy token took the slow way for seconds of each minute.
    Expiry keeps a margin, so a token never expires during a fast answer.
    """
    until = principal.last_used_at + LAST_USED_RESOLUTION if principal.last_used_at else _EPOCH
    if principal.expires_at is not None:
        until = min(until, principal.expires_at - _MARGIN)
    return until


def bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer` value, exactly as `auth.bearer_token` reads it."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
