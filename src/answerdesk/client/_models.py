"""Typed, read-only views of the APIs' objects, built leniently from what a server sends.

Parsing is strict only where the SDK itself depends on a value (a message's
`message_id`, a text message's `id`); anything else a vendor server omits or
spells oddly becomes `None` rather than an error, and the object as received
stays available as `raw`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ._exceptions import DecodeError

TABLE_KEY = "content_with_additional_details_table"
#: Seed 000 spells a flattened custom field `..._table__{labelName}`; seed 001's
#: rendering with spaces turns into `..._table_{labelName}` once normalised.
_FLAT = re.compile(r"^content_with_additional_details_table__?(?P<name>.+)$")
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_LOCAL_DAY = re.compile(r"^(\d{2})-(\d{2})-(\d{4})\b")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _instant(value: Any) -> datetime | None:
    """Parse ISO 8601 to an aware datetime; a time without offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def label_name(label: str) -> str:
    """Return the `labelName` the Messages API derives from a custom field's label."""
    return _NOT_NAME.sub("_", label.lower()).strip("_") or "field"


def _name_fits(name: str, label: str) -> bool:
    base = label_name(label)
    return name == base or re.fullmatch(re.escape(base) + r"_\d+", name) is not None


def humanise(name: str) -> str:
    """Make a readable label from a labelName (`reason_for_call` → `Reason for call`)."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else name


def _normalised(obj: Mapping[str, Any]) -> dict[str, Any]:
    # Seed 001 prints the v1 keys with spaces; the values are the same.
    return {str(key).strip().replace(" ", "_"): value for key, value in obj.items()}


def _fields(data: Mapping[str, Any]) -> dict[str, str]:
    table = data.get(TABLE_KEY)
    if isinstance(table, Mapping):
        items = table.items()
    else:
        matches = ((_FLAT.match(key), value) for key, value in data.items())
        items = ((match["name"], value) for match, value in matches if match)  # type: ignore[assignment]
    return {str(name): text for name, value in items if (text := _text(value)) is not None}


@dataclass(frozen=True)
class Message:
    """One message of the Messages API (v1 or v2)."""

    message_id: int
    account_number: str | None
    resource: str | None
    content: str | None
    from_: str | None
    first_name: str | None
    last_name: str | None
    #: The creation instant; microseconds when the server sent `raw_created_at`.
    created_at: datetime | None
    #: The same instant in the account's time zone, when the server said it.
    local_created_at: datetime | None
    status: str | None
    phone: str | None
    caller_id: str | None
    company_name: str | None
    is_emergency: bool
    delivered_at: datetime | None
    delivered_to: str | None
    content_with_additional_details: str | None
    #: Custom fields, `{labelName: value}`, in the server's order.
    fields: Mapping[str, str] = field(hash=False)
    #: The object exactly as the server sent it.
    raw: Mapping[str, Any] = field(hash=False, compare=False, repr=False)
    #: `created_at` as the API displays it (`MM-DD-YYYY hh:mm AM`, local time).
    created_at_display: str | None = field(default=None, compare=False, repr=False)

    @property
    def local_date(self) -> date | None:
        """Return the calendar day the message was created on in the account's zone.

        That is the day `from_date`/`to_date` filter on.
        """
        if self.local_created_at is not None:
            return self.local_created_at.date()
        match = _LOCAL_DAY.match(self.created_at_display or "")
        if match:
            month, day, year = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                pass
        return self.created_at.date() if self.created_at else None

    @property
    def labels(self) -> dict[str, str]:
        """Map each custom field's labelName to its original label.

        The labels are read back from `content_with_additional_details` (one
        `Label: value` line per field, in the table's order, after the
        content); a line that cannot be matched to its field gets a label
        made from the labelName instead.
        """
        found: dict[str, str] = {}
        remaining = self.content_with_additional_details or ""
        for name, value in reversed(list(self.fields.items())):
            suffix = f": {value}"
            if not remaining.endswith(suffix):
                break
            head = remaining[: -len(suffix)]
            cut = head.rfind("\n")
            label = head[cut + 1 :]
            if cut < 0 or not _name_fits(name, label):
                break
            found[name] = label
            remaining = head[:cut]
        return {name: found.get(name) or humanise(name) for name in self.fields}


def parse_message(obj: Any) -> Message:
    """Build a Message from one object of the API; raise DecodeError if it is not one."""
    if not isinstance(obj, Mapping):
        raise DecodeError(f"expected a message object, got {type(obj).__name__}")
    data = _normalised(obj)
    message_id = _int(data.get("message_id"))
    if message_id is None:
        raise DecodeError("a message object without an integer message_id")
    local = _instant(data.get("raw_created_at"))
    utc = _instant(data.get("utc_created_at"))
    return Message(
        message_id=message_id,
        account_number=_text(data.get("account_number")),
        resource=_text(data.get("resource")),
        content=_text(data.get("content")),
        from_=_text(data.get("from")),
        first_name=_text(data.get("first_name")),
        last_name=_text(data.get("last_name")),
        created_at=(local.astimezone(UTC) if local else utc),
        local_created_at=local,
        status=_text(data.get("status")),
        phone=_text(data.get("phone")),
        caller_id=_text(data.get("caller_id")),
        company_name=_text(data.get("company_name")),
        is_emergency=data.get("is_emergency") in (True, "true", "1", 1),
        delivered_at=_instant(data.get("delivered_at")),
        delivered_to=_text(data.get("delivered_to")),
        content_with_additional_details=_text(data.get("content_with_additional_details")),
        fields=_fields(data),
        raw=obj,
        created_at_display=_text(data.get("created_at")),
    )


def parse_message_list(body: Any) -> list[Message]:
    """Build Messages from a list answer (a JSON array)."""
    if not isinstance(body, list):
        raise DecodeError(f"expected a JSON array of messages, got {type(body).__name__}")
    return [parse_message(item) for item in body]


@dataclass(frozen=True)
class TextMessage:
    """One text message of the Text Messages API (Zendesk Sell compatible)."""

    id: int
    user_id: int | None
    user_phone_number: str | None
    content: str | None
    incoming: bool | None
    resource_phone_number: str | None
    resource_type: str | None
    resource_id: int | None
    associated_deal_ids: tuple[int, ...]
    #: `sent_at`, or `send_at` as the Sell document's example spells it.
    sent_at: datetime | None
    updated_at: datetime | None
    created_at: datetime | None
    raw: Mapping[str, Any] = field(hash=False, compare=False, repr=False)


def parse_text_message(obj: Any) -> TextMessage:
    """Build a TextMessage from `{"data": {...}, "meta": ...}` or from the bare data."""
    if isinstance(obj, Mapping) and isinstance(obj.get("data"), Mapping):
        obj = obj["data"]
    if not isinstance(obj, Mapping):
        raise DecodeError(f"expected a text message object, got {type(obj).__name__}")
    text_id = _int(obj.get("id"))
    if text_id is None:
        raise DecodeError("a text message without an integer id")
    deals = obj.get("associated_deal_ids")
    incoming = obj.get("incoming")
    return TextMessage(
        id=text_id,
        user_id=_int(obj.get("user_id")),
        user_phone_number=_text(obj.get("user_phone_number")),
        content=_text(obj.get("content")),
        incoming=incoming if isinstance(incoming, bool) else None,
        resource_phone_number=_text(obj.get("resource_phone_number")),
        resource_type=_text(obj.get("resource_type")),
        resource_id=_int(obj.get("resource_id")),
        associated_deal_ids=tuple(
            deal for item in (deals if isinstance(deals, list) else []) if (deal := _int(item))
        ),
        sent_at=_instant(obj.get("sent_at") or obj.get("send_at")),
        updated_at=_instant(obj.get("updated_at")),
        created_at=_instant(obj.get("created_at")),
        raw=obj,
    )


@dataclass(frozen=True)
class TextMessagePage:
    """One page of text messages, with the collection's links."""

    items: tuple[TextMessage, ...]
    #: Items on this page, as the server counted them.
    count: int
    #: `self`, `first_page`, `prev_page`, `next_page`, when the server sent them.
    links: Mapping[str, str] = field(hash=False)

    @property
    def next_page(self) -> str | None:
        return self.links.get("next_page")

    def __iter__(self) -> Iterator[TextMessage]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def parse_text_message_page(body: Any) -> TextMessagePage:
    """Build a page from a collection answer `{"items": [...], "meta": {...}}`."""
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        raise DecodeError("expected a collection object with an items array")
    items = tuple(parse_text_message(item) for item in body["items"])
    meta = body.get("meta")
    meta = meta if isinstance(meta, Mapping) else {}
    links = meta.get("links")
    count = _int(meta.get("count"))
    return TextMessagePage(
        items=items,
        count=len(items) if count is None else count,
        links={
            str(key): value
            for key, value in (links.items() if isinstance(links, Mapping) else [])
            if isinstance(value, str)
        },
    )
