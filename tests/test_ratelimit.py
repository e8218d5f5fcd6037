"""The in-process sliding-window limiter."""

from __future__ import annotations

import pytest

from answerdesk.ratelimit import RateLimited, SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_plus_one_is_refused_with_retry_after() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 60, now=clock)
    for _ in range(3):
        limiter.hit("token:1")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("token:1")
    assert refused.value.status == 429
    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.headers == {"Retry-After": str(refused.value.retry_after)}
    limiter.hit("token:2")  # other keys are unaffected


def test_window_slides_so_a_boundary_burst_is_not_doubled() -> None:
    clock = FakeClock()
    clock.now = 59.0  # end of window 0
    limiter = SlidingWindowLimiter(10, 60, now=clock)
    for _ in range(10):
        limiter.hit("k")
    clock.now = 61.0  # start of window 1: previous window still counts almost fully
    with pytest.raises(RateLimited):
        limiter.hit("k")
    clock.now = 60.0 + 59.0  # most of the previous window slid out
    for _ in range(9):
        limiter.hit("k")


def test_after_waiting_retry_after_the_request_passes() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 10, now=clock)
    limiter.hit("k")
    limiter.hit("k")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("k")
    clock.now += refused.value.retry_after
    limiter.hit("k")
