"""Give every request an id, echoed as `X-Request-Id` on every response."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
#: An id from a trusted load balancer is kept if it is short and plain.
_ACCEPTABLE = re.compile(rb"^[A-Za-z0-9._-]{8,128}$")


class RequestIdMiddleware:
    """Pure ASGI (no per-request task or body copying), so it costs next to nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value for name, value in scope["headers"] if name == HEADER), None)
        if incoming is not None and _ACCEPTABLE.match(incoming):
            rid = incoming.decode("ascii")
        else:
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        encoded = rid.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
