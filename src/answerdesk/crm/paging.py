"""Sell-style page numbers: what a list request asks for, and the page it gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_PAGE = 1000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25


@dataclass(frozen=True)
class PageRequest:
    """Page `number` (1-based) of `size` items."""

    number: int = 1
    size: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class Page:
    """The rows of one page, and whether a page after it has any."""

    rows: list[Any]
    has_next: bool
