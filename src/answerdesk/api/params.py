"""Query parameters of the Messages API, checked strictly (CONTRACT §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from starlette.datastructures import QueryParams

from answerdesk.errors import InvalidParameter

# ASCII digits only, matched whole: `\d` would take other scripts' digits
# ("٠٣") and `$` a trailing newline, both outside the documented form.
_DATE = re.compile(r"([0-9]{2})-([0-9]{2})-([0-9]{4})")
_UINT = re.compile(r"[0-9]{1,18}")
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ListParams:
    from_date: date | None
    to_date: date | None
    after_id: int | None
    limit: int | None


def _single(params: QueryParams, name: str, expected: str) -> str | None:
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameter(name, f"one value, {expected}")
    return values[0]


def _date(params: QueryParams, name: str) -> date | None:
    raw = _single(params, name, "MM-DD-YYYY")
    if raw is None:
        return None
    match = _DATE.fullmatch(raw)
    if not match:
        raise InvalidParameter(name, "MM-DD-YYYY")
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidParameter(name, "MM-DD-YYYY, a date that exists") from None


def _uint(params: QueryParams, name: str, expected: str) -> int | None:
    raw = _single(params, name, expected)
    if raw is None:
        return None
    if not _UINT.fullmatch(raw):
        raise InvalidParameter(name, expected)
    return int(raw)


def parse_list_params(params: QueryParams) -> ListParams:
    """Validate the list query; raise InvalidParameter naming the first bad one."""
    from_date = _date(params, "from_date")
    to_date = _date(params, "to_date")
    if from_date and to_date and from_date > to_date:
        raise InvalidParameter("date range", "from_date on or before to_date")
    after_id = _uint(params, "after_id", "a non-negative integer")
    limit = _uint(params, "limit", f"an integer from 1 to {MAX_LIMIT}")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("limit", f"an integer from 1 to {MAX_LIMIT}")
    return ListParams(from_date, to_date, after_id, limit)


def parse_id(raw: str) -> int | None:
    """Return a path id as an int, or None when it cannot be one of ours."""
    return int(raw) if _UINT.fullmatch(raw) else None
