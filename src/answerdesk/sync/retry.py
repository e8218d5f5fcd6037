"""When to try a failed message again: capped exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """How failed carries are retried, and when one becomes a dead letter.

    The delay doubles with each failure up to `max_delay`; the actual wait is
    drawn from the upper half of that window ("equal jitter") so a burst of
    failures does not come back as a burst.
    """

    base_delay: float = 2.0
    max_delay: float = 600.0
    #: After this many failed attempts the row is parked as a dead letter.
    max_attempts: int = 10

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Return the wait after the `attempts`-th failure (1 for the first)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        draw = (rng or random).uniform(ceiling / 2, ceiling)
        return timedelta(seconds=draw)

    def is_dead(self, attempts: int) -> bool:
        """Tell whether a row that has failed `attempts` times is given up on."""
        return attempts >= self.max_attempts


DEFAULT_POLICY = RetryPolicy()
