"""Take a message for an account: apply the account's script and rules, store it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa

from answerdesk import clock
from answerdesk.accounts import Account, ScriptField, get_script
from answerdesk.errors import ValidationFailed
from answerdesk.labels import label_names
from answerdesk.messages.inputs import MessageInput, parse_message_input
from answerdesk.messages.prerender import refresh_wire
from answerdesk.phones import clean_text, normalise_phone
from answerdesk.store.tables import messages
from answerdesk.sync.outbox import enqueue
from answerdesk.users import User, account_clients
from answerdesk.webhooks.events import enqueue_event  # webhooks (issue 6)

#: Namespace of the per-account advisory lock taken while storing a message
#: on PostgreSQL (see `_serialise_ids`).
MESSAGE_LOCK_NAMESPACE = 0x6D7367  # "msg"


def resolve_recipient(clients: list[User], text: str | None) -> tuple[str | None, int | None]:
    """Match "for" against the account's client users (CONTRACT §4).

    By e-mail, then by name, case-insensitively, lowest id first; no match
    keeps the text as the resource and links nobody.
    """
    if text is None:
        return None, None
    wanted = text.casefold()
    for user in clients:
        if user.email.casefold() == wanted:
            return user.name, user.id
    for user in clients:
        if user.name.casefold() == wanted:
            return user.name, user.id
    return text, None


def snapshot_fields(script: list[ScriptField], values: dict[str, str | None]) -> list[list[str]]:
    """Return the filled custom fields as [labelName, label, value] in script order.

    Names are assigned over the whole script before blanks are dropped, so a
    field's key does not depend on which other fields were filled.
    """
    by_label = {field.label: field for field in script}
    by_folded = {field.label.casefold().strip(): field for field in script}
    given: dict[int, str | None] = {}
    errors: dict[str, str] = {}
    for label, value in values.items():
        field = by_label.get(label) or by_folded.get(label.casefold().strip())
        if field is None:
            errors[f"fields.{label}"] = "unknown field: not in this account's script"
        else:
            given[field.id] = clean_text(value)
    for field in script:
        if field.required and given.get(field.id) is None:
            errors[f"fields.{field.label}"] = "is required"
    if errors:
        raise ValidationFailed(errors)
    names = label_names(field.label for field in script)
    return [
        [name, field.label, value]
        for name, field in zip(names, script, strict=True)
        if (value := given.get(field.id)) is not None
    ]


def _serialise_ids(connection: sa.Connection, account_id: int) -> None:
    """Make an account's message ids commit in increasing order (PostgreSQL).

    Pollers resume with `after_id`; if two transactions of one account could
    commit out of id order, a poller could pass over the later-committing,
    lower id. Holding this lock from id assignment to commit prevents it.
    SQLite has a single writer, so it needs nothing.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": MESSAGE_LOCK_NAMESPACE, "key": account_id % 2_147_483_647},
        )


def take_message(
    connection: sa.Connection,
    *,
    account: Account,
    message: MessageInput,
    taken_by_user_id: int | None,
) -> int:
    """Store the message for the account and return its id (the caller commits)."""
    fields = snapshot_fields(get_script(connection, account_id=account.id), message.fields)
    resource, for_user_id = resolve_recipient(
        account_clients(connection, account_id=account.id), message.for_
    )
    now = clock.utcnow()
    created_at = message.created_at or now
    status = message.status or "new"
    _serialise_ids(connection, account.id)
    message_id = int(
        connection.execute(
            messages.insert()
            .values(
                account_id=account.id,
                taken_by_user_id=taken_by_user_id,
                for_user_id=for_user_id,
                resource=resource,
                first_name=message.first_name,
                last_name=message.last_name,
                company_name=message.company_name,
                phone=normalise_phone(message.phone, account.region),
                caller_id=normalise_phone(message.caller_id, account.region),
                content=message.content,
                is_emergency=message.is_emergency,
                fields=orjson.dumps(fields).decode(),
                created_at=created_at,
                created_second=math.floor(created_at.timestamp()),
                status=status,
                # An import of an already-handled message without a delivery
                # time: the best we know is when it was taken.
                delivered_at=message.delivered_at or (created_at if status != "new" else None),
                delivered_to=message.delivered_to,
                updated_at=now,
            )
            .returning(messages.c.id)
        ).scalar_one()
    )
    refresh_wire(connection, message_id=message_id)  # issue 7: the stored API JSON
    enqueue(connection, account_id=account.id, message_id=message_id, now=now)  # carry to the CRM
    enqueue_event(  # webhooks (issue 6): message.created, in this same transaction
        connection, account_id=account.id, type="message.created", message_id=message_id, now=now
    )
    return message_id


def take_message_data(
    connection: sa.Connection,
    *,
    account: Account,
    data: Mapping[str, Any],
    taken_by_user_id: int | None,
) -> int:
    """Check raw input against formats and the account's script at once, then take it.

    Every bad field is reported together: a typo in `content` does not hide
    an unknown custom-field label.
    """
    errors: dict[str, str] = {}
    message: MessageInput | None = None
    try:
        message = parse_message_input(data, account.zone)
    except ValidationFailed as error:
        errors.update(error.errors)
    fields = data.get("fields") if isinstance(data, Mapping) else None
    if isinstance(fields, Mapping):
        try:
            snapshot_fields(
                get_script(connection, account_id=account.id),
                {str(k): v if isinstance(v, str) else None for k, v in fields.items()},
            )
        except ValidationFailed as error:
            for key, problem in error.errors.items():
                errors.setdefault(key, problem)
    if errors or message is None:
        raise ValidationFailed(errors)
    return take_message(
        connection, account=account, message=message, taken_by_user_id=taken_by_user_id
    )
