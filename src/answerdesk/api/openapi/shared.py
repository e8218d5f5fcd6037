"""Building blocks of the OpenAPI document: references, patterns, envelopes, headers.

The document is built from plain dicts rather than kept as a file so that its
limits come from the constants the code enforces (`MAX_LIMIT`, `MAX_PAGE`,
...) and cannot drift from them.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

JSON = "application/json; charset=utf-8"

#: The characters Python's `str.strip()` removes (`str.isspace()`): the Sell
#: parameters and the agent API's texts are stripped before they are checked,
#: so "blank" and "padded" mean these, not ECMAScript's `\s`.
WHITESPACE = "".join(
    f"\\u{code:04x}"
    for code in (
        *range(0x09, 0x0E),
        *range(0x1C, 0x21),
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    )
)
#: A Sell filter: not blank, and without NUL (refused as invalid_param).
FILTER = f"^[^\\u0000]*[^{WHITESPACE}\\u0000][^\\u0000]*$"
#: `2024-03-15T14:32:05Z`: an instant in UTC to the second.
UTC_SECONDS = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
#: Ids are at most 18 digits: every one fits a signed 64-bit integer.
MAX_ID = 10**18 - 1


def ref(kind: str, name: str) -> Schema:
    """A `$ref` to `#/components/<kind>/<name>`."""
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(kind: str, **keywords: Any) -> Schema:
    """A value of JSON type `kind`, or null."""
    return {"type": [kind, "null"], **keywords}


def closed(properties: dict[str, Schema], *, required: list[str] | None = None) -> Schema:
    """An object with exactly these keys (all required unless told otherwise)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def json_body(schema: Schema) -> dict[str, Any]:
    """The `content` of a JSON response: the server always declares the charset."""
    return {JSON: {"schema": schema}}


def response(
    description: str,
    schema: Schema | None = None,
    *,
    headers: dict[str, Schema] | None = None,
) -> Schema:
    """A response with X-Request-Id (every response has it) and optional JSON body."""
    answer: Schema = {
        "description": description,
        "headers": {"X-Request-Id": ref("headers", "X-Request-Id"), **(headers or {})},
    }
    if schema is not None:
        answer["content"] = json_body(schema)
    return answer


def headers_only(answer: Schema) -> Schema:
    """The same response as HEAD gives it: status and headers, no body."""
    return {key: value for key, value in answer.items() if key != "content"}


def header_components() -> dict[str, Schema]:
    """Response headers shared by the operations."""
    return {
        "X-Request-Id": {
            "description": "The request's id (the caller's, when it sent a plain one of "
            "8-128 characters), also written to the server's logs.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{8,128}$"},
        },
        "Link": {
            "description": "Present when `limit` cut the list: the same query with `after_id` "
            "set to the last `message_id` returned.",
            "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next"$'},
        },
        "Retry-After": {
            "description": "Seconds to wait before the token may call again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
        "Allow": {
            "description": "The methods the path answers.",
            "required": True,
            "schema": {"type": "string"},
        },
    }


def messages_envelope(info: Schema, data: Schema | None = None) -> Schema:
    """The Messages API's error envelope `{"success": false, "info": ..., "data": {}}`."""
    return closed(
        {
            "success": {"const": False},
            "info": info,
            "data": data or {"type": "object", "maxProperties": 0},
        }
    )


def sell_envelope(status: str, codes: list[str]) -> Schema:
    """Sell's error envelope for one status (`"404 Not Found"`) and its possible codes."""
    error = closed(
        {
            "code": {"enum": codes},
            "message": {"type": "string"},
            "details": {"type": "string"},
        }
    )
    item = closed({"error": error, "meta": closed({"type": {"const": "error"}})})
    meta = closed(
        {
            "type": {"const": "errors"},
            "http_status": {"const": status},
            "logref": {
                "type": "string",
                "description": "Equal to the response's X-Request-Id.",
            },
        }
    )
    return closed({"errors": {"type": "array", "items": item, "minItems": 1}, "meta": meta})
