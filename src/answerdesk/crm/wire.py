"""The Sell objects: text messages, leads and contacts, every key in contract order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_utc(value: datetime | None) -> str | None:
    """Render an instant as Sell does: `2016-10-02T11:08:56Z`.

    Built by hand: `strftime("%Y")` leaves years before 1000 unpadded on glibc,
    and an imported message may be dated that early.
    """
    if value is None:
        return None
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def lead_data(row: Any) -> dict[str, Any]:
    """Render a lead row."""
    return {
        "id": row.id,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "organization_name": row.organization_name,
        "phone": row.phone,
        "mobile": row.mobile,
        "email": row.email,
        "status": row.status,
        "source": row.source,
        "description": row.description,
        "created_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at),
    }


def contact_name(row: Any) -> str | None:
    """`first last`, or the organization's name for an organization."""
    if row.is_organization:
        return str(row.organization_name) if row.organization_name else None
    return f"{row.first_name or ''} {row.last_name or ''}".strip() or None


def contact_data(row: Any) -> dict[str, Any]:
    """Render a contact row."""
    return {
        "id": row.id,
        "name": contact_name(row),
        "first_name": row.first_name,
        "last_name": row.last_name,
        "is_organization": bool(row.is_organization),
        "organization_name": row.organization_name,
        "phone": row.phone,
        "mobile": row.mobile,
        "email": row.email,
        "created_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at),
    }
