"""What every console page needs, built once per application (never at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy.engine import Engine

from answerdesk.config import Settings
from answerdesk.mail import Mailer
from answerdesk.messages.stats import PastDays

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass
class ConsoleState:
    settings: Settings
    engine: Engine
    templates: jinja2.Environment
    mailer: Mailer
    #: Dashboard figures of past days, reused for a few minutes.
    past_days: PastDays = field(default_factory=PastDays)


def _when(value: datetime | None, zone: str | None = None) -> str:
    """Show an instant as `2024-03-15 10:32` in `zone` (UTC when none)."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone)) if zone else value
    suffix = "" if zone else " UTC"
    return local.strftime("%Y-%m-%d %H:%M") + suffix


def _local(value: datetime | None, zone: str) -> str:
    """Show an instant as the Messages API's `created_at` does: `03-15-2024 10:32 AM`."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{local:%m-%d-%Y} {hour:02d}:{local.minute:02d} {meridiem}"


def _duration(seconds: int | None) -> str:
    """Show a duration the way people say it: `4 min`, `2 h 5 min`, `3 d 2 h`."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def build_templates() -> jinja2.Environment:
    """Return the Jinja environment: autoescaped, strict about undefined names."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    environment.filters["duration"] = _duration
    environment.filters["local"] = _local
    return environment
