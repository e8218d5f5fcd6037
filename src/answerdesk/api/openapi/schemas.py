"""The objects of the three APIs as JSON Schema (2020-12, as OpenAPI 3.1 uses it).

Every fixed object says `additionalProperties: false`, so a key the code adds
without the document (or the contract) fails the tests that hold the two
together. The one open object is the message, whose custom fields appear as
extra `content_with_additional_details_table__{labelName}` keys: those are
admitted by pattern, and nothing else is.
"""

from __future__ import annotations

from answerdesk.api.openapi.shared import (
    MAX_ID,
    UTC_SECONDS,
    Schema,
    closed,
    nullable,
    ref,
)
from answerdesk.crm.paging import MAX_PER_PAGE
from answerdesk.messages.lifecycle import STATUSES

#: labelName: lower-case letters and digits in runs joined by single `_`.
LABEL_NAME = "[a-z0-9]+(_[a-z0-9]+)*"
FLAT_FIELD = f"^content_with_additional_details_table__{LABEL_NAME}$"
LOCAL_DISPLAY = (
    "^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])-[0-9]{4} (0[1-9]|1[0-2]):[0-5][0-9] (AM|PM)$"
)
LOCAL_ISO = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}[+-][0-9]{2}:[0-9]{2}$"
)


def _id() -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _utc(description: str) -> Schema:
    return {"type": "string", "pattern": UTC_SECONDS, "description": description}


def message() -> Schema:
    """The Messages API's message object (CONTRACT §1), keys in wire order."""
    text = nullable("string")
    properties: dict[str, Schema] = {
        "account_number": {"type": "string", "examples": ["10042"]},
        "resource": nullable("string", description="Whom the message is for at the client."),
        "message_id": _id(),
        "content": {"type": "string"},
        "from": nullable(
            "string",
            description="`first_name last_name`, else the company, else the phone, else null.",
        ),
        "first_name": text,
        "last_name": text,
        "created_at": {
            "type": "string",
            "pattern": LOCAL_DISPLAY,
            "description": "Local time in the account's time zone, `MM-DD-YYYY hh:mm AM`.",
        },
        "utc_created_at": _utc("The creation instant in UTC, to the second."),
        "raw_created_at": {
            "type": "string",
            "pattern": LOCAL_ISO,
            "description": "Local time with offset and microseconds.",
        },
        "status": {"enum": list(STATUSES)},
        "phone": nullable("string", description="E.164 when it parses as a possible number."),
        "caller_id": text,
        "company_name": text,
        "is_emergency": {"type": "boolean"},
        "delivered_at": nullable("string", pattern=UTC_SECONDS),
        "delivered_to": text,
        "content_with_additional_details": {
            "type": "string",
            "description": "`content`, then one line `Label: value` per filled custom field.",
        },
        "content_with_additional_details_table": {
            "type": "object",
            "description": "The filled custom fields, `{labelName: value}`, in script order.",
            "propertyNames": {"pattern": f"^{LABEL_NAME}$"},
            "additionalProperties": {"type": "string"},
        },
    }
    schema = closed(properties)
    schema["patternProperties"] = {FLAT_FIELD: {"type": "string"}}
    schema["description"] = (
        "Every key is always present, in this order; after them, one "
        "`content_with_additional_details_table__{labelName}` key per filled custom field."
    )
    return schema


def text_message() -> Schema:
    """A Sell text message; `send_at` repeats `sent_at` as Sell's own example spells it."""
    schema = closed(
        {
            "id": _id(),
            "user_id": nullable("integer"),
            "user_phone_number": nullable("string"),
            "content": {"type": "string"},
            "incoming": {"type": "boolean"},
            "resource_phone_number": nullable("string"),
            "resource_type": {"enum": ["lead", "contact", "none"]},
            "resource_id": nullable("integer"),
            "associated_deal_ids": {"type": "array", "items": {"type": "integer"}},
            "sent_at": _utc("When the message was taken, UTC."),
            "send_at": _utc("Same value as `sent_at`."),
            "updated_at": _utc("Last change, UTC."),
            "created_at": _utc("When it was carried into the CRM, UTC."),
        }
    )
    # A text message attached to nothing has no resource id, and only then.
    schema["if"] = {"properties": {"resource_type": {"const": "none"}}}
    schema["then"] = {"properties": {"resource_id": {"type": "null"}}}
    schema["else"] = {"properties": {"resource_id": {"type": "integer"}}}
    return schema


def _person(extra: dict[str, Schema]) -> dict[str, Schema]:
    text = nullable("string")
    return {
        "first_name": text,
        "last_name": text,
        **extra,
        "organization_name": text,
        "phone": text,
        "mobile": text,
        "email": text,
    }


def lead() -> Schema:
    """A Sell lead."""
    text = nullable("string")
    properties = {"id": _id(), **_person({})}
    properties.update(
        {
            "status": {"type": "string", "examples": ["New", "Converted"]},
            "source": text,
            "description": text,
            "created_at": _utc("UTC."),
            "updated_at": _utc("UTC."),
        }
    )
    return closed(properties)


def contact() -> Schema:
    """A Sell contact; `name` is `first last`, or the organization's name."""
    properties = {"id": _id(), "name": nullable("string")}
    properties.update(_person({"is_organization": {"type": "boolean"}}))
    properties.update({"created_at": _utc("UTC."), "updated_at": _utc("UTC.")})
    return closed(properties)


def item(kind: str) -> Schema:
    """`{"data": {...}, "meta": {"type": kind}}`."""
    return closed({"data": ref("schemas", kind.title().replace("_", "")), "meta": meta(kind)})


def meta(kind: str) -> Schema:
    return closed({"type": {"const": kind}})


def collection(kind: str) -> Schema:
    """A page of Sell items with its links (`prev_page`/`next_page` only when they exist)."""
    link = {"type": "string"}
    links = closed(
        {"self": link, "first_page": link, "prev_page": link, "next_page": link},
        required=["self", "first_page"],
    )
    page_meta = closed(
        {
            "type": {"const": "collection"},
            "count": {"type": "integer", "minimum": 0, "maximum": MAX_PER_PAGE},
            "links": links,
        }
    )
    items = {"type": "array", "items": ref("schemas", f"{kind.title().replace('_', '')}Item")}
    return closed({"items": items, "meta": page_meta})


def health() -> dict[str, Schema]:
    """`/healthz` and `/readyz` answers."""
    ok = {"const": "ok"}
    return {
        "Health": closed({"status": ok}),
        "Ready": closed({"status": ok, "database": ok, "schema": {"type": "string"}}),
        "NotReady": {
            "oneOf": [
                closed({"status": {"const": "unavailable"}, "database": {"const": "unreachable"}}),
                closed(
                    {
                        "status": {"const": "unavailable"},
                        "database": ok,
                        "schema": nullable("string"),
                        "expected": {"type": "string"},
                    }
                ),
            ]
        },
    }


def all_schemas() -> dict[str, Schema]:
    """Every named schema of `components.schemas`."""
    return {
        "Message": message(),
        "TextMessage": text_message(),
        "Lead": lead(),
        "Contact": contact(),
        "TextMessageItem": item("text_message"),
        "LeadItem": item("lead"),
        "ContactItem": item("contact"),
        "TextMessageCollection": collection("text_message"),
        "LeadCollection": collection("lead"),
        "ContactCollection": collection("contact"),
        **health(),
    }
