"""Lay out the messages-per-day bar chart; the template draws it as inline SVG.

Server-side geometry means no chart library, no JavaScript, and a chart
that prints, passes a strict Content-Security-Policy and reads the same in
every browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from answerdesk.messages.stats import DayCount

WIDTH = 900
HEIGHT = 260
LEFT = 44
RIGHT = 12
TOP = 14
BOTTOM = 30
GAP = 0.25


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    y: float
    height: float
    urgent_y: float
    urgent_height: float
    label: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float
    right: int
    bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[tuple[float, str]]


def _nice_step(peak: int) -> int:
    """Return a round gridline step giving 3 to 5 lines up to `peak`."""
    raw = max(1, peak) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return int(max(1, factor * magnitude))
    return int(10 * magnitude)


def _label(count: DayCount) -> str:
    return count.day.strftime("%b %d").replace(" 0", " ")


def layout(days: list[DayCount]) -> Chart:
    """Place one bar per day, emergencies as the bar's red lower part."""
    step = _nice_step(max((day.total for day in days), default=0))
    peak = max(step, math.ceil(max((d.total for d in days), default=0) / step) * step)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    base = TOP + plot_height
    slot = plot_width / max(1, len(days))
    bars = []
    for index, day in enumerate(days):
        height = plot_height * day.total / peak
        urgent = plot_height * day.emergencies / peak
        noun = "message" if day.total == 1 else "messages"
        emergencies = f", {day.emergencies} emergenc{'y' if day.emergencies == 1 else 'ies'}"
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * GAP / 2, 2),
                width=round(slot * (1 - GAP), 2),
                y=round(base - height, 2),
                height=round(height, 2),
                urgent_y=round(base - urgent, 2),
                urgent_height=round(urgent, 2),
                label=_label(day),
                title=f"{_label(day)}: {day.total} {noun}"
                + (emergencies if day.emergencies else ""),
            )
        )
    ticks = [
        Tick(y=round(base - plot_height * value / peak, 2), value=value)
        for value in range(0, peak + 1, step)
    ]
    x_labels = [
        (round(bar.x + bar.width / 2, 2), bar.label)
        for index, bar in enumerate(bars)
        if index % 5 == 0 or index == len(bars) - 1
    ]
    return Chart(WIDTH, HEIGHT, LEFT, base, WIDTH - RIGHT, bars, ticks, x_labels)
