"""Local wall-clock times in an account's zone, with DST gaps and folds handled."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


class NonexistentLocalTime(ValueError):
    """The wall-clock time falls in a spring-forward gap."""


def localise(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach `zone` to a naive wall-clock time.

    A time that occurs twice (fall-back) means the first occurrence (fold=0);
    a time that never occurs (spring-forward) is an error, not a guess.
    """
    aware = naive.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(f"{naive.isoformat()} does not exist in {zone.key}")
    return aware


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """Parse ISO 8601; without an offset the time is local to `zone`."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = localise(value, zone)
    return value.astimezone(UTC)
