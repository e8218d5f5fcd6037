"""The PostgreSQL-backed limiter decides and waits exactly like the in-memory one.

Both limiters run ratelimit.py's arithmetic; PostgreSQL evaluates its one
decision (`over_limit`) inside the upsert. These tests hold the SQL to the
Python: the same sequences with an injected clock give the same refusals
and the same Retry-After, boundary cases included; the rotation of windows
matches; concurrent hits from two engines (two processes) never pass more
than the limit; each hit is one statement on its own autocommit connection.
"""

from __future__ import annotations

import math
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from psycopg import pq
from sqlalchemy.engine import Engine

from answerdesk import ratelimit_shared
from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.ratelimit import (
    RateLimited,
    SlidingWindowLimiter,
    over_limit,
    overlap,
    position,
    retry_after,
    rotate,
)
from answerdesk.ratelimit_shared import (
    MAX_KEY_LENGTH,
    SharedWindowLimiter,
    build_limiter,
    stored_key,
)
from answerdesk.store.engine import create_engine_for_url, is_postgres
from answerdesk.store.tables import rate_limit_counters

EPOCH = 1_800_000_000.0  # wall-clock seconds, as the shared limiter sees them


class FakeClock:
    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def postgres(engine: Engine) -> Engine:
    if not is_postgres(engine):
        pytest.skip("the shared limiter keeps its counters in PostgreSQL")
    return engine


def _outcome(call: Callable[[str], None], key: str) -> int | None:
    """None if the call passed, else the Retry-After it was refused with."""
    try:
        call(key)
    except RateLimited as refused:
        return refused.retry_after
    return None


def _row(engine: Engine, key: str) -> tuple[int, int, int] | None:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                rate_limit_counters.c.window_index,
                rate_limit_counters.c.hits,
                rate_limit_counters.c.previous,
            ).where(rate_limit_counters.c.key == key)
        ).first()
    return None if row is None else (row[0], row[1], row[2])


def _store(engine: Engine, key: str, index: int, hits: int, previous: int) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(rate_limit_counters).where(rate_limit_counters.c.key == key))
        connection.execute(
            sa.insert(rate_limit_counters).values(
                key=key,
                window_index=index,
                hits=hits,
                previous=previous,
                refused=False,
                stale_after=2**40,
            )
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_sequence_same_refusals_and_retry_after(postgres: Engine, seed: int) -> None:
    rng = random.Random(seed)
    limit, window = rng.choice([(3, 10), (5, 7), (4, 60)])
    clock = FakeClock(EPOCH + rng.random() * window)
    memory = SlidingWindowLimiter(limit, window, now=clock)
    shared = SharedWindowLimiter(postgres, limit, window, now=clock)
    refusals = 0
    for step in range(300):
        clock.now += rng.choice([0.0, 0.0, 0.0, 0.01, rng.random() * window * 0.3, window * 1.5])
        key = rng.choice(["token:1", "token:2", "auth-failure:203.0.113.7"])
        verb = rng.choice(["hit", "hit", "hit", "check", "record"])
        expected = _outcome(getattr(memory, verb), key)
        assert _outcome(getattr(shared, verb), key) == expected, (step, verb, key, clock.now)
        refusals += expected is not None
    assert refusals > 20  # the sequence did reach the limits


def _boundary_offsets(limit: int, hits: int, previous: int, window: float) -> list[float]:
    """Offsets at which one more hit turns from refused to allowed, and just around them."""
    offsets = [0.0, window / 2, math.nextafter(window, 0.0)]
    if previous:
        flip = window * (1 - (limit - 1 - hits) / previous)
        if 0 <= flip < window:
            offsets += [flip, math.nextafter(flip, 0.0), math.nextafter(flip, window)]
    return [offset for offset in offsets if 0 <= offset < window]


def test_postgres_decides_over_limit_exactly_as_python(postgres: Engine) -> None:
    """The float8 comparison in the upsert agrees with `over_limit`, boundaries included."""
    window = 60.0
    base = math.floor(EPOCH / window)
    cases = 0
    for limit in (1, 7, 600):
        for hits in sorted({0, 1, limit // 2, limit - 1, limit}):
            for previous in sorted({0, 1, 3, limit - 1, limit, limit + 5}):
                for offset in _boundary_offsets(limit, hits, previous, window):
                    clock = FakeClock(base * window + offset)
                    limiter = SharedWindowLimiter(postgres, limit, window, now=clock)
                    current, seen = position(clock.now, window)
                    _store(postgres, "k", current, hits, previous)
                    refused = over_limit(limit, hits, previous, overlap(seen, window))
                    expected = retry_after(limit, window, hits, previous, seen) if refused else None
                    assert _outcome(limiter.hit, "k") == expected, (limit, hits, previous, seen)
                    assert _row(postgres, "k") == (current, hits + (not refused), previous)
                    cases += 1
    assert cases > 150


@pytest.mark.parametrize("age", [-1, 0, 1, 2, 7])
def test_windows_rotate_as_in_memory(postgres: Engine, age: int) -> None:
    """A row `age` windows old reads as `rotate` says (a future one, -1, as the current)."""
    window = 10.0
    clock = FakeClock()
    current, _offset = position(clock.now, window)
    for verb in ("hit", "record", "check"):
        _store(postgres, "k", current - age, 4, 2)
        limiter = SharedWindowLimiter(postgres, 100, window, now=clock)
        getattr(limiter, verb)("k")
        hits, previous = rotate(current - age, 4, 2, current)
        if verb == "check":
            assert _row(postgres, "k") == (current - age, 4, 2)  # a check writes nothing
        else:
            assert _row(postgres, "k") == (max(current, current - age), hits + 1, previous)


@pytest.fixture
def two_processes(postgres: Engine) -> Iterator[tuple[Engine, Engine]]:
    """Two engines with their own pools: what two server processes have."""
    url = postgres.url.render_as_string(hide_password=False)
    engines = (create_engine_for_url(url, pool_size=4), create_engine_for_url(url, pool_size=4))
    yield engines
    for engine in engines:
        engine.dispose()


def test_concurrent_hits_from_two_processes_never_pass_more_than_the_limit(
    two_processes: tuple[Engine, Engine],
) -> None:
    limit, threads, each = 40, 8, 20
    clock = FakeClock()
    limiters = [SharedWindowLimiter(engine, limit, 60, now=clock) for engine in two_processes]
    passed: list[int] = []
    start = threading.Barrier(threads)

    def hammer(limiter: SharedWindowLimiter) -> None:
        start.wait()
        passed.append(sum(_outcome(limiter.hit, "token:9") is None for _ in range(each)))

    workers = [threading.Thread(target=hammer, args=(limiters[n % 2],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(passed) == limit
    assert _row(two_processes[0], "token:9") == (position(clock.now, 60)[0], limit, 0)


def _frontend_round_trips(engine: Engine, call: Callable[[], None]) -> list[str]:
    """What `call` sends PostgreSQL, one entry per round trip (libpq's own trace).

    The engine must hold a single connection, so the traced one is the one used.
    """
    pooled = engine.raw_connection()
    pgconn = pooled.driver_connection.pgconn  # type: ignore[union-attr]
    pooled.close()
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    trips: list[str] = []
    statement = ""
    for line in lines:
        if line.startswith("F\t") and "\tParse\t" in line:
            statement = line
        elif line.startswith("F\t") and "\tQuery\t" in line:
            trips.append(line.split("\tQuery\t", 1)[1].strip())
        elif line.startswith("F\t") and line.endswith("\tSync"):
            trips.append(statement.split("\tParse\t", 1)[1].strip())
        elif statement and not line.startswith(("F\t", "B\t")):
            statement += "\n" + line  # a multi-line statement's text
    return trips


def test_a_hit_is_one_round_trip_in_autocommit(postgres: Engine) -> None:
    """Besides the pool's own liveness ping (";"), one statement: no BEGIN, no COMMIT."""
    url = postgres.url.render_as_string(hide_password=False)
    engine = create_engine_for_url(url, pool_size=1)
    try:
        limiter = SharedWindowLimiter(engine, 5, 60, now=FakeClock())
        limiter.hit("token:4")  # the connection exists, and its first-use queries are done
        for verb in ("hit", "check", "record"):
            trips = _frontend_round_trips(engine, partial(getattr(limiter, verb), "token:4"))
            ours = [trip for trip in trips if trip != '";"']
            assert len(ours) == 1, (verb, trips)
            assert "rate_limit_counters" in ours[0], (verb, trips)
    finally:
        engine.dispose()


def test_a_hit_stands_when_the_callers_transaction_rolls_back(postgres: Engine) -> None:
    limiter = SharedWindowLimiter(postgres, 5, 60, now=FakeClock())
    with postgres.connect() as caller, caller.begin() as transaction:
        caller.execute(sa.text("SELECT 1"))
        limiter.hit("token:3")
        transaction.rollback()
    assert _row(postgres, "token:3") is not None
    assert _row(postgres, "token:3")[1:] == (1, 0)  # type: ignore[index]


def test_stale_rows_are_pruned_about_once_a_window(postgres: Engine) -> None:
    clock = FakeClock()
    limiter = SharedWindowLimiter(postgres, 5, 60, now=clock)
    limiter.hit("token:old")
    clock.now += 90  # one window on: still the previous window, still counted
    limiter.hit("token:new")
    assert _row(postgres, "token:old") is not None
    clock.now += 60  # two windows after token:old's: it counts nothing now
    limiter.record("token:new")
    assert _row(postgres, "token:old") is None
    assert _row(postgres, "token:new") is not None


def test_long_keys_are_stored_as_their_digest(postgres: Engine) -> None:
    key = "auth-failure:" + "x" * 500
    limiter = SharedWindowLimiter(postgres, 1, 60, now=FakeClock())
    limiter.hit(key)
    with pytest.raises(RateLimited):
        limiter.hit(key)
    assert len(stored_key(key)) <= MAX_KEY_LENGTH
    assert _row(postgres, stored_key(key)) is not None


def test_counter_table_is_unlogged_on_postgres(postgres: Engine) -> None:
    with postgres.connect() as connection:
        persistence = connection.execute(
            sa.text("SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_counters'")
        ).scalar_one()
    assert persistence == "u"


def test_apps_build_shared_limiters_on_postgres_and_in_memory_ones_on_sqlite(
    settings: Settings, engine: Engine
) -> None:
    app = create_app(settings, engine=engine)
    for limiter in (app.state.api_limiter, app.state.auth_failure_limiter):
        assert limiter.shared is is_postgres(engine)
        expected = SharedWindowLimiter if is_postgres(engine) else SlidingWindowLimiter
        assert isinstance(limiter, expected)
    assert app.state.api_limiter.limit == settings.api_rate_limit
    assert app.state.auth_failure_limiter.window == settings.auth_failure_window_seconds
    assert build_limiter(engine, 0, 60) is None


def test_the_shared_limiter_refuses_sqlite(tmp_path: Path) -> None:
    engine = create_engine_for_url(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValueError, match="PostgreSQL"):
        SharedWindowLimiter(engine, 5, 60)
    engine.dispose()


def test_a_key_found_under_its_limit_is_remembered_as_clear_for_a_moment(
    postgres: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`recently_clear`: what a kept answer goes by instead of a read (docs/api.md)."""
    limiter = SharedWindowLimiter(postgres, 2, 60)
    key = "auth-failure:198.51.100.4"
    assert not limiter.recently_clear(key)  # never read
    limiter.check(key)
    assert limiter.recently_clear(key)
    limiter.record(key)  # this process's own event: read again
    assert not limiter.recently_clear(key)
    limiter.check(key)
    assert limiter.recently_clear(key)
    later = time.monotonic() + ratelimit_shared.CLEAR_SECONDS + 0.1
    monkeypatch.setattr(ratelimit_shared.time, "monotonic", lambda: later)
    assert not limiter.recently_clear(key)  # another process's events may have come meanwhile
    monkeypatch.undo()
    limiter.record(key)
    with pytest.raises(RateLimited):
        limiter.check(key)  # at its limit
    assert not limiter.recently_clear(key)
    assert not limiter.recently_clear("auth-failure:" + "9" * 500)  # long keys: by their digest
    limiter.check("auth-failure:" + "9" * 500)
    assert limiter.recently_clear("auth-failure:" + "9" * 500)


def test_one_caller_is_asked_to_renew_a_clear_key_before_it_lapses(
    postgres: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`renewal_due`: one read renews a busy address's memo; the others never wait for it."""
    limiter = SharedWindowLimiter(postgres, 2, 60)
    key = "auth-failure:198.51.100.5"
    assert not limiter.renewal_due(key)  # nothing to renew
    limiter.check(key)
    assert not limiter.renewal_due(key)  # a fresh memo
    almost = time.monotonic() + ratelimit_shared.CLEAR_SECONDS - ratelimit_shared.RENEW_SECONDS / 2
    monkeypatch.setattr(ratelimit_shared.time, "monotonic", lambda: almost)
    assert limiter.recently_clear(key)
    assert limiter.renewal_due(key)  # the first caller in the last moments reads again
    assert not limiter.renewal_due(key)  # and only that one
    assert limiter.recently_clear(key)  # the rest go on meanwhile
    monkeypatch.undo()
    limiter.check(key)  # the renewing read
    assert limiter.recently_clear(key)
    assert not limiter.renewal_due(key)
    later = time.monotonic() + ratelimit_shared.CLEAR_SECONDS - ratelimit_shared.RENEW_SECONDS / 2
    monkeypatch.setattr(ratelimit_shared.time, "monotonic", lambda: later)
    assert limiter.renewal_due(key)  # the renewed memo is renewed again in its turn


def test_a_read_begun_before_this_processs_own_event_is_not_remembered_as_clear(
    postgres: Engine,
) -> None:
    limiter = SharedWindowLimiter(postgres, 5, 60)
    key = "auth-failure:198.51.100.6"
    epoch = limiter.epoch
    sql, params, now = limiter.check_statement(key)
    with postgres.connect() as connection:
        row = connection.exec_driver_sql(sql, params).fetchone()
    limiter.record(key)  # lands while the read was on its way back
    limiter.judge_check(row, now, key, epoch=epoch)
    assert not limiter.recently_clear(key)  # the counters read predate the event
    limiter.check(key)
    assert limiter.recently_clear(key)
