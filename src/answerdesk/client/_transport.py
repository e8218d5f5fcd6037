"""Send one request, asking again on 429, 5xx, timeouts and dropped connections.

Every request the SDK makes is a GET, so asking again is always safe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from ._exceptions import RequestTimeout, TransportError
from ._retry import Retry, RetryState

#: Seconds to wait for a connection, each read and each write.
DEFAULT_TIMEOUT = 30.0

Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]

#: Failures where the same request may well succeed a moment later.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _give_up(request: httpx.Request, error: httpx.TransportError) -> TransportError:
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeout(f"no answer from {request.url} in time ({type(error).__name__})")
    return TransportError(f"{type(error).__name__} on {request.url}: {error}")


def send(http: httpx.Client, request: httpx.Request, policy: Retry, sleep: Sleep) -> httpx.Response:
    """Send `request`, retrying as `policy` says; return the final answer, read in full."""
    state = RetryState(policy)
    while True:
        try:
            response = http.send(request)
        except _TRANSIENT as error:
            delay = state.after_error()
            if delay is None:
                raise _give_up(request, error) from error
        except httpx.TransportError as error:
            raise _give_up(request, error) from error
        else:
            delay = state.after_response(response)
            if delay is None:
                return response
            response.close()
        sleep(delay)


async def asend(
    http: httpx.AsyncClient, request: httpx.Request, policy: Retry, sleep: AsyncSleep
) -> httpx.Response:
    """Send `request` on an async client, retrying as `send` does."""
    state = RetryState(policy)
    while True:
        try:
            response = await http.send(request)
        except _TRANSIENT as error:
            delay = state.after_error()
            if delay is None:
                raise _give_up(request, error) from error
        except httpx.TransportError as error:
            raise _give_up(request, error) from error
        else:
            delay = state.after_response(response)
            if delay is None:
                return response
            await response.aclose()
        await sleep(delay)
