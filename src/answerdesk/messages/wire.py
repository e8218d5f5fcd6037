"""The message object of the Messages API (v1/v2), every key in contract order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import orjson

FLAT_PREFIX = "content_with_additional_details_table__"


def _utc(value: datetime) -> str:
    # isoformat, not strftime: a third of the time (the old list path spent a
    # fifth of its time here), and a four-digit year even before 1000.
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def local_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return the instant in the account's zone, its offset in whole minutes.

    Before standard time (local mean time, e.g. New York before 1883) zones
    have offsets with seconds, which ISO 8601 cannot write; the local time is
    then shown at the offset rounded to the minute, still the same instant.
    """
    local = instant.astimezone(zone)
    offset = local.utcoffset()
    if offset is None or offset.seconds % 60 == 0:
        return local
    minutes = round(offset.total_seconds() / 60)
    return instant.astimezone(timezone(timedelta(minutes=minutes)))


def _local_display(local: datetime) -> str:
    # Built by hand rather than with %p, which follows the C locale.
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    day = f"{local.month:02d}-{local.day:02d}-{local.year:04d}"
    return f"{day} {hour:02d}:{local.minute:02d} {meridiem}"


def caller_display(
    first_name: str | None, last_name: str | None, company: str | None, phone: str | None
) -> str | None:
    """The `from` value: the name, else the company, else the phone, else null."""
    name = f"{first_name or ''} {last_name or ''}".strip()
    return name or company or phone or None


def render_message(row: Any, *, account_number: str, zone: ZoneInfo) -> dict[str, Any]:
    """Render one stored message as the API's object (a dict in key order).

    `row` has the columns of the messages table; `fields` is its JSON text.
    """
    created: datetime = row.created_at
    local = local_time(created, zone)
    fields: list[list[str]] = orjson.loads(row.fields)
    details = row.content
    if fields:
        details += "".join(f"\n{label}: {value}" for _name, label, value in fields)
    rendered: dict[str, Any] = {
        "account_number": account_number,
        "resource": row.resource,
        "message_id": row.id,
        "content": row.content,
        "from": caller_display(row.first_name, row.last_name, row.company_name, row.phone),
        "first_name": row.first_name,
        "last_name": row.last_name,
        "created_at": _local_display(local),
        "utc_created_at": _utc(created),
        "raw_created_at": local.isoformat(timespec="microseconds"),
        "status": row.status,
        "phone": row.phone,
        "caller_id": row.caller_id,
        "company_name": row.company_name,
        "is_emergency": bool(row.is_emergency),
        "delivered_at": _utc(row.delivered_at) if row.delivered_at else None,
        "delivered_to": row.delivered_to,
        "content_with_additional_details": details,
        "content_with_additional_details_table": {name: value for name, _l, value in fields},
    }
    for name, _label, value in fields:
        rendered[FLAT_PREFIX + name] = value
    return rendered


def message_json(row: Any, *, account_number: str, zone: ZoneInfo) -> bytes:
    """Render one message straight to JSON bytes."""
    return orjson.dumps(render_message(row, account_number=account_number, zone=zone))


def stored_wire(row: Any, *, zone: ZoneInfo) -> tuple[str, str]:
    """Return the message's JSON without its first key, and the zone it was rendered in.

    Stored with the message (`messages.wire`, `messages.wire_zone`) so a list
    is served by joining stored text instead of rendering every row. It
    leaves out `account_number` (an account's, not a message's, value: see
    `object_prefix`) and starts right after it: `"resource":...}`. Its local
    times are only right while the account's zone is still `wire_zone`;
    readers fall back to rendering the row when it is not.
    """
    rendered = render_message(row, account_number="", zone=zone)
    del rendered["account_number"]
    return orjson.dumps(rendered)[1:].decode(), zone.key


def object_prefix(account_number: str) -> str:
    """What goes before a stored wire text to make the whole message object."""
    return '{"account_number":' + orjson.dumps(account_number).decode() + ","
