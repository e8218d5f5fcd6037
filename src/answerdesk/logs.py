"""JSON log lines that carry the request id and never a secret.

Each record is one JSON object per line (python-json-logger), with the id of
the request being served when there is one. What answerdesk logs is chosen so
that no token, password or message content is ever in it: request lines log
the path without its query string, and nothing logs bodies.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

#: The id of the request this task is serving (set by the request-id middleware).
current_request_id: ContextVar[str | None] = ContextVar("answerdesk_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id (or null)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        # uvicorn adds an ANSI-coloured copy of each message; JSON needs only one.
        record.__dict__.pop("color_message", None)
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """Return a `logging.config.dictConfig` for JSON lines on stderr.

    A dict rather than calls, because uvicorn applies it again in every
    worker process it starts (they do not inherit the parent's handlers).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "fmt": "{asctime}{levelname}{name}{message}{request_id}",
                "style": "{",
                "datefmt": "%Y-%m-%dT%H:%M:%S%z",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Apply `logging_config` in this process."""
    logging.config.dictConfig(logging_config(level))
