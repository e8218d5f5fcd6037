"""When to ask again and how long to wait first: 429, 5xx and timeouts, politely.

The decision is kept apart from sending (`RetryState.after_*` return the
seconds to sleep, or None to stop), so the sync and async clients share it
and tests can inject a sleep that records instead of waiting.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

#: Statuses worth asking again for: the server said "later" or failed on its side.
#: 501 (Not Implemented) and other 5xx that will not change are not retried.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Retry:
    """A retry policy: how many times, and the capped exponential backoff between.

    Without `Retry-After` the n-th wait (n from 0) is a random time between
    half and all of `min(max_backoff, backoff * 2**n)` ("equal jitter"), so
    many clients failing together do not come back together. A server's
    `Retry-After` is waited for exactly, unless it asks for more than
    `max_retry_after` seconds: then the error is raised at once.
    """

    total: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 300.0
    statuses: frozenset[int] = RETRY_STATUSES
    #: A number in [0, 1) per wait; tests pass a constant.
    rng: Callable[[], float] = field(default=_random.random, compare=False, repr=False)

    def backoff_delay(self, attempt: int) -> float:
        """Return the jittered wait before retry number `attempt + 1`."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        return ceiling / 2 + self.rng() * ceiling / 2


def as_policy(retries: int | Retry) -> Retry:
    """Accept a number of retries as shorthand for the default policy with that total."""
    if isinstance(retries, Retry):
        return retries
    if retries < 0:
        raise ValueError("retries must not be negative")
    return Retry(total=retries)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read `Retry-After` as seconds: delta-seconds or an HTTP-date; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class RetryState:
    """Count the attempts of one request and decide after each outcome."""

    def __init__(self, policy: Retry) -> None:
        self.policy = policy
        self.attempt = 0

    def _next(self, delay: float) -> float | None:
        if self.attempt >= self.policy.total:
            return None
        self.attempt += 1
        return delay

    def after_response(self, response: httpx.Response) -> float | None:
        """Return the seconds to wait before asking again, or None to keep this answer."""
        if response.status_code not in self.policy.statuses:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return self._next(self.policy.backoff_delay(self.attempt))
        if retry_after > self.policy.max_retry_after:
            return None
        return self._next(retry_after)

    def after_error(self) -> float | None:
        """Return the seconds to wait after a timeout or a broken connection, or None."""
        return self._next(self.policy.backoff_delay(self.attempt))
