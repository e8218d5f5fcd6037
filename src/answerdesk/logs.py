"""JSON log lines that carry the request id and never a secret.

Each record is one JSON object per line (python-json-logger), with the id of
the request being served when there is one. What answerdesk logs is chosen so
that no token, password or message content is ever in it: request lines log
the path without its query string, and nothing logs bodies.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

#: The id of the request this task is serving (set by the request-id middleware).
current_request_id: ContextVar[str | None] = ContextVar("answerdesk_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id (or null)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Send answerdesk's and uvicorn's logs to stderr, one JSON object per line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if json:
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
