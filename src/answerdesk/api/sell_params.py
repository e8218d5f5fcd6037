"""Query parameters of the Sell-compatible API, checked strictly (CONTRACT §2, §3).

Every malformed value is `invalid_param` naming the parameter and its form;
parameters the API does not know are ignored, as Sell ignores them.
"""

from __future__ import annotations

import re

from starlette.datastructures import QueryParams

from answerdesk.crm.paging import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, PageRequest
from answerdesk.crm.records import RecordRef
from answerdesk.errors import InvalidParameter

#: ASCII digits only: `\d` would also take other scripts' digits ('٣' is 3 to int()).
_UINT = re.compile(r"[0-9]{1,18}")
#: Ids one request may name (the rest of Sell's limits keep requests small too).
MAX_IDS = 1000
RESOURCE_TYPES = ("lead", "contact")


def single(params: QueryParams, name: str, expected: str) -> str | None:
    """Return the one value of `name`, None when absent; repeated or empty is invalid."""
    values = params.getlist(name)
    if not values:
        return None
    # NUL never belongs in a parameter, and PostgreSQL refuses it in a string.
    if len(values) > 1 or not values[0].strip() or "\x00" in values[0]:
        raise InvalidParameter(name, expected)
    return values[0].strip()


def _bounded(params: QueryParams, name: str, low: int, high: int, default: int) -> int:
    expected = f"an integer from {low} to {high}"
    raw = single(params, name, expected)
    if raw is None:
        return default
    if not _UINT.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidParameter(name, expected)
    return int(raw)


def path_id(raw: str) -> int | None:
    """Return a path id as an int, or None when it cannot be one of ours (a 404)."""
    return int(raw) if _UINT.fullmatch(raw) else None


def page_request(params: QueryParams) -> PageRequest:
    """Read `page` (1..1000, default 1) and `per_page` (1..100, default 25)."""
    return PageRequest(
        number=_bounded(params, "page", 1, MAX_PAGE, 1),
        size=_bounded(params, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE),
    )


def ids(params: QueryParams) -> list[int] | None:
    """Read `ids`: comma-separated integers; repeated `ids` means the union."""
    values = params.getlist("ids")
    if not values:
        return None
    expected = f"comma-separated integer ids, at most {MAX_IDS}"
    found: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not _UINT.fullmatch(part):
                raise InvalidParameter("ids", expected)
            found.append(int(part))
    if len(found) > MAX_IDS:
        raise InvalidParameter("ids", expected)
    return found


def sort_by(params: QueryParams, fields: tuple[str, ...], *, descending: bool) -> tuple[str, bool]:
    """Read `sort_by` as `field`, `field:asc` or `field:desc`; return (field, descending).

    `descending` is the order of a bare field and of no `sort_by` at all.
    """
    forms = ", ".join(f"{field}[:asc|:desc]" for field in fields)
    raw = single(params, "sort_by", f"one of {forms}")
    if raw is None:
        return fields[0], descending
    field, _, direction = raw.partition(":")
    if field not in fields or direction not in ("", "asc", "desc"):
        raise InvalidParameter("sort_by", f"one of {forms}")
    if direction:
        descending = direction == "desc"
    return field, descending


def resource(params: QueryParams) -> RecordRef | None:
    """Read the `resource_type` + `resource_id` pair: both or neither."""
    kind = single(params, "resource_type", "lead or contact, with resource_id")
    raw_id = single(params, "resource_id", "an integer id, with resource_type")
    if kind is None and raw_id is None:
        return None
    if kind not in RESOURCE_TYPES:
        raise InvalidParameter("resource_type", "lead or contact, with resource_id")
    if raw_id is None or not _UINT.fullmatch(raw_id):
        raise InvalidParameter("resource_id", "an integer id, with resource_type")
    return RecordRef("lead" if kind == "lead" else "contact", int(raw_id))
