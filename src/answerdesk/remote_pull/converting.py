"""Turn a remote message into the input of `take_message_data`, growing the local script.

Custom fields arrive keyed by labelName (`reason_for_call`); the local
script is keyed by label (`Reason for Call?`). Each remote field goes to the
first of these that is not already taken by another field of the message:

1. the local field whose labelName is the same (the usual case: same script);
2. the local field whose label is the remote label, ignoring case;
3. a new local field, appended to the script, labelled with the remote
   label as read back from `content_with_additional_details` (or, when that
   cannot be read, one made from the labelName: `reason_for_call` →
   `Reason for call`; if that label is taken, the labelName itself).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from answerdesk.accounts import add_script_field, get_script
from answerdesk.client import Message
from answerdesk.labels import label_names
from answerdesk.messages import STATUSES
from answerdesk.messages.inputs import MAX_CONTENT_LENGTH, MAX_TEXT_LENGTH

MAX_LABEL_LENGTH = 200
MAX_DELIVERED_TO_LENGTH = 320
#: A message must have content here; a remote one without any gets this.
NO_CONTENT = "(no message text)"


def _new_label(wanted: str, name: str, taken: set[str]) -> str:
    for candidate in (wanted[:MAX_LABEL_LENGTH].strip(), name[:MAX_LABEL_LENGTH]):
        if candidate and candidate.casefold() not in taken:
            return candidate
    number = 2
    while f"{name} {number}".casefold() in taken:
        number += 1
    return f"{name} {number}"


def local_fields(
    connection: sa.Connection, *, account_id: int, message: Message
) -> tuple[dict[str, str], list[str]]:
    """Return the message's custom fields keyed by local label, and the labels added."""
    if not message.fields:
        return {}, []
    script = get_script(connection, account_id=account_id)
    labels = [field.label for field in script]
    by_name = dict(zip(label_names(labels), labels, strict=True))
    by_folded: dict[str, str] = {}
    for label in labels:
        by_folded.setdefault(label.casefold(), label)
    remote_labels = message.labels
    used: set[str] = set()
    values: dict[str, str] = {}
    added: list[str] = []
    for name, value in message.fields.items():
        local = by_name.get(name)
        if local is None or local in used:
            local = by_folded.get(remote_labels[name].casefold())
        if local is None or local in used:
            local = _new_label(remote_labels[name], name, set(by_folded))
            add_script_field(connection, account_id=account_id, label=local)
            by_folded[local.casefold()] = local
            added.append(local)
        used.add(local)
        values[local] = value
    return values, added


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None


def message_data(message: Message, fields: dict[str, str]) -> dict[str, Any]:
    """Build the `take_message_data` input that reproduces the remote message here.

    Texts longer than answerdesk accepts are cut to the limit rather than
    refused, so one odd remote message cannot stop a pull. The creation
    instant is kept exactly (microseconds from `raw_created_at`).
    """
    status = message.status if message.status in STATUSES else None
    delivered = status not in (None, "new")
    content = (message.content or "").strip() or NO_CONTENT
    return {
        "content": content[:MAX_CONTENT_LENGTH],
        "first_name": _clip(message.first_name, MAX_TEXT_LENGTH),
        "last_name": _clip(message.last_name, MAX_TEXT_LENGTH),
        "company_name": _clip(message.company_name, MAX_TEXT_LENGTH),
        "phone": _clip(message.phone, MAX_TEXT_LENGTH),
        "caller_id": _clip(message.caller_id, MAX_TEXT_LENGTH),
        "for": _clip(message.resource, MAX_TEXT_LENGTH),
        "is_emergency": message.is_emergency,
        "fields": fields,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "status": status,
        "delivered_at": (
            message.delivered_at.isoformat() if delivered and message.delivered_at else None
        ),
        "delivered_to": _clip(message.delivered_to, MAX_DELIVERED_TO_LENGTH) if delivered else None,
    }
