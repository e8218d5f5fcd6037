"""The input form of a message, shared by `messages import`, the agent API and the console.

Parsing checks types and formats only; rules that need the account (its
script, its users) are applied when the message is taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from answerdesk.errors import ValidationFailed
from answerdesk.messages.lifecycle import STATUSES
from answerdesk.messages.localtime import NonexistentLocalTime, parse_instant
from answerdesk.phones import clean_text

PHONE_KEYS = frozenset({"phone", "caller_id"})
TEXT_KEYS = ("first_name", "last_name", "company_name", "phone", "caller_id", "for")
KNOWN_KEYS = frozenset(
    (
        *TEXT_KEYS,
        "content",
        "is_emergency",
        "fields",
        "created_at",
        "status",
        "delivered_at",
        "delivered_to",
    )
)
MAX_TEXT_LENGTH = 200
#: Phone columns are narrower: E.164 is at most 16 characters, and a number
#: kept as entered ("555-0123 ext. 4") still fits comfortably.
MAX_PHONE_LENGTH = 40
#: PostgreSQL text cannot hold NUL, and no person types one: refuse it everywhere.
NUL_PROBLEM = "must not contain NUL characters"
MAX_CONTENT_LENGTH = 20_000


@dataclass(frozen=True)
class MessageInput:
    """A message as an agent or an import gives it, before the account's rules."""

    content: str
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    phone: str | None = None
    caller_id: str | None = None
    for_: str | None = None
    is_emergency: bool = False
    fields: dict[str, str | None] = field(default_factory=dict)
    created_at: datetime | None = None
    status: str | None = None
    delivered_at: datetime | None = None
    delivered_to: str | None = None


def _text(data: Mapping[str, Any], key: str, errors: dict[str, str], limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[key] = "must be a string"
        return None
    value = clean_text(value)
    if value is not None and len(value) > limit:
        errors[key] = f"must be at most {limit} characters"
    if value is not None and "\x00" in value:
        errors[key] = NUL_PROBLEM
    return value


def _instant(
    data: Mapping[str, Any], key: str, zone: ZoneInfo, errors: dict[str, str]
) -> datetime | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        errors[key] = "must be an ISO 8601 date-time string"
        return None
    try:
        return parse_instant(value, zone)
    except NonexistentLocalTime as error:
        errors[key] = f"{error} (a daylight-saving gap)"
    except (ValueError, OverflowError):
        # OverflowError: an offset pushes the instant outside years 1..9999.
        errors[key] = "must be an ISO 8601 date-time, e.g. 2024-03-15T10:32:05"
    return None


def _fields(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, str | None]:
    raw = data.get("fields")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors["fields"] = "must be an object of {label: value}"
        return {}
    values: dict[str, str | None] = {}
    for label, value in raw.items():
        if "\x00" in str(label) or (isinstance(value, str) and "\x00" in value):
            errors[f"fields.{label}"] = NUL_PROBLEM
        elif value is None or isinstance(value, str):
            values[str(label)] = value
        elif isinstance(value, bool):
            values[str(label)] = "Yes" if value else "No"
        elif isinstance(value, int | float):
            values[str(label)] = str(value)
        else:
            errors[f"fields.{label}"] = "must be a string"
    return values


def parse_message_input(data: Mapping[str, Any], zone: ZoneInfo) -> MessageInput:
    """Check one input object; raise ValidationFailed naming every bad field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed({"message": "must be a JSON object"})
    errors: dict[str, str] = {}
    for key in data:
        if key not in KNOWN_KEYS:
            errors[str(key)] = "unknown field"
    texts = {
        key: _text(data, key, errors, MAX_PHONE_LENGTH if key in PHONE_KEYS else MAX_TEXT_LENGTH)
        for key in TEXT_KEYS
    }
    content = _text(data, "content", errors, MAX_CONTENT_LENGTH)
    if content is None and "content" not in errors:
        errors["content"] = "is required"
    emergency = data.get("is_emergency", False)
    if emergency is None:
        emergency = False
    if not isinstance(emergency, bool):
        errors["is_emergency"] = "must be true or false"
    status = data.get("status")
    if status is not None and status not in STATUSES:
        errors["status"] = f"must be one of {', '.join(STATUSES)}"
    created_at = _instant(data, "created_at", zone, errors)
    delivered_at = _instant(data, "delivered_at", zone, errors)
    delivered_to = _text(data, "delivered_to", errors, 320)
    if status is None and (delivered_at or delivered_to):
        status = "delivered"
    if status == "new" and (delivered_at or delivered_to):
        errors["status"] = "a message with delivered_at or delivered_to is not new"
    fields = _fields(data, errors)
    if errors:
        raise ValidationFailed(errors)
    assert content is not None
    return MessageInput(
        content=content,
        first_name=texts["first_name"],
        last_name=texts["last_name"],
        company_name=texts["company_name"],
        phone=texts["phone"],
        caller_id=texts["caller_id"],
        for_=texts["for"],
        is_emergency=bool(emergency),
        fields=fields,
        created_at=created_at,
        status=status,
        delivered_at=delivered_at,
        delivered_to=delivered_to,
    )
