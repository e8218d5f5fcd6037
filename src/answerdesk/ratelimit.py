"""Per-key request rate limits, in process memory.

A sliding window approximated from two fixed windows (the previous one
weighted by how much of it still overlaps), so each key costs two counters
and a limit cannot be doubled by bursting across a window boundary.
Counters live in one process: with N server processes a token may make up to
N times the limit (documented in docs/api.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from answerdesk.errors import AnswerdeskError


class RateLimited(AnswerdeskError):
    """Too many requests; `retry_after` says how many seconds to wait."""

    status = 429
    default_message = "Rate limit exceeded"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class SlidingWindowLimiter:
    """Allow `limit` hits per `window` seconds per key."""

    def __init__(
        self, limit: int, window: float, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
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
        self._count(key, refuse=True, add=False)

    def record(self, key: str) -> None:
        """Count one event for `key`, never refusing it."""
        self._count(key, refuse=False, add=True)

    def _count(self, key: str, *, refuse: bool, add: bool) -> None:
        now = self._now()
        index, offset = divmod(now, self.window)
        current = int(index)
        with self._lock:
            window_index, hits, previous = self._counts.get(key, (current, 0, 0))
            if window_index != current:
                previous = hits if window_index == current - 1 else 0
                hits = 0
            overlap = 1.0 - offset / self.window
            estimated = hits + previous * overlap
            if refuse and estimated + 1 > self.limit:
                self._counts[key] = (current, hits, previous)
                raise RateLimited(max(1, math.ceil(self._wait(hits, previous, offset))))
            self._counts[key] = (current, hits + add, previous)
            if len(self._counts) > 100_000:
                self._forget_idle(current)

    def _wait(self, hits: int, previous: int, offset: float) -> float:
        """Seconds until one more hit fits under the limit."""
        free = self.limit - 1 - hits
        if previous and free >= 0:
            # Enough of the previous window slides out within this window.
            wait = self.window * (1 - free / previous) - offset
            if wait <= self.window - offset:
                return max(wait, 0.0)
        # Into the next window, where this window's hits become the previous.
        wait = self.window - offset
        if hits > self.limit - 1:
            wait += self.window * (1 - (self.limit - 1) / hits)
        return wait

    def _forget_idle(self, current: int) -> None:
        idle = [key for key, (index, _h, _p) in self._counts.items() if index < current - 1]
        for key in idle:
            del self._counts[key]
