"""Give every request an id, echoed as `X-Request-Id` on every response."""

from __future__ import annotations

import itertools
import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
#: An id from a trusted load balancer is kept if it is short and plain.
_ACCEPTABLE = re.compile(rb"^[A-Za-z0-9._-]{8,128}$")


#: New ids are this process's random half and a counter: 32 hex digits, as
#: unique as a random UUID across processes, without a system call apiece.
_PROCESS_HALF = ""
_COUNTER = itertools.count()


def _new_process_half() -> None:
    """Draw this process's half (again in a forked child, which must not share it)."""
    global _PROCESS_HALF, _COUNTER
    _PROCESS_HALF = os.urandom(8).hex()
    _COUNTER = itertools.count(int.from_bytes(os.urandom(4)))


_new_process_half()
os.register_at_fork(after_in_child=_new_process_half)


def new_request_id() -> str:
    """A fresh id, 32 hex digits, unique across requests and processes."""
    return f"{_PROCESS_HALF}{next(_COUNTER) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def acceptable_request_id(incoming: bytes | None) -> str:
    """`incoming` (an `X-Request-Id` value) if it is short and plain, else a new id."""
    if incoming is not None and _ACCEPTABLE.match(incoming):
        return incoming.decode("ascii")
    return new_request_id()


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's id: the first `X-Request-Id` it came with if acceptable, else a new one."""
    return acceptable_request_id(next((value for name, value in headers if name == HEADER), None))


class RequestIdMiddleware:
    """Pure ASGI (no per-request task or body copying), so it costs next to nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(scope["headers"])
        scope.setdefault("state", {})["request_id"] = rid
        encoded = rid.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
