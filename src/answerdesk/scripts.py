"""Edit an account's script of custom fields: rename, reorder, require, remove.

Stored messages keep the fields as they were taken (CONTRACT §1), so every
edit here changes only what agents see on the next message.
"""

from __future__ import annotations

import sqlalchemy as sa

from answerdesk.accounts import ScriptField, get_script
from answerdesk.errors import NotFound, ValidationFailed
from answerdesk.phones import clean_text
from answerdesk.store.tables import script_fields

MAX_LABEL_LENGTH = 200


class ScriptFieldNotFound(NotFound):
    default_message = "Script field not found"


def _field(connection: sa.Connection, account_id: int, field_id: int) -> ScriptField:
    for field in get_script(connection, account_id=account_id):
        if field.id == field_id:
            return field
    raise ScriptFieldNotFound()


def check_label(
    connection: sa.Connection, *, account_id: int, label: str, field_id: int | None = None
) -> str:
    """Return the cleaned label, or raise naming `label`: blank, too long or taken."""
    cleaned = clean_text(label) or ""
    if not cleaned:
        raise ValidationFailed({"label": "is required"})
    if len(cleaned) > MAX_LABEL_LENGTH:
        raise ValidationFailed({"label": f"must be at most {MAX_LABEL_LENGTH} characters"})
    for field in get_script(connection, account_id=account_id):
        if field.id != field_id and field.label.casefold() == cleaned.casefold():
            raise ValidationFailed({"label": "the script already has a field with this label"})
    return cleaned


def rename_field(connection: sa.Connection, *, account_id: int, field_id: int, label: str) -> None:
    """Give a field a new label (unique within the script, ignoring case)."""
    _field(connection, account_id, field_id)
    cleaned = check_label(connection, account_id=account_id, label=label, field_id=field_id)
    connection.execute(
        script_fields.update().where(script_fields.c.id == field_id).values(label=cleaned)
    )


def set_required(
    connection: sa.Connection, *, account_id: int, field_id: int, required: bool
) -> None:
    """Make a field required or optional for the next messages."""
    _field(connection, account_id, field_id)
    connection.execute(
        script_fields.update().where(script_fields.c.id == field_id).values(required=required)
    )


def move_field(connection: sa.Connection, *, account_id: int, field_id: int, offset: int) -> None:
    """Move a field `offset` places (negative: up); positions are renumbered 1..n."""
    script = get_script(connection, account_id=account_id)
    index = next((i for i, field in enumerate(script) if field.id == field_id), None)
    if index is None:
        raise ScriptFieldNotFound()
    target = max(0, min(len(script) - 1, index + offset))
    moved = script.pop(index)
    script.insert(target, moved)
    for position, field in enumerate(script, start=1):
        if field.position != position:
            connection.execute(
                script_fields.update()
                .where(script_fields.c.id == field.id)
                .values(position=position)
            )


def remove_field(connection: sa.Connection, *, account_id: int, field_id: int) -> ScriptField:
    """Take a field out of the script; messages already taken keep its value."""
    field = _field(connection, account_id, field_id)
    connection.execute(script_fields.delete().where(script_fields.c.id == field_id))
    return field
