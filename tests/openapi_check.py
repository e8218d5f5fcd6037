"""Hold a real response to what the OpenAPI document says of it.

`assert_documented(response, "GET", "/v1/messages")` finds the operation's
answer for the response's status (or a named `components.responses` entry
for answers no single operation owns: an unknown path, a wrong method) and
checks the required headers, every documented header's value, the exact
Content-Type, and the body against the JSON Schema, `additionalProperties:
false` included.
"""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft202012Validator

from answerdesk.api.openapi import document

Schema = dict[str, Any]


def resolve(node: Schema) -> Schema:
    """Follow `#/components/...` references."""
    while "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validate(instance: Any, schema: Schema) -> None:
    """Validate against a schema of the document, its `$ref`s resolved within it."""
    wrapped = {**schema, "components": document()["components"]}
    errors = sorted(Draft202012Validator(wrapped).iter_errors(instance), key=str)
    assert not errors, "\n".join(
        f"{list(error.absolute_path)}: {error.message}" for error in errors[:5]
    )


def documented_answer(method: str, path: str, status: int) -> Schema:
    operation = document()["paths"][path][method.lower()]
    answers = operation["responses"]
    assert str(status) in answers, f"{method} {path} answered an undocumented {status}"
    return resolve(answers[str(status)])


def _header_value(value: str, schema: Schema) -> Any:
    return int(value) if schema.get("type") == "integer" and value.isdigit() else value


def assert_documented(
    response: httpx.Response, method: str, path: str | None = None, *, component: str | None = None
) -> Any:
    """Check the response against its documented answer; return the parsed body (or None)."""
    if component is not None:
        answer = resolve(document()["components"]["responses"][component])
    else:
        assert path is not None
        answer = documented_answer(method, path, response.status_code)
    for name, header in answer.get("headers", {}).items():
        header = resolve(header)
        if name not in response.headers:
            assert not header.get("required"), f"missing required header {name}"
            continue
        validate(_header_value(response.headers[name], header["schema"]), header["schema"])
    content = answer.get("content")
    if content is None:
        assert method == "HEAD" or not response.content, "a body the document does not describe"
        return None
    [(media_type, media)] = content.items()
    assert response.headers["content-type"] == media_type
    body = response.json()
    validate(body, media["schema"])
    return body
