"""Rate limits whose counters every process shares: rows of an UNLOGGED PostgreSQL table.

With N API processes (and machines) on one PostgreSQL, in-memory counters
would let a token make N times its limit. Here each key is one row of
`rate_limit_counters` holding ratelimit.py's two fixed windows, and
`SharedWindowLimiter` keeps the in-memory limiter's interface and decisions
(the arithmetic is ratelimit.py's) with these differences:

* Time is wall-clock epoch seconds (not the monotonic clock), so processes on
  different machines agree which window they are in; their clocks must be
  kept in sync (NTP), as skew only shifts the window boundaries.
* `hit` is one atomic `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`: the
  row lock orders concurrent hits, so two processes at the limit never both
  pass, and no check-then-insert race exists. It is the only place
  PostgreSQL has to decide; it evaluates `ratelimit.over_limit` in float8, the
  same IEEE arithmetic in the same order, and the Retry-After of a refusal
  is computed here from the counters the statement returns.
* Each call runs on its own short autocommit connection from the engine's
  pool (the driver's connection, without SQLAlchemy's per-checkout work):
  one statement, one round trip, never inside the caller's transaction, and
  its count stands even if the caller's transaction rolls back.
* Rows two windows old count nothing; about once a window each process
  deletes them (one extra statement in whichever request comes due, not a
  statement per request).
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine

from answerdesk.ratelimit import (
    Limiter,
    RateLimited,
    SlidingWindowLimiter,
    check_bounds,
    over_limit,
    overlap,
    position,
    retry_after,
    rotate,
)
from answerdesk.store.engine import is_postgres

#: How long a key found under its limit may be taken to still be, without a
#: read (`recently_clear`, for the fast path's answers kept in memory).
CLEAR_SECONDS = 1.0
#: In the last this-many seconds of a key's `CLEAR_SECONDS`, `renewal_due` asks
#: one caller to read its counters again, so a busy key's memo is renewed
#: before it lapses instead of every request in flight reading at once.
RENEW_SECONDS = 0.25
_CLEAR_SIZE = 10_000
#: Longer keys (an odd forwarded address) are stored as their SHA-256.
MAX_KEY_LENGTH = 200
#: Stale rows are pruned at most this often per process (or once a window, if longer).
PRUNE_EVERY_SECONDS = 60.0

# The statements spell out `rotate` and `over_limit` of ratelimit.py over the
# stored row `c` and the window being counted (EXCLUDED.window_index): hits
# are c.hits if c is this window (or a later one: clock skew), else 0;
# previous is c.previous then, c.hits if c is the window before, else 0.
# Keep them in step: tests/test_ratelimit_shared.py holds them to the Python.

#: Count one hit unless it is over the limit; say which, and the counters it saw.
HIT_SQL = """
INSERT INTO rate_limit_counters AS c (key, window_index, hits, previous, refused, stale_after)
VALUES (%(key)s, CAST(%(current)s AS bigint), 1, 0, false, CAST(%(stale_after)s AS bigint))
ON CONFLICT (key) DO UPDATE SET
    window_index = GREATEST(c.window_index, EXCLUDED.window_index),
    hits = CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.hits ELSE 0 END
        + CASE WHEN (((
            CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.hits ELSE 0 END)
            + (CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.previous
                    WHEN c.window_index = EXCLUDED.window_index - 1 THEN c.hits ELSE 0 END)
              * CAST(%(weight)s AS float8)) + 1) > CAST(%(limit)s AS float8)
          THEN 0 ELSE 1 END,
    previous = CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.previous
                    WHEN c.window_index = EXCLUDED.window_index - 1 THEN c.hits ELSE 0 END,
    refused = (((
            CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.hits ELSE 0 END)
            + (CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.previous
                    WHEN c.window_index = EXCLUDED.window_index - 1 THEN c.hits ELSE 0 END)
              * CAST(%(weight)s AS float8)) + 1) > CAST(%(limit)s AS float8),
    stale_after = GREATEST(c.stale_after, EXCLUDED.stale_after)
RETURNING hits, previous, refused
"""
#: Count one event, never refusing it.
RECORD_SQL = """
INSERT INTO rate_limit_counters AS c (key, window_index, hits, previous, refused, stale_after)
VALUES (%(key)s, CAST(%(current)s AS bigint), 1, 0, false, CAST(%(stale_after)s AS bigint))
ON CONFLICT (key) DO UPDATE SET
    window_index = GREATEST(c.window_index, EXCLUDED.window_index),
    hits = CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.hits ELSE 0 END + 1,
    previous = CASE WHEN c.window_index >= EXCLUDED.window_index THEN c.previous
                    WHEN c.window_index = EXCLUDED.window_index - 1 THEN c.hits ELSE 0 END,
    refused = false,
    stale_after = GREATEST(c.stale_after, EXCLUDED.stale_after)
"""
CHECK_SQL = "SELECT window_index, hits, previous FROM rate_limit_counters WHERE key = %(key)s"
PRUNE_SQL = "DELETE FROM rate_limit_counters WHERE stale_after <= %(now)s"


@functools.cache
def _with_counters(sql: str) -> str:
    """`sql` (one of the fast path's own statements, never user input) plus a key's counters."""
    return (
        f"SELECT r.*, c.window_index, c.hits, c.previous FROM ({sql}) AS r "  # noqa: S608
        "LEFT JOIN rate_limit_counters c ON c.key = %s"
    )


def stored_key(key: str) -> str:
    """The key as stored: itself, or its SHA-256 when too long for the column."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class SharedWindowLimiter:
    """Allow `limit` hits per `window` seconds per key, counted in PostgreSQL for every process."""

    shared = True

    def __init__(
        self,
        engine: Engine,
        limit: int,
        window: float,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        check_bounds(limit, window)
        if not is_postgres(engine):
            raise ValueError("shared rate limits need PostgreSQL")
        self.limit = limit
        self.window = window
        self._engine = engine
        self._now = now
        self._prune_every = max(float(window), PRUNE_EVERY_SECONDS)
        self._next_prune = now() + self._prune_every
        self._prune_lock = threading.Lock()
        #: key -> monotonic time until which it is taken to be under its limit
        self._clear_until: dict[str, float] = {}
        #: key -> the `_clear_until` whose renewal a caller has been asked to read
        self._renewing: dict[str, float] = {}
        #: Bumped by every `record`: a read begun before it must not be remembered as clear.
        self.epoch = 0

    def hit(self, key: str) -> None:
        """Count one request for `key`; raise RateLimited when it is over the limit."""
        now = self._now()
        sql, params, offset = self.hit_statement(key, now)
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
            self._maybe_prune(cursor, now)
        self.judge_hit(row, offset)

    def hit_statement(
        self, key: str, now: float | None = None
    ) -> tuple[str, dict[str, object], float]:
        """The statement that counts one hit, its parameters, and the window offset.

        For callers that run it on their own connection (the async fast path,
        api/fastpath.py); `judge_hit` then reads its one row.
        """
        current, offset = position(self._now() if now is None else now, self.window)
        params = {
            **self._row(key, current),
            "weight": overlap(offset, self.window),
            "limit": self.limit,
        }
        return HIT_SQL, params, offset

    def judge_hit(self, row: Any, offset: float) -> None:
        """Raise RateLimited if the hit statement's row says the hit was refused."""
        hits, previous, refused = row
        if refused:
            raise RateLimited(retry_after(self.limit, self.window, hits, previous, offset))

    def check(self, key: str) -> None:
        """Raise RateLimited if `key` is at its limit, without counting anything (one read)."""
        sql, params, now = self.check_statement(key)
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        self.judge_check(row, now, key)

    def check_statement(self, key: str) -> tuple[str, dict[str, object], float]:
        """The statement that reads `key`'s counters, its parameters, and the time it is for."""
        return CHECK_SQL, {"key": stored_key(key)}, self._now()

    def with_check(
        self, sql: str, params: tuple[object, ...], key: str
    ) -> tuple[str, tuple[object, ...], float]:
        """`sql` with `key`'s counters as three more columns, its parameters, and the time.

        For the fast path's single-item reads (positional `%s` parameters):
        the read and the check in one round trip instead of two. The last
        three columns are NULL when the key has no counters; `judge_check`
        then reads them (as None).
        """
        return _with_counters(sql), (*params, stored_key(key)), self._now()

    def judge_check(
        self, row: Any, now: float, key: str | None = None, *, epoch: int | None = None
    ) -> None:
        """Raise RateLimited if the counters read by the check statement are at the limit.

        With `key`, a key found under its limit is remembered as such for
        CLEAR_SECONDS (`recently_clear`), unless this process recorded an
        event since `epoch` (the `epoch` when the read began): the counters
        read may predate that event.
        """
        if row is not None:
            current, offset = position(now, self.window)
            hits, previous = rotate(row[0], row[1], row[2], current)
            if over_limit(self.limit, hits, previous, overlap(offset, self.window)):
                if key is not None:
                    self._clear_until.pop(stored_key(key), None)
                raise RateLimited(retry_after(self.limit, self.window, hits, previous, offset))
        if key is not None and (epoch is None or epoch == self.epoch):
            if len(self._clear_until) >= _CLEAR_SIZE:
                self._clear_until.clear()  # rare; cheaper than tracking ages
                self._renewing.clear()
            self._clear_until[stored_key(key)] = time.monotonic() + CLEAR_SECONDS

    def recently_clear(self, key: str) -> bool:
        """Whether `key` was found under its limit within CLEAR_SECONDS, with no event since.

        For answers that need no round trip (the fast path's kept answers):
        the check is a read, and an address's count only falls with time, so
        such a key can only have reached its limit since by events recorded
        meanwhile. This process's own `record` forgets the key at once;
        another process's is noticed within CLEAR_SECONDS (docs/api.md).
        """
        until = self._clear_until.get(stored_key(key))
        return until is not None and time.monotonic() < until

    def renewal_due(self, key: str) -> bool:
        """Whether the caller should read `key`'s counters again now (True once per memo).

        True for the first caller in the last RENEW_SECONDS of a key still
        `recently_clear`; that caller reads the counters (`check_statement`,
        then `judge_check` with the `epoch` taken before the read) while
        every other caller goes on taking the key as clear until the memo
        lapses. Without it, a busy address's memo lapsed once a second and
        every request in flight read the counters at once (the fast path's
        p99 on PostgreSQL, docs/performance.md "Tenth look").
        """
        stored = stored_key(key)
        until = self._clear_until.get(stored)
        if until is None or until - time.monotonic() > RENEW_SECONDS:
            return False
        if self._renewing.get(stored) == until:
            return False  # asked of another caller already
        if len(self._renewing) >= _CLEAR_SIZE:
            self._renewing.clear()
        self._renewing[stored] = until
        return True

    def record(self, key: str) -> None:
        """Count one event for `key`, never refusing it."""
        now = self._now()
        current, _offset = position(now, self.window)
        self.epoch += 1
        self._clear_until.pop(stored_key(key), None)
        with self._cursor() as cursor:
            cursor.execute(RECORD_SQL, self._row(key, current))
            self._maybe_prune(cursor, now)

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor on a pooled connection in autocommit: each statement one round trip.

        The DB-API connection itself rather than a SQLAlchemy `Connection`,
        which costs as much again as the statement (measured: ~170 µs a hit
        instead of ~360 µs). Autocommit, so no BEGIN/COMMIT round trips and
        nothing of the caller's transaction; restored before the connection
        goes back to the pool.
        """
        pooled = self._engine.raw_connection()
        try:
            connection = pooled.driver_connection
            assert connection is not None
            connection.autocommit = True
            try:
                with connection.cursor() as cursor:
                    yield cursor
            finally:
                connection.autocommit = False
        finally:
            pooled.close()

    def _row(self, key: str, current: int) -> dict[str, object]:
        return {
            "key": stored_key(key),
            "current": current,
            "stale_after": math.ceil((current + 2) * self.window),
        }

    def _maybe_prune(self, cursor: Any, now: float) -> None:
        """Delete rows that count nothing any more, about once a window per process."""
        if now < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = now + self._prune_every
            cursor.execute(PRUNE_SQL, {"now": now})
        finally:
            self._prune_lock.release()


def build_limiter(engine: Engine, limit: int, window: float) -> Limiter | None:
    """The limiter an app uses: shared on PostgreSQL, per process on SQLite; None when off.

    SQLite is one machine's file, and its deployments run one process (or a
    few workers, each then allowing the limit: docs/operations.md).
    """
    if limit <= 0:
        return None
    if is_postgres(engine):
        return SharedWindowLimiter(engine, limit, window)
    return SlidingWindowLimiter(limit, window)
