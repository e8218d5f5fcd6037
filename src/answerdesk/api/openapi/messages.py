"""The Messages API v1/v2 (CONTRACT §1) and the health probes, as OpenAPI paths."""

from __future__ import annotations

from answerdesk.api.openapi.shared import (
    MAX_ID,
    Schema,
    headers_only,
    messages_envelope,
    ref,
    response,
)
from answerdesk.api.params import MAX_LIMIT

SECURITY: list[dict[str, list[str]]] = [{"apiEmail": [], "apiToken": []}]
DATE = "^[0-9]{2}-[0-9]{2}-[0-9]{4}$"
BAD_PARAMETER = "^Invalid (from_date|to_date|after_id|limit|date range): expected "


def parameters() -> dict[str, Schema]:
    """Query and path parameters of the Messages API."""

    def date(name: str, side: str, example: str) -> Schema:
        return {
            "name": name,
            "in": "query",
            "description": f"Only messages created on or {side} this calendar day in the "
            "account's time zone. Strictly `MM-DD-YYYY`; a date that does not exist, an "
            "empty value, a repeated parameter or `from_date` after `to_date` is a 400.",
            "schema": {"type": "string", "pattern": DATE},
            "example": example,
        }

    return {
        "FromDate": date("from_date", "after", "03-01-2024"),
        "ToDate": date("to_date", "before", "03-31-2024"),
        "AfterId": {
            "name": "after_id",
            "in": "query",
            "description": "Extension: only messages with `message_id` greater than this; "
            "the list is then ordered by `message_id`.",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "example": 0,
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "description": "Extension: at most this many messages, ordered by `message_id`; "
            "a `Link` header points to the rest.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "example": 100,
        },
        "MessageId": {
            "name": "message_id",
            "in": "path",
            "required": True,
            "description": "A message of the caller's account. Any other value (another "
            "account's id, not a number) is `Message not found`.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "example": 1,
        },
        "RequestId": {
            "name": "X-Request-Id",
            "in": "header",
            "description": "Optional. Kept as the response's `X-Request-Id` when it is 8-128 "
            "characters of `[A-Za-z0-9._-]`; any other value is replaced, never refused.",
            "schema": {"type": "string"},
        },
    }


def responses() -> dict[str, Schema]:
    """The Messages API's answers, shared by v1, v2 and the agent API."""
    return {
        "MessagesBadParameter": response(
            "A malformed parameter: the `info` names it and its expected form.",
            messages_envelope({"type": "string", "pattern": BAD_PARAMETER}),
        ),
        "MessagesInvalidToken": response(
            "Bad credentials, whatever the cause (missing, unknown e-mail, wrong, revoked "
            "or expired token, another role's token, a credential in the query string): "
            "always these exact bytes.",
            messages_envelope({"const": "Invalid token"}),
        ),
        "MessageNotFound": response(
            "Bad credentials (as for every operation), or no such message in the account.",
            messages_envelope({"enum": ["Invalid token", "Message not found"]}),
        ),
        "MessagesRateLimited": response(
            "Too many requests for this token.",
            messages_envelope({"const": "Rate limit exceeded"}),
            headers={"Retry-After": ref("headers", "Retry-After")},
        ),
        "MessagesInternalError": response(
            "Anything unexpected (never a stack trace).",
            messages_envelope({"const": "Internal error"}),
        ),
        "MessagesMethodNotAllowed": response(
            "Any method a path does not list (answered for every path, so not repeated "
            "under each operation).",
            messages_envelope({"const": "Method not allowed"}),
            headers={"Allow": ref("headers", "Allow")},
        ),
        "MessagesUnknownPath": response(
            "A path no API serves (under `/v2/` with `Authorization: Bearer`, Sell's "
            "`incorrect_path` answers instead).",
            messages_envelope({"const": "Not found"}),
        ),
    }


def _errors(not_found: str, *, head: bool = False) -> dict[str, Schema]:
    answers = {
        "400": ref("responses", "MessagesBadParameter"),
        "404": ref("responses", not_found),
        "429": ref("responses", "MessagesRateLimited"),
        "500": ref("responses", "MessagesInternalError"),
    }
    if not_found == "MessageNotFound":
        del answers["400"]
    if head:
        # A HEAD answer has the GET answer's status and headers and no body.
        return {
            status: headers_only(response("As for GET, without a body.", headers=_headers(status)))
            for status in answers
        }
    return answers


def _headers(status: str) -> dict[str, Schema]:
    return {"Retry-After": ref("headers", "Retry-After")} if status == "429" else {}


LIST_DESCRIPTION = (
    "Every message of the caller's account as one JSON array (not paginated: the documents "
    "have no pagination), oldest first by the second of creation, ties by `message_id`; "
    "with `after_id` or `limit`, by `message_id`."
)
SINGLE_DESCRIPTION = "One message of the caller's account."


def _operation(version: str, *, single: bool, head: bool) -> Schema:
    if single:
        summary, description = "Get a single message", SINGLE_DESCRIPTION
        params = [ref("parameters", "MessageId")]
        ok = response("The message.", ref("schemas", "Message"))
    else:
        summary, description = "Get all messages (optionally in a date range)", LIST_DESCRIPTION
        params = [ref("parameters", name) for name in ("FromDate", "ToDate", "AfterId", "Limit")]
        ok = response(
            "The messages; streamed (no Content-Length) when there is no `limit`.",
            {"type": "array", "items": ref("schemas", "Message")},
            headers={"Link": ref("headers", "Link")},
        )
    if head:
        summary += ": status and headers only"
        description += " HEAD is answered like GET, without a body."
    verb = "head" if head else ("get" if single else "list")
    return {
        "tags": [f"Messages API {version}"],
        "operationId": f"{verb}{'Message' if single else 'Messages'}{version.upper()}",
        "summary": summary,
        "description": description,
        "security": SECURITY,
        "parameters": [*params, ref("parameters", "RequestId")],
        "responses": {
            "200": headers_only(ok) if head else ok,
            **_errors("MessageNotFound" if single else "MessagesInvalidToken", head=head),
        },
    }


def paths() -> dict[str, Schema]:
    """`/v1/messages`, `/v1/messages/{message_id}` and the same under `/v2`."""
    found: dict[str, Schema] = {}
    for version in ("v1", "v2"):
        for single in (False, True):
            path = f"/{version}/messages" + ("/{message_id}" if single else "")
            found[path] = {
                "get": _operation(version, single=single, head=False),
                "head": _operation(version, single=single, head=True),
            }
    return found


def health_paths() -> dict[str, Schema]:
    """`/healthz` (the process answers) and `/readyz` (its database is usable)."""

    def probe(name: str, ok: Schema, extra: dict[str, Schema]) -> Schema:
        operations: Schema = {}
        for method in ("get", "head"):
            answers = {"200": response("Serving.", ok), **extra}
            if method == "head":
                answers = {status: headers_only(answer) for status, answer in answers.items()}
                answers["500"] = response("As for GET, without a body.")
            else:
                answers["500"] = ref("responses", "MessagesInternalError")
            operations[method] = {
                "tags": ["Health"],
                "operationId": f"{method}{name.title()}",
                "summary": f"{name} probe" + (": status only" if method == "head" else ""),
                "security": [],
                "parameters": [ref("parameters", "RequestId")],
                "responses": answers,
            }
        return operations

    not_ready = response(
        "The database is unreachable, or its schema is not the one this code expects.",
        ref("schemas", "NotReady"),
    )
    return {
        "/healthz": probe("healthz", ref("schemas", "Health"), {}),
        "/readyz": probe("readyz", ref("schemas", "Ready"), {"503": not_ready}),
    }
