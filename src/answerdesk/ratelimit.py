"""Per-key request rate limits: the sliding-window arithmetic, and a limiter in process memory.

A sliding window approximated from two fixed windows (the previous one
weighted by how much of it still overlaps), so each key costs two counters
and a limit cannot be doubled by bursting across a window boundary.

The arithmetic is a handful of pure functions, shared by the two limiters:
`SlidingWindowLimiter` here keeps its counters in this process (SQLite
deployments: with N server processes a token may make up to N times the
limit), `ratelimit_shared.SharedWindowLimiter` keeps them in PostgreSQL,
where every process of every machine counts against one budget. Both say
`shared`, so a caller on the event loop knows whether `hit` may wait on the
network.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from answerdesk.errors import AnswerdeskError


class RateLimited(AnswerdeskError):
    """Too many requests; `retry_after` says how many seconds to wait."""

    status = 429
    default_message = "Rate limit exceeded"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class Limiter(Protocol):
    """What the APIs need of a limiter, in memory or shared."""

    limit: int
    window: float
    #: True when the counters live in the database (each call is a round trip).
    shared: bool

    def hit(self, key: str) -> None: ...

    def check(self, key: str) -> None: ...

    def record(self, key: str) -> None: ...


# -- the arithmetic ----------------------------------------------------------


def check_bounds(limit: int, window: float) -> None:
    """Refuse a limit that could never let anything through, or divide by zero."""
    if limit < 1 or window <= 0:
        raise ValueError("a rate limit needs limit >= 1 and window > 0")


def position(now: float, window: float) -> tuple[int, float]:
    """The fixed window `now` falls in, and how many seconds into it."""
    index, offset = divmod(now, window)
    return int(index), offset


def rotate(stored: int, hits: int, previous: int, current: int) -> tuple[int, int]:
    """Counters kept for window `stored`, as seen from window `current`: (hits, previous).

    A window from the future (another machine's clock runs ahead) is taken as
    the current one: counts are never thrown away because of clock skew.
    """
    if stored >= current:
        return hits, previous
    if stored == current - 1:
        return 0, hits
    return 0, 0


def overlap(offset: float, window: float) -> float:
    """How much of the previous window still lies inside the sliding one (1 → 0)."""
    return 1.0 - offset / window


def over_limit(limit: int, hits: int, previous: int, weight: float) -> bool:
    """Would one more hit exceed `limit`? (`weight` is `overlap(offset, window)`.)

    `ratelimit_shared` makes PostgreSQL evaluate this very expression in
    float8, in this order, so both limiters decide alike to the last bit.
    """
    return hits + previous * weight + 1 > limit


def retry_after(limit: int, window: float, hits: int, previous: int, offset: float) -> int:
    """Whole seconds (at least 1) until one more hit fits under the limit."""
    return max(1, math.ceil(_wait(limit, window, hits, previous, offset)))


def _wait(limit: int, window: float, hits: int, previous: int, offset: float) -> float:
    free = limit - 1 - hits
    if previous and free >= 0:
        # Enough of the previous window slides out within this window.
        wait = window * (1 - free / previous) - offset
        if wait <= window - offset:
            return max(wait, 0.0)
    # Into the next window, where this window's hits become the previous.
    wait = window - offset
    if hits > limit - 1:
        wait += window * (1 - (limit - 1) / hits)
    return wait


# -- in process memory -------------------------------------------------------


class SlidingWindowLimiter:
    """Allow `limit` hits per `window` seconds per key, counted in this process."""

    shared = False

    def __init__(
        self, limit: int, window: float, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        check_bounds(limit, window)
        self.limit = limit
        self.window = window
        self._now = now
        self._lock = threading.Lock()
        # key -> (window index, hits in that window, hits in the window before)
        self._counts: dict[str, tuple[int, int, int]] = {}

    def hit(self, key: str) -> None:
        """Count one request for `key`; raise RateLimited when it is over the limit."""
        self._count(key, refuse=True, add=True)

    def check(self, key: str) -> None:
        """Raise RateLimited if `key` is at its limit, without counting anything.

        With `record`, this limits events that are only known afterwards
        (a failed token check): refuse while over, count when one happens.
        """
        if key not in self._counts:
            return  # nothing counted: under any limit (and nothing is stored for it)
        self._count(key, refuse=True, add=False)

    def record(self, key: str) -> None:
        """Count one event for `key`, never refusing it."""
        self._count(key, refuse=False, add=True)

    def _count(self, key: str, *, refuse: bool, add: bool) -> None:
        current, offset = position(self._now(), self.window)
        with self._lock:
            stored, hits, previous = self._counts.get(key, (current, 0, 0))
            hits, previous = rotate(stored, hits, previous, current)
            if refuse and over_limit(self.limit, hits, previous, overlap(offset, self.window)):
                self._counts[key] = (current, hits, previous)
                raise RateLimited(retry_after(self.limit, self.window, hits, previous, offset))
            self._counts[key] = (current, hits + add, previous)
            if len(self._counts) > 100_000:
                self._forget_idle(current)

    def _forget_idle(self, current: int) -> None:
        idle = [key for key, (index, _h, _p) in self._counts.items() if index < current - 1]
        for key in idle:
            del self._counts[key]
