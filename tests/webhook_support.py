"""A webhook receiver for tests: a small Starlette app that verifies and records events.

    receiver = Receiver(script=["fail", "fail", "ok"])
    with serve(receiver.app()) as base:
        ...  # register f"{base}/hook", then run the deliverer

Each request takes the next word of `script` (the last one repeats):
`ok` verifies the signature with the SDK helper, applies the event once
(deduping by Answerdesk-Event-Id) and answers 200; `fail` answers 500;
`429` answers 429 with `Retry-After: 120`; `stall` sleeps past the
deliverer's timeout; `drop` applies the event, then drops the connection
mid-answer.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from answerdesk.client import WebhookSignatureError, verify_signature
from answerdesk.config import Settings
from answerdesk.webhooks.delivery import deliver_due


class DroppedResponse(Response):
    """Start a 200 answer, send part of it, then break the connection."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]}
        )
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ConnectionResetError("the receiver went away")


@dataclass
class Receiver:
    script: list[str] = field(default_factory=lambda: ["ok"])
    secret: str = ""
    stall_seconds: float = 3.0
    #: Every request: (event id, signature verified, body).
    requests: list[tuple[str, bool, bytes]] = field(default_factory=list)
    #: Events applied, in order, each once.
    applied: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _apply(self, event_id: str, body: bytes) -> None:
        with self.lock:
            if event_id not in {event["id"] for event in self.applied}:
                self.applied.append(orjson.loads(body))

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        event_id = request.headers.get("answerdesk-event-id", "")
        try:
            verify_signature(self.secret, request.headers.get("answerdesk-signature"), body)
            verified = True
        except WebhookSignatureError:
            verified = False
        with self.lock:
            self.requests.append((event_id, verified, body))
            step = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
        if not verified:
            return Response("bad signature", status_code=400)
        if step == "fail":
            return Response("receiver is down", status_code=500)
        if step == "429":
            return Response("slow down", status_code=429, headers={"Retry-After": "120"})
        if step == "stall":
            await asyncio.sleep(self.stall_seconds)
            return Response("too late")
        self._apply(event_id, body)
        if step == "drop":
            return DroppedResponse()
        return Response("thanks")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])


def deliver_steps(
    engine: Engine, settings: Settings, start: datetime, *, steps: int, every: timedelta
) -> list[datetime]:
    """Run the deliverer `steps` times, `every` apart from `start`; return the instants."""
    instants = [start + every * i for i in range(steps)]
    for instant in instants:
        deliver_due(engine, settings, now=instant)
    return instants
