"""The per-request floor: a bare ASGI app on the same server software and settings.

It answers every request with a fixed 1 KB JSON body and does nothing else,
so what it costs is what uvicorn, with the options `answerdesk serve` uses
(among them its protocol class that bounds request heads) and its malloc
thresholds (answerdesk/heap.py), costs per request on this machine.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn

from answerdesk.heap import keep_heap_for_big_answers
from answerdesk.server_protocol import UVICORN_OPTIONS

_SHELL = orjson.dumps({"success": True, "info": "bare", "data": {"pad": ""}})
BODY = orjson.dumps({"success": True, "info": "bare", "data": {"pad": "x" * (1024 - len(_SHELL))}})
HEADERS = [
    (b"content-type", b"application/json; charset=utf-8"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer any HTTP request with BODY; ignore lifespan events."""
    if scope["type"] == "lifespan":
        while True:
            event = (await receive())["type"]
            await send({"type": event + ".complete"})
            if event == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    keep_heap_for_big_answers()  # as `answerdesk serve` does before serving
    options = {**UVICORN_OPTIONS, "log_level": "warning"}
    uvicorn.run(app, host=args.host, port=args.port, **options)


if __name__ == "__main__":
    main()
