"""Import messages from JSON Lines: every line is checked, and all are stored or none.

One object a line, in the `messages import` form (CONTRACT §4). Lines are
numbered physically: a blank line is skipped but counted, so a reported
number is the one an editor shows. The caller owns the transaction: when any
line is bad, `import_messages` raises `ImportFailed` and the caller's rollback
undoes whatever was stored before the bad line was reached. Lines are read
once and never held in memory together, so a large file costs one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa

from answerdesk.accounts import Account, ScriptField, get_script
from answerdesk.errors import ValidationFailed
from answerdesk.messages import MessageInput, parse_message_input, take_message
from answerdesk.messages.taking import snapshot_fields

#: Bad lines reported in detail; the rest are only counted.
MAX_REPORTED_LINES = 20
_UTF8_BOM = "\ufeff"


@dataclass(frozen=True)
class LineProblem:
    """One bad field of one line."""

    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.problem}"


class ImportFailed(ValidationFailed):
    """Some lines are bad, so nothing of the file was stored.

    `problems` holds every bad field of the first `MAX_REPORTED_LINES` bad
    lines; `bad_lines` counts all of them.
    """

    def __init__(self, problems: list[LineProblem], bad_lines: int) -> None:
        self.problems = problems
        self.bad_lines = bad_lines
        noun = "line is" if bad_lines == 1 else "lines are"
        super().__init__(
            {f"line {p.line}: {p.field}": p.problem for p in problems},
            message=f"{bad_lines} {noun} bad; nothing was imported",
        )


def _decode(raw: str | bytes, number: int) -> object:
    """Parse one line; raise ValidationFailed naming `json` when it is not JSON."""
    if number == 1:
        # Editors on Windows like to start a UTF-8 file with a byte-order mark.
        raw = (
            raw.removeprefix(_UTF8_BOM)
            if isinstance(raw, str)
            else raw.removeprefix(b"\xef\xbb\xbf")
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValidationFailed(
            {"json": f"is not valid JSON ({error.msg} at column {error.colno})"}
        ) from None


def check_message(data: object, *, zone: ZoneInfo, script: list[ScriptField]) -> MessageInput:
    """Check one decoded object against the input form and the account's script.

    Every bad field is reported together, as `take_message_data` does, but
    with the script loaded once by the caller instead of once a line.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed({"message": "must be a JSON object"})
    errors: dict[str, str] = {}
    message: MessageInput | None = None
    try:
        message = parse_message_input(data, zone)
    except ValidationFailed as error:
        errors.update(error.errors)
    raw_fields: Any = data.get("fields")
    if message is not None:
        values = message.fields
    elif isinstance(raw_fields, Mapping):
        values = {str(k): v if isinstance(v, str) else None for k, v in raw_fields.items()}
    else:
        values = {}
    try:
        snapshot_fields(script, values)
    except ValidationFailed as error:
        for key, problem in error.errors.items():
            errors.setdefault(key, problem)
    if errors or message is None:
        raise ValidationFailed(errors)
    return message


def import_messages(
    connection: sa.Connection,
    *,
    account: Account,
    lines: Iterable[str | bytes],
    taken_by_user_id: int | None = None,
) -> int:
    """Take one message per JSON line for the account; return how many were taken.

    Storing stops at the first bad line, but checking goes on to the end so
    every bad line is reported at once; then ImportFailed is raised and the
    caller's transaction must roll back.
    """
    zone = account.zone
    script = get_script(connection, account_id=account.id)
    problems: list[LineProblem] = []
    bad_lines = 0
    stored = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            message = check_message(_decode(raw, number), zone=zone, script=script)
            if bad_lines == 0:
                take_message(
                    connection, account=account, message=message, taken_by_user_id=taken_by_user_id
                )
                stored += 1
        except ValidationFailed as error:
            bad_lines += 1
            if bad_lines <= MAX_REPORTED_LINES:
                problems.extend(
                    LineProblem(number, field, problem) for field, problem in error.errors.items()
                )
        except sa.exc.DataError as error:
            # A value the checks let through but a column refuses (PostgreSQL
            # enforces lengths, SQLite does not). The transaction is spoiled
            # now, so storing stops; checking the rest goes on without it.
            bad_lines += 1
            if bad_lines <= MAX_REPORTED_LINES:
                detail = str(error.orig).splitlines()[0] if error.orig else "refused"
                problems.append(LineProblem(number, "message", f"could not be stored: {detail}"))
    if bad_lines:
        raise ImportFailed(problems, bad_lines)
    return stored
