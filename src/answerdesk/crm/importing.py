"""Import an account's existing customers: contacts, leads or deals from CSV or JSON Lines.

So a client's known callers are matched from the first message, and their
text messages carry their open deals. Every line is checked; when any is
bad, up to 20 bad lines are reported with their physical line numbers and
`ImportFailed` is raised, so the caller's rollback leaves nothing imported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from answerdesk.accounts import Account
from answerdesk.crm import records
from answerdesk.crm.deals import STAGES, create_deal
from answerdesk.crm.locks import lock_account_crm
from answerdesk.crm.matching import find_record
from answerdesk.crm.normalise import clean_text, normalise_phone, valid_email
from answerdesk.errors import ValidationFailed
from answerdesk.importing import MAX_REPORTED_LINES, ImportFailed, LineProblem

Kind = Literal["contact", "lead", "deal"]
KINDS: tuple[Kind, ...] = ("contact", "lead", "deal")
PERSON_KEYS = ("first_name", "last_name", "organization_name", "phone", "mobile", "email")
KEYS: dict[Kind, tuple[str, ...]] = {
    "lead": PERSON_KEYS,
    "contact": (*PERSON_KEYS, "is_organization"),
    "deal": ("name", "value", "stage", "phone", "email"),
}
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


#: What reading yields per record: the object, or (field, problem) when it is unreadable.
Line = dict[str, Any] | tuple[str, str]


def _csv_lines(path: Path, keys: tuple[str, ...]) -> Iterator[tuple[int, Line]]:
    """Yield (line, row) per record; an unknown column is reported once, on the header."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header: list[str] | None = None
        last = 0
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                for column in header:
                    if column not in keys:
                        yield start, (column, "unknown key")
                continue
            if len(row) > len(header):
                yield start, ("line", f"has {len(row)} values; the header has {len(header)}")
                continue
            yield start, {k: cell for k, cell in zip(header, row, strict=False) if k in keys}


def _jsonl_lines(path: Path) -> Iterator[tuple[int, Line]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                yield number, ("json", f"is not valid JSON ({error.msg})")
                continue
            yield number, data if isinstance(data, dict) else ("json", "must be a JSON object")


def read_lines(path: Path, keys: tuple[str, ...]) -> Iterator[tuple[int, Line]]:
    """Yield (physical line number, object or problem) for a `.csv` or `.jsonl` file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_lines(path, keys)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_lines(path)
    raise ValidationFailed({"file": "must be .csv (with a header row) or .jsonl"})


def _text(data: dict[str, Any], key: str, errors: dict[str, str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors[key] = "must be a string"
        return None
    if "\x00" in value:
        errors[key] = "must not contain NUL characters"
        return None
    value = clean_text(value)
    if value is not None and len(value) > 200 and key != "email":
        errors[key] = "must be at most 200 characters"
    return value


def _flag(data: dict[str, Any], key: str, errors: dict[str, str]) -> bool:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    errors[key] = "must be true or false"
    return False


def _person(data: dict[str, Any], region: str, errors: dict[str, str]) -> records.Person:
    texts = {key: _text(data, key, errors) for key in PERSON_KEYS}
    email = texts["email"]
    if email is not None and (email := valid_email(email)) is None:
        errors["email"] = "is not a valid e-mail address"
    if not any(texts.values()):
        errors["record"] = "needs a name, an organization name, a phone, a mobile or an e-mail"
    return records.Person(
        first_name=texts["first_name"],
        last_name=texts["last_name"],
        organization_name=texts["organization_name"],
        phone=normalise_phone(texts["phone"], region),
        mobile=normalise_phone(texts["mobile"], region),
        email=email,
    )


def _deal(
    connection: sa.Connection, account: Account, data: dict[str, Any], errors: dict[str, str]
) -> None:
    name = _text(data, "name", errors)
    if name is None and "name" not in errors:
        errors["name"] = "is required"
    stage = (_text(data, "stage", errors) or "open").lower()
    if stage not in STAGES:
        errors["stage"] = f"must be one of {', '.join(STAGES)}"
    value: Decimal | None = None
    raw_value = data.get("value")
    if raw_value not in (None, ""):
        try:
            value = Decimal(str(raw_value).strip())
        except InvalidOperation:
            errors["value"] = "must be a number"
        else:
            if not value.is_finite() or abs(value) >= Decimal("1e16"):
                errors["value"] = "must be a number below 10^16"
    phone = normalise_phone(_text(data, "phone", errors), account.region)
    raw_email = _text(data, "email", errors)
    email = valid_email(raw_email)
    if raw_email is not None and email is None:
        errors["email"] = "is not a valid e-mail address"
    if phone is None and raw_email is None:
        errors["phone"] = "a deal needs the phone or e-mail of its lead or contact"
        return
    record = find_record(connection, account_id=account.id, number=phone, email=email)
    if record is None and not errors:
        errors["record"] = "no lead or contact of this account has that phone or e-mail"
    if errors or record is None or name is None:
        return
    create_deal(
        connection, account_id=account.id, record=record, name=name, value=value, stage=stage
    )


def _store(
    connection: sa.Connection, account: Account, kind: Kind, data: dict[str, Any]
) -> dict[str, str]:
    errors = {str(key): "unknown key" for key in data if key not in KEYS[kind]}
    if kind == "deal":
        _deal(connection, account, data, errors)
        return errors
    person = _person(data, account.region, errors)
    if kind == "contact":
        is_organization = _flag(data, "is_organization", errors)
        if is_organization and person.organization_name is None:
            errors["organization_name"] = "is required for an organization"
        if not errors:
            records.create_contact(
                connection, account_id=account.id, person=person, is_organization=is_organization
            )
    elif not errors:
        records.create_lead(connection, account_id=account.id, person=person, source="import")
    return errors


def import_records(connection: sa.Connection, *, account: Account, kind: Kind, path: Path) -> int:
    """Import every line of `path` as a `kind` of `account`; return how many.

    Raise `ImportFailed` (the caller rolls back) when any line is bad.
    """
    lock_account_crm(connection, account.id)
    problems: list[LineProblem] = []
    bad_lines: set[int] = set()
    stored = 0
    for number, data in read_lines(path, KEYS[kind]):
        if isinstance(data, tuple):
            errors = dict([data])
        else:
            errors = _store(connection, account, kind, data)
            stored += not errors
        if errors:
            bad_lines.add(number)
            if len(bad_lines) <= MAX_REPORTED_LINES:
                problems.extend(LineProblem(number, key, text) for key, text in errors.items())
    if bad_lines:
        raise ImportFailed(problems, len(bad_lines))
    return stored
