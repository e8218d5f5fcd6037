"""Create and edit accounts from one form, reporting every bad field at once.

`accounts.create_account` and `update_account` stop at the first problem; a
person filling in a form wants to see all of them, so this checks the whole
form before writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from answerdesk.accounts import (
    Account,
    create_account,
    get_account,
    update_account,
    validate_timezone,
)
from answerdesk.errors import ValidationFailed
from answerdesk.phones import clean_text, is_valid_region
from answerdesk.store.tables import accounts

MAX_NUMBER_LENGTH = 32
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class AccountForm:
    number: str
    name: str
    timezone: str
    region: str
    phone: str


def _problems(
    connection: sa.Connection, form: AccountForm, account_id: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    number = clean_text(form.number)
    if number is None:
        errors["number"] = "is required"
    elif len(number) > MAX_NUMBER_LENGTH:
        errors["number"] = f"must be at most {MAX_NUMBER_LENGTH} characters"
    else:
        clash = connection.execute(
            sa.select(accounts.c.id).where(accounts.c.number == number)
        ).first()
        if clash is not None and clash.id != account_id:
            errors["number"] = "is already used by another account"
    name = clean_text(form.name)
    if name is None:
        errors["name"] = "is required"
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = f"must be at most {MAX_NAME_LENGTH} characters"
    try:
        validate_timezone((form.timezone or "").strip())
    except ValidationFailed as error:
        errors.update(error.errors)
    if not is_valid_region((form.region or "").strip()):
        errors["region"] = "must be a two-letter phone region, e.g. US or GB"
    if len(form.phone or "") > 40:
        errors["phone"] = "must be at most 40 characters"
    return errors


def save_account(
    connection: sa.Connection, *, form: AccountForm, account_id: int | None = None
) -> Account:
    """Create the account (no id) or update it; raise ValidationFailed with every problem."""
    errors = _problems(connection, form, account_id)
    if errors:
        raise ValidationFailed(errors)
    number = (clean_text(form.number) or "").strip()
    region = form.region.strip().upper()
    if account_id is None:
        return create_account(
            connection,
            number=number,
            name=form.name,
            timezone=form.timezone.strip(),
            region=region,
            phone=clean_text(form.phone),
        )
    get_account(connection, account_id=account_id)
    connection.execute(accounts.update().where(accounts.c.id == account_id).values(number=number))
    updated = update_account(
        connection,
        account_id=account_id,
        name=form.name,
        timezone=form.timezone.strip(),
        region=region,
        phone=form.phone,
    )
    if clean_text(form.phone) is None and updated.phone is not None:
        connection.execute(accounts.update().where(accounts.c.id == account_id).values(phone=None))
        updated = get_account(connection, account_id=account_id)
    return updated
