"""The Zendesk Sell compatible API (CONTRACT §2, §3) as OpenAPI paths."""

from __future__ import annotations

from answerdesk.api.openapi.shared import (
    FILTER,
    MAX_ID,
    WHITESPACE,
    Schema,
    ref,
    response,
    sell_envelope,
)
from answerdesk.api.sell_params import MAX_IDS
from answerdesk.crm.paging import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from answerdesk.crm.people import SORT_FIELDS

SECURITY: list[dict[str, list[str]]] = [{"clientBearer": []}]
_ID = f"[{WHITESPACE}]*[0-9]{{1,18}}[{WHITESPACE}]*"
IDS = f"^{_ID}(,{_ID}){{0,{MAX_IDS - 1}}}$"


#: How `sell_params.single` reads every one-valued parameter.
SINGLE = (
    " Whitespace around the value is ignored; an empty or repeated value, or one with NUL,"
    " is a 400."
)


def _query(name: str, description: str, schema: Schema, example: object = None) -> Schema:
    if name != "ids":
        description += SINGLE
    parameter: Schema = {"name": name, "in": "query", "description": description, "schema": schema}
    if example is not None:
        parameter["example"] = example
    return parameter


def parameters() -> dict[str, Schema]:
    """Query and path parameters of the Sell-compatible API."""
    people_sorts = [f"{field}{suffix}" for field in SORT_FIELDS for suffix in ("", ":asc", ":desc")]
    return {
        "Page": _query(
            "page",
            "Page number, from 1. A page past the end is an empty page.",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            1,
        ),
        "PerPage": _query(
            "per_page",
            "Records per page.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PER_PAGE,
                "default": DEFAULT_PER_PAGE,
            },
            25,
        ),
        "Ids": _query(
            "ids",
            f"Comma-separated ids (spaces around each ignored), at most {MAX_IDS}. Repeated "
            "`ids=a&ids=b` means the union.",
            {"type": "string", "pattern": IDS},
            "1,2,3",
        ),
        "ResourceType": _query(
            "resource_type",
            "Only text messages attached to this kind of record; requires `resource_id`.",
            {"enum": ["lead", "contact"]},
            "lead",
        ),
        "ResourceId": _query(
            "resource_id",
            "Only text messages attached to this record; requires `resource_type`.",
            {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            1,
        ),
        "TextSortBy": _query(
            "sort_by",
            "`id` and no `sort_by` sort descending, as Sell's document says.",
            {"enum": ["id", "id:asc", "id:desc"], "default": "id"},
            "id:asc",
        ),
        "PeopleSortBy": _query(
            "sort_by",
            "Without a suffix, and by default (`id`), ascending.",
            {"enum": people_sorts, "default": "id"},
            "id",
        ),
        "Phone": _query(
            "phone",
            "Any format, normalised with the account's region; matches `phone` or `mobile`.",
            {"type": "string", "pattern": FILTER},
            "+16175550123",
        ),
        "Email": _query(
            "email",
            "Matches `email` case-insensitively.",
            {"type": "string", "pattern": FILTER},
            "jane@example.com",
        ),
        "RecordId": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "A record of the caller's account; any other value is `not_found`.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "example": 1,
        },
    }


def responses() -> dict[str, Schema]:
    """Sell's error answers, one per status, each naming its possible codes."""
    retry = {"Retry-After": ref("headers", "Retry-After")}
    return {
        "SellBadParameter": response(
            "A malformed `page`, `per_page`, `ids`, `sort_by`, filter or resource pair.",
            sell_envelope("400 Bad Request", ["invalid_param"]),
        ),
        "SellUnauthorized": response(
            "A missing, unknown, revoked or expired token, or one that is not a client's.",
            sell_envelope("401 Unauthorized", ["unauthorized"]),
        ),
        "SellNotFound": response(
            "No such record in the caller's account (or an id that is not a number).",
            sell_envelope("404 Not Found", ["not_found"]),
        ),
        "SellRateLimited": response(
            "Too many requests for this token.",
            sell_envelope("429 Too Many Requests", ["rate_limit_exceeded"]),
            headers=retry,
        ),
        "SellInternalError": response(
            "Anything unexpected.", sell_envelope("500 Internal Server Error", ["server_error"])
        ),
        "SellMethodNotAllowed": response(
            "Any method a path does not list.",
            sell_envelope("405 Method Not Allowed", ["method_not_allowed"]),
            headers={"Allow": ref("headers", "Allow")},
        ),
        "SellIncorrectPath": response(
            "An unknown path under the Sell prefixes, or under `/v2/` with a Bearer token.",
            sell_envelope("404 Not Found", ["incorrect_path"]),
        ),
    }


def _operation(
    operation_id: str, summary: str, parameters: list[str], ok: Schema, *, single: bool
) -> Schema:
    answers: dict[str, Schema] = {"200": response("OK.", ok)}
    if not single:
        answers["400"] = ref("responses", "SellBadParameter")
    answers["401"] = ref("responses", "SellUnauthorized")
    if single:
        answers["404"] = ref("responses", "SellNotFound")
    answers["429"] = ref("responses", "SellRateLimited")
    answers["500"] = ref("responses", "SellInternalError")
    return {
        "get": {
            "tags": ["Text Messages API (Sell)"],
            "operationId": operation_id,
            "summary": summary,
            "description": "HEAD is answered like GET, without a body.",
            "security": SECURITY,
            "parameters": [*(ref("parameters", name) for name in parameters), _request_id()],
            "responses": answers,
        }
    }


def _request_id() -> Schema:
    return ref("parameters", "RequestId")


def paths() -> dict[str, Schema]:
    """Text messages (with the `.json` alias), leads and contacts: lists and singles."""
    text_list = ["Page", "PerPage", "Ids", "ResourceType", "ResourceId", "TextSortBy"]
    people_list = ["Page", "PerPage", "Ids", "Phone", "Email", "PeopleSortBy"]
    found: dict[str, Schema] = {
        "/v2/text_messages": _operation(
            "listTextMessages",
            "Retrieve all text messages",
            text_list,
            ref("schemas", "TextMessageCollection"),
            single=False,
        ),
        "/v2/text_messages.json": _operation(
            "listTextMessagesJson",
            "Retrieve all text messages (the `.json` form of Sell's `self` link)",
            text_list,
            ref("schemas", "TextMessageCollection"),
            single=False,
        ),
        "/v2/text_messages/{id}": _operation(
            "getTextMessage",
            "Retrieve a single text message",
            ["RecordId"],
            ref("schemas", "TextMessageItem"),
            single=True,
        ),
    }
    for kind in ("lead", "contact"):
        title = kind.title()
        found[f"/v2/{kind}s"] = _operation(
            f"list{title}s",
            f"Retrieve all {kind}s",
            people_list,
            ref("schemas", f"{title}Collection"),
            single=False,
        )
        found[f"/v2/{kind}s/{{id}}"] = _operation(
            f"get{title}",
            f"Retrieve a single {kind}",
            ["RecordId"],
            ref("schemas", f"{title}Item"),
            single=True,
        )
    return found
