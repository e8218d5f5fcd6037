"""The agent API (`POST /agent/v1/accounts/{number}/messages`) as an OpenAPI path."""

from __future__ import annotations

from answerdesk.api.agent_api import MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY
from answerdesk.api.openapi.shared import (
    WHITESPACE,
    Schema,
    closed,
    messages_envelope,
    ref,
    response,
)
from answerdesk.messages.inputs import MAX_CONTENT_LENGTH, MAX_PHONE_LENGTH, MAX_TEXT_LENGTH
from answerdesk.messages.lifecycle import STATUSES

#: Texts are stripped before they are measured, so the limit is on what is
#: left: any whitespace around, then at most `n` characters that start and end
#: with a non-whitespace one.
_SPACE = f"[{WHITESPACE}]*"
_SOLID = f"[^{WHITESPACE}]"


def _stripped_at_most(limit: int, *, required: bool = False) -> str:
    inner = f"{_SOLID}([\\s\\S]{{0,{limit - 2}}}{_SOLID})?"
    return f"^{_SPACE}{inner if required else f'({inner})?'}{_SPACE}$"


def _text(limit: int, description: str) -> Schema:
    return {
        "type": ["string", "null"],
        "pattern": _stripped_at_most(limit),
        "description": f"{description} Blank is stored as null; at most {limit} characters "
        "once stripped.",
    }


def message_input() -> Schema:
    """The body of a POST: the form of a `messages import` line (docs/api.md)."""
    blank = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": f"^{_SPACE}$"}]}
    instant = {
        "type": ["string", "null"],
        "description": "ISO 8601; without an offset, local time in the account's time zone "
        "(a time in a daylight-saving gap is an error; a repeated one means the first).",
        "examples": ["2024-03-15T10:32:05"],
    }
    schema = closed(
        {
            "content": {
                "type": "string",
                "pattern": _stripped_at_most(MAX_CONTENT_LENGTH, required=True),
                "description": "The message; required, not blank.",
            },
            "first_name": _text(MAX_TEXT_LENGTH, "Caller's first name."),
            "last_name": _text(MAX_TEXT_LENGTH, "Caller's last name."),
            "company_name": _text(MAX_TEXT_LENGTH, "Caller's company."),
            "phone": _text(MAX_PHONE_LENGTH, "Callback number, any format."),
            "caller_id": _text(MAX_PHONE_LENGTH, "The number the phone system captured."),
            "for": _text(
                MAX_TEXT_LENGTH,
                "A client user's e-mail or name (linked when it matches), else free text.",
            ),
            "is_emergency": {"type": ["boolean", "null"], "default": False},
            "fields": {
                "type": ["object", "null"],
                "description": "Custom fields `{label: value}`: labels of the account's script "
                "(exact, else case-insensitive; an unknown label is a 422). Numbers are stored "
                "as text, booleans as Yes/No.",
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
            },
            "created_at": instant,
            "status": {"enum": [*STATUSES, None]},
            "delivered_at": instant,
            "delivered_to": _text(320, "Where it was delivered."),
        },
        required=["content"],
    )
    # A message that says where or when it was delivered cannot be `new`.
    schema["if"] = {"properties": {"status": {"const": "new"}}, "required": ["status"]}
    schema["then"] = {"properties": {"delivered_at": blank, "delivered_to": blank}}
    schema["examples"] = [
        {
            "first_name": "John",
            "last_name": "Doe",
            "phone": "(617) 555-0123",
            "content": "Leak under the sink",
            "is_emergency": True,
        }
    ]
    return schema


def parameters() -> dict[str, Schema]:
    return {
        "AccountNumber": {
            "name": "number",
            "in": "path",
            "required": True,
            "description": "The client account's number.",
            "schema": {"type": "string"},
            "example": "10042",
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "description": "Optional. A retry with the same key and body answers the first "
            "result and stores nothing new; the key with another body is a 409.",
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
        },
    }


def paths() -> dict[str, Schema]:
    """The one operation of the agent API."""

    def error(description: str, info: Schema, **extra: Schema) -> Schema:
        return response(description, messages_envelope(info), headers=extra or None)

    invalid = {
        "type": "object",
        "properties": {
            "errors": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "string"},
                "description": "What is wrong with each bad field (`fields.<label>` for "
                "custom fields).",
            }
        },
        "required": ["errors"],
        "additionalProperties": False,
    }
    answers = {
        "201": response(
            "Stored (or, with a repeated Idempotency-Key, the message the key stored).",
            ref("schemas", "Message"),
            headers={
                "Location": {
                    "required": True,
                    "schema": {"type": "string", "pattern": "^/v1/messages/[0-9]+$"},
                },
                "Idempotent-Replayed": {
                    "description": "Present on a replay.",
                    "schema": {"const": "true"},
                },
            },
        ),
        "400": error(
            "The body is not JSON, or the Idempotency-Key is empty or too long.",
            {"type": "string", "pattern": "^Invalid (body|Idempotency-Key): expected "},
        ),
        "401": error(
            "A missing, unknown, revoked or expired token.",
            {"const": "Invalid token"},
            **{"WWW-Authenticate": {"required": True, "schema": {"const": "Bearer"}}},
        ),
        "403": error(
            "A client's token: client tokens are read-only.",
            {"const": "Client tokens are read-only: taking messages needs an agent or admin token"},
        ),
        "404": error("No account has this number.", {"const": "Account not found"}),
        "409": error(
            "The Idempotency-Key was already used with a different body or account.",
            {"const": "Idempotency-Key was already used with a different request"},
        ),
        "413": error(
            f"The body is larger than {MAX_BODY_BYTES} bytes.",
            {"const": f"Request body too large: at most {MAX_BODY_BYTES} bytes"},
        ),
        "422": response(
            "Bad fields, every one named; nothing is stored.",
            messages_envelope({"const": "Invalid input"}, invalid),
        ),
        "429": ref("responses", "MessagesRateLimited"),
        "500": ref("responses", "MessagesInternalError"),
    }
    operation = {
        "tags": ["Agent API"],
        "operationId": "takeMessage",
        "summary": "Take a message",
        "description": "Phone systems and scripts take messages with an agent's or admin's "
        "token. The answer is the message exactly as the Messages API shows it.",
        "security": [{"agentBearer": []}],
        "parameters": [
            ref("parameters", "AccountNumber"),
            ref("parameters", "IdempotencyKey"),
            ref("parameters", "RequestId"),
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref("schemas", "MessageInput")}},
        },
        "responses": answers,
    }
    return {"/agent/v1/accounts/{number}/messages": {"post": operation}}
