"""Client accounts and their scripts of custom fields."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.errors import AccountNotFound, Conflict, ValidationFailed
from answerdesk.phones import clean_text, is_valid_region, normalise_phone
from answerdesk.store.tables import accounts, script_fields


@dataclass(frozen=True)
class ScriptField:
    id: int
    position: int
    label: str
    required: bool


@dataclass(frozen=True)
class Account:
    id: int
    number: str
    name: str
    timezone: str
    region: str
    phone: str | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _account(row: sa.Row[tuple[object, ...]]) -> Account:
    return Account(
        id=row.id,
        number=row.number,
        name=row.name,
        timezone=row.timezone,
        region=row.region,
        phone=row.phone,
    )


def validate_timezone(name: str) -> str:
    """Return `name` if it is an IANA zone, else raise naming the field."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed({"timezone": f"unknown IANA time zone {name!r}"}) from None
    if name not in available_timezones() and name != "UTC":
        raise ValidationFailed({"timezone": f"unknown IANA time zone {name!r}"})
    return name


def create_account(
    connection: sa.Connection,
    *,
    number: str,
    name: str,
    timezone: str = "America/New_York",
    region: str = "US",
    phone: str | None = None,
) -> Account:
    """Create an account; its number must be new."""
    number = (clean_text(number) or "").strip()
    errors: dict[str, str] = {}
    if not number:
        errors["number"] = "is required"
    elif len(number) > 32:
        errors["number"] = "must be at most 32 characters"
    if not clean_text(name):
        errors["name"] = "is required"
    elif len(name.strip()) > 200:
        errors["name"] = "must be at most 200 characters"
    if phone is not None and len(phone.strip()) > 40:
        errors["phone"] = "must be at most 40 characters"
    if not is_valid_region(region):
        errors["region"] = f"unknown phone region {region!r}"
    if errors:
        raise ValidationFailed(errors)
    validate_timezone(timezone)
    region = region.upper()
    if find_account(connection, number=number) is not None:
        raise Conflict(f"account {number} already exists")
    account_id = connection.execute(
        accounts.insert()
        .values(
            number=number,
            name=name.strip(),
            timezone=timezone,
            region=region,
            phone=normalise_phone(phone, region),
            created_at=clock.utcnow(),
        )
        .returning(accounts.c.id)
    ).scalar_one()
    return get_account(connection, account_id=account_id)


def update_account(
    connection: sa.Connection,
    *,
    account_id: int,
    name: str | None = None,
    timezone: str | None = None,
    region: str | None = None,
    phone: str | None = None,
) -> Account:
    """Change an account's settings; messages keep their stored values.

    A new `timezone` leaves the messages' stored API JSON in the old zone:
    readers render those rows themselves (right, but slow) until the caller,
    once this transaction has committed, re-renders them
    (`messages.rerender`: the console does it in the background). The
    change is recorded as owing a walk (`rerender_owed`), so one cut short
    is finished when `answerdesk serve` starts again.
    """
    values: dict[str, object] = {}
    if name is not None:
        if not clean_text(name):
            raise ValidationFailed({"name": "is required"})
        if len(name.strip()) > 200:
            raise ValidationFailed({"name": "must be at most 200 characters"})
        values["name"] = name.strip()
    if timezone is not None:
        values["timezone"] = validate_timezone(timezone)
    if region is not None:
        if not is_valid_region(region):
            raise ValidationFailed({"region": f"unknown phone region {region!r}"})
        values["region"] = region.upper()
    account = get_account(connection, account_id=account_id)
    if phone is not None:
        if len(phone.strip()) > 40:
            raise ValidationFailed({"phone": "must be at most 40 characters"})
        values["phone"] = normalise_phone(phone, str(values.get("region", account.region)))
    if values.get("timezone", account.timezone) != account.timezone:
        # Recorded in the same transaction, so a walk is never owed unseen.
        values["rerender_owed"] = accounts.c.rerender_owed + 1
    if values:
        connection.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
    return get_account(connection, account_id=account_id)


def find_account(connection: sa.Connection, *, number: str) -> Account | None:
    row = connection.execute(sa.select(accounts).where(accounts.c.number == number)).first()
    return _account(row) if row else None


def get_account(
    connection: sa.Connection, *, account_id: int | None = None, number: str | None = None
) -> Account:
    """Return one account by id or number, or raise AccountNotFound."""
    query = sa.select(accounts)
    if account_id is not None:
        query = query.where(accounts.c.id == account_id)
    elif number is not None:
        query = query.where(accounts.c.number == number)
    else:
        raise TypeError("get_account needs account_id or number")
    row = connection.execute(query).first()
    if row is None:
        raise AccountNotFound()
    return _account(row)


def list_accounts(
    connection: sa.Connection, *, search: str | None = None, owing_rerender: bool = False
) -> list[Account]:
    """Return accounts by number, optionally those whose number or name contains `search`.

    With `owing_rerender`, only those a time-zone change left owing a
    re-render of their stored message JSON (`messages.rerender`).
    """
    query = sa.select(accounts).order_by(accounts.c.number)
    if owing_rerender:
        query = query.where(accounts.c.rerender_owed > 0)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(accounts.c.number).like(pattern),
                sa.func.lower(accounts.c.name).like(pattern),
            )
        )
    return [_account(row) for row in connection.execute(query)]


def get_script(connection: sa.Connection, *, account_id: int) -> list[ScriptField]:
    """Return the account's custom fields in script order."""
    rows = connection.execute(
        sa.select(script_fields)
        .where(script_fields.c.account_id == account_id)
        .order_by(script_fields.c.position, script_fields.c.id)
    )
    return [
        ScriptField(id=row.id, position=row.position, label=row.label, required=row.required)
        for row in rows
    ]


def add_script_field(
    connection: sa.Connection, *, account_id: int, label: str, required: bool = False
) -> ScriptField:
    """Append a custom field to the end of the account's script."""
    label = clean_text(label) or ""
    if not label:
        raise ValidationFailed({"label": "is required"})
    if len(label) > 200:
        raise ValidationFailed({"label": "must be at most 200 characters"})
    script = get_script(connection, account_id=account_id)
    if any(field.label == label for field in script):
        raise Conflict(f"the script already has a field {label!r}")
    position = (script[-1].position + 1) if script else 1
    field_id = connection.execute(
        script_fields.insert()
        .values(account_id=account_id, position=position, label=label, required=required)
        .returning(script_fields.c.id)
    ).scalar_one()
    return ScriptField(id=field_id, position=position, label=label, required=required)
