"""A stand-in for a vendor's Messages API: only what seeds 000/001 document.

The full list and the `from_date`/`to_date` range, and single messages, with
`X-API-EMAIL`/`X-API-TOKEN`. No `after_id`, no `limit`, no `Link`: unknown
query parameters are ignored, as a vendor's server would (or, with
`strict=True`, refused with a 400). Messages live in memory; a test adds
them with `vendor.add(...)` between calls and reads `vendor.requests`.

Use it through `vendor.transport()` (an `httpx.MockTransport`) or serve
`vendor.asgi` over real HTTP with `tests.live.serve`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

ZONE = timezone(timedelta(hours=-5))
EMAIL = "carla@acme.example"
TOKEN = "vendor-token-" + "x" * 51
_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
INVALID = {"success": False, "info": "Invalid token", "data": {}}


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _display(local: datetime) -> str:
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{local:%m-%d-%Y} {hour:02d}:{local.minute:02d} {meridiem}"


def vendor_message(
    message_id: int,
    created: datetime,
    content: str = "Please call back",
    *,
    fields: list[tuple[str, str, str]] | None = None,
    status: str = "new",
    delivered_at: datetime | None = None,
    delivered_to: str | None = None,
    **standard: Any,
) -> dict[str, Any]:
    """Build a message object exactly as the seeds list its keys (fields: name, label, value)."""
    local = created.astimezone(ZONE)
    fields = fields or []
    first, last = standard.get("first_name"), standard.get("last_name")
    obj: dict[str, Any] = {
        "account_number": "A-77",
        "resource": standard.get("resource"),
        "message_id": message_id,
        "content": content,
        "from": f"{first or ''} {last or ''}".strip() or None,
        "first_name": first,
        "last_name": last,
        "created_at": _display(local),
        "utc_created_at": _utc(created),
        "raw_created_at": local.isoformat(timespec="microseconds"),
        "status": status,
        "phone": standard.get("phone"),
        "caller_id": standard.get("caller_id"),
        "company_name": standard.get("company_name"),
        "is_emergency": standard.get("is_emergency", False),
        "delivered_at": _utc(delivered_at) if delivered_at else None,
        "delivered_to": delivered_to,
        "content_with_additional_details": content
        + "".join(f"\n{label}: {value}" for _n, label, value in fields),
        "content_with_additional_details_table": {name: value for name, _l, value in fields},
    }
    for name, _label, value in fields:
        obj[f"content_with_additional_details_table__{name}"] = value
    return obj


def _day(raw: str | None) -> date | bool | None:
    if raw is None:
        return None
    match = _DATE.match(raw)
    if not match:
        return False
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return False


@dataclass
class Vendor:
    """The stand-in server's state: its messages and every request it saw."""

    strict: bool = False
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, created: datetime, content: str = "Please call back", **data: Any) -> int:
        """Store a message created at `created` (aware) and return its id."""
        with self._lock:
            message_id = self._next_id
            self._next_id += 1
            self.messages[message_id] = vendor_message(message_id, created, content, **data)
        return message_id

    def update(self, message_id: int, **values: Any) -> None:
        self.messages[message_id].update(values)

    def answer(
        self, path: str, query: list[tuple[str, str]], headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """Answer one GET as the documents describe."""
        with self._lock:
            self.requests.append(
                path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
            )
        if headers.get("x-api-email") != EMAIL or headers.get("x-api-token") != TOKEN:
            return 404, json.dumps(INVALID).encode()
        params = dict(query)
        if self.strict and params.keys() - {"from_date", "to_date"}:
            return 400, json.dumps({"success": False, "info": "Bad request", "data": {}}).encode()
        match = re.fullmatch(r"/v[12]/messages(?:/(\d+))?", path)
        if not match:
            return 404, json.dumps({"success": False, "info": "Not found", "data": {}}).encode()
        if match[1]:
            message = self.messages.get(int(match[1]))
            if message is None:
                return 404, b'{"success": false, "info": "Message not found", "data": {}}'
            return 200, json.dumps(message).encode()
        start, end = _day(params.get("from_date")), _day(params.get("to_date"))
        if start is False or end is False:
            return 400, b'{"success": false, "info": "Invalid date", "data": {}}'
        chosen = []
        for message in sorted(
            self.messages.values(), key=lambda m: (m["utc_created_at"], m["message_id"])
        ):
            day = datetime.fromisoformat(message["raw_created_at"]).date()
            if (start is None or day >= start) and (end is None or day <= end):
                chosen.append(message)
        return 200, json.dumps(chosen).encode()

    def _handle(self, request: httpx.Request) -> httpx.Response:
        status, body = self.answer(
            request.url.path,
            list(request.url.params.multi_items()),
            {key.lower(): value for key, value in request.headers.items()},
        )
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def async_transport(self) -> httpx.MockTransport:
        async def handle(request: httpx.Request) -> httpx.Response:
            return self._handle(request)

        return httpx.MockTransport(handle)

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The same server as an ASGI app, to serve over real HTTP."""
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
        status, body = self.answer(urlsplit(scope["path"]).path, query, headers)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
