"""Retries: 429, 5xx and timeouts are asked again, after the wait the server asks for.

Sleeps are recorded by an injected function, never waited for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from answerdesk.client import (
    AsyncMessagesClient,
    AsyncTextMessagesClient,
    MessagesClient,
    RateLimited,
    RequestTimeout,
    Retry,
    ServerError,
    TextMessagesClient,
    TransportError,
)
from answerdesk.client._retry import parse_retry_after
from tests.live import run_async

OK_LIST = httpx.Response(200, json=[])
SELL_OK = httpx.Response(200, json={"items": [], "meta": {"type": "collection", "count": 0}})
# A fixed "random" draw of 1.0 makes each backoff its ceiling: easy to assert.
NO_JITTER = Retry(total=3, backoff=0.5, max_backoff=4.0, rng=lambda: 1.0)

Step = httpx.Response | type[Exception]


def scripted(steps: list[Step]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering each request with the next step (a response or an error)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = steps[len(seen) - 1]
        if isinstance(step, httpx.Response):
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        raise step("scripted", request=request)

    return httpx.MockTransport(handle), seen


def messages_client(steps: list[Step], retry: Retry = NO_JITTER):
    transport, seen = scripted(steps)
    sleeps: list[float] = []
    sdk = MessagesClient(
        "http://x", "e@x", "t", transport=transport, retries=retry, sleep=sleeps.append
    )
    return sdk, sleeps, seen


def rate_limited(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = {"success": False, "info": "Rate limit exceeded", "data": {}}
    return httpx.Response(429, json=body, headers=headers)


def test_429_waits_exactly_retry_after() -> None:
    sdk, sleeps, seen = messages_client([rate_limited("7"), OK_LIST])
    assert sdk.list() == []
    assert sleeps == [7.0]
    assert len(seen) == 2


def test_503_then_200_backs_off() -> None:
    sdk, sleeps, _ = messages_client([httpx.Response(503), httpx.Response(502), OK_LIST])
    assert sdk.list() == []
    assert sleeps == [0.5, 1.0]


def test_a_timeout_then_200() -> None:
    sdk, sleeps, seen = messages_client([httpx.ReadTimeout, OK_LIST])
    assert sdk.list() == []
    assert sleeps == [0.5]
    assert len(seen) == 2


def test_a_dropped_connection_then_200() -> None:
    sdk, sleeps, _ = messages_client([httpx.ConnectError, httpx.RemoteProtocolError, OK_LIST])
    assert sdk.list() == []
    assert sleeps == [0.5, 1.0]


def test_backoff_is_capped_and_jittered() -> None:
    draws = iter([0.0, 1.0, 0.5, 1.0, 0.0])
    policy = Retry(total=5, backoff=1.0, max_backoff=4.0, rng=lambda: next(draws))
    sdk, sleeps, _ = messages_client([httpx.Response(500)] * 5 + [OK_LIST], policy)
    sdk.list()
    # Ceilings 1, 2, 4, 4, 4; each wait lies between half the ceiling and all of it.
    assert sleeps == [0.5, 2.0, 3.0, 4.0, 2.0]


def test_giving_up_raises_with_what_the_server_said() -> None:
    sdk, sleeps, seen = messages_client([rate_limited("2")] * 4)
    with pytest.raises(RateLimited) as caught:
        sdk.list()
    assert caught.value.retry_after == 2.0
    assert caught.value.message == "Rate limit exceeded"
    assert sleeps == [2.0, 2.0, 2.0]
    assert len(seen) == 4

    sdk, _, _ = messages_client([httpx.Response(503)] * 4)
    with pytest.raises(ServerError) as server:
        sdk.list()
    assert server.value.status_code == 503

    sdk, _, _ = messages_client([httpx.ConnectTimeout] * 4)
    with pytest.raises(RequestTimeout):
        sdk.list()

    sdk, _, _ = messages_client([httpx.ConnectError] * 4)
    with pytest.raises(TransportError):
        sdk.list()


def test_a_retry_after_longer_than_the_cap_is_not_waited_for() -> None:
    sdk, sleeps, seen = messages_client([rate_limited("3600"), OK_LIST])
    with pytest.raises(RateLimited) as caught:
        sdk.list()
    assert caught.value.retry_after == 3600.0
    assert sleeps == []
    assert len(seen) == 1


def test_501_and_4xx_are_not_retried() -> None:
    for status in (501, 400, 403):
        sdk, sleeps, seen = messages_client([httpx.Response(status), OK_LIST])
        with pytest.raises(Exception):  # noqa: B017 (the class is tested elsewhere)
            sdk.list()
        assert (sleeps, len(seen)) == ([], 1)


def test_retries_zero_means_one_attempt() -> None:
    sdk, sleeps, _ = messages_client([httpx.Response(503), OK_LIST], Retry(total=0))
    with pytest.raises(ServerError):
        sdk.list()
    assert sleeps == []


def test_retry_after_forms() -> None:
    now = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_text_messages_client_retries_sell_rate_limits() -> None:
    body = {
        "errors": [{"error": {"code": "rate_limit_exceeded", "message": "Too many requests"}}],
        "meta": {"type": "errors", "http_status": "429 Too Many Requests", "logref": "abc"},
    }
    transport, _seen = scripted(
        [httpx.Response(429, json=body, headers={"Retry-After": "3"}), SELL_OK]
    )
    sleeps: list[float] = []
    sdk = TextMessagesClient("http://x", "t", transport=transport, sleep=sleeps.append)
    assert list(sdk.list().items) == []
    assert sleeps == [3.0]
    transport, _seen = scripted([httpx.Response(429, json=body, headers={"Retry-After": "3"})] * 2)
    sdk = TextMessagesClient("http://x", "t", transport=transport, retries=1, sleep=lambda _s: None)
    with pytest.raises(RateLimited) as caught:
        sdk.list()
    assert (caught.value.code, caught.value.request_id) == ("rate_limit_exceeded", "abc")


def _async_scripted(steps: list[Step]) -> httpx.MockTransport:
    sync, _seen = scripted(steps)

    async def handle(request: httpx.Request) -> httpx.Response:
        return sync.handle_request(request)

    return httpx.MockTransport(handle)


def _recording_sleep() -> tuple[list[float], Callable[[float], object]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return sleeps, sleep


def test_async_clients_retry_the_same_way() -> None:
    async def run() -> tuple[list[float], list[float]]:
        sleeps, sleep = _recording_sleep()
        transport = _async_scripted([rate_limited("5"), httpx.ReadTimeout, OK_LIST])
        async with AsyncMessagesClient(
            "http://x", "e", "t", transport=transport, retries=NO_JITTER, sleep=sleep
        ) as sdk:
            assert await sdk.list() == []
        text_sleeps, text_sleep = _recording_sleep()
        transport = _async_scripted([httpx.Response(503), SELL_OK])
        async with AsyncTextMessagesClient(
            "http://x", "t", transport=transport, retries=NO_JITTER, sleep=text_sleep
        ) as text:
            assert len(await text.list()) == 0
        return sleeps, text_sleeps

    assert run_async(run) == ([5.0, 1.0], [0.5])
