"""The bench's table: each figure, what it is compared with, the ratio and the target."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Row:
    """One line of the table. `ratio` is value/reference when both exist."""

    figure: str
    value: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  {row.figure}: {row.value}" + (f"  ({row.ratio:.2f}x)" if row.ratio else ""))

    def lines(self) -> list[str]:
        headers = ("figure", "value", "compared with", "ratio", "target", "")
        grid = [headers] + [
            (
                row.figure,
                row.value,
                row.reference,
                f"{row.ratio:.2f}x" if row.ratio is not None else "",
                row.target,
                {True: "met", False: "MISSED", None: ""}[row.met],
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in grid) for i in range(len(headers))]
        out = []
        for n, line in enumerate(grid):
            out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"rows": [asdict(row) for row in self.rows], "raw": self.raw}


def median_of(runs: Sequence[T], key: Callable[[T], float]) -> float:
    return statistics.median(key(run) for run in runs)


def rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}"


def ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"
