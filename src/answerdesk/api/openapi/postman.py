"""Turn the OpenAPI document into a Postman Collection v2.1 (the seeds' "Run in Postman").

Generated from the document rather than written by hand, so a request the
document gains shows up in Postman without anyone remembering to add it.
One folder per API (the document's tags); credentials come from collection
variables: `{{email}}` and `{{token}}` for the client, `{{agentToken}}` for
taking messages, `{{baseUrl}}` for the server.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from answerdesk.api.openapi.shared import Schema

SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
METHODS = ("get", "head", "post", "put", "patch", "delete")
#: Which collection variable holds each security scheme's credential.
SCHEME_VARIABLES = {
    "apiEmail": "email",
    "apiToken": "token",
    "clientBearer": "token",
    "agentBearer": "agentToken",
}


def _resolve(document: Schema, node: Schema) -> Schema:
    """Follow a local `$ref` (the document only uses `#/components/...`)."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _example(parameter: Schema) -> str:
    value = parameter.get("example", parameter.get("schema", {}).get("default", ""))
    return value if isinstance(value, str) else json.dumps(value)


def _auth(document: Schema, security: list[dict[str, list[str]]]) -> tuple[Schema, list[Schema]]:
    """Return a folder's auth and the headers each of its requests carries.

    A bearer scheme becomes the folder's bearer auth. API-key headers become
    request headers: Postman's `apikey` auth sets one header, and the
    Messages API needs two (X-API-EMAIL and X-API-TOKEN).
    """
    auth: Schema = {"type": "noauth"}
    headers: list[Schema] = []
    schemes = document["components"]["securitySchemes"]
    for name in security[0] if security else {}:
        scheme = schemes[name]
        variable = "{{" + SCHEME_VARIABLES[name] + "}}"
        if scheme["type"] == "http" and scheme["scheme"] == "bearer":
            token = {"key": "token", "value": variable, "type": "string"}
            auth = {"type": "bearer", "bearer": [token]}
        elif scheme["type"] == "apiKey" and scheme["in"] == "header":
            headers.append({"key": scheme["name"], "value": variable, "type": "text"})
    return auth, headers


def _request(document: Schema, path: str, method: str, operation: Schema) -> Schema:
    """One Postman request; optional query parameters and headers are off until switched on."""
    parameters = [_resolve(document, p) for p in operation.get("parameters", [])]
    _auth_unused, headers = _auth(document, operation.get("security", []))
    query: list[Schema] = []
    path_variables: list[Schema] = []
    for parameter in parameters:
        entry = {"key": parameter["name"], "value": _example(parameter)}
        if parameter.get("description"):
            entry["description"] = parameter["description"]
        if parameter["in"] == "path":
            path_variables.append(entry)
        elif parameter["in"] == "query":
            query.append({**entry, "disabled": not parameter.get("required", False)})
        elif parameter["in"] == "header":
            headers.append({**entry, "type": "text", "disabled": not parameter.get("required")})
    segments = [
        f":{segment[1:-1]}" if segment.startswith("{") else segment
        for segment in path.strip("/").split("/")
    ]
    raw = "{{baseUrl}}/" + "/".join(segments)
    url: Schema = {"raw": raw, "host": ["{{baseUrl}}"], "path": segments}
    if query:
        url["query"] = query
    if path_variables:
        url["variable"] = path_variables
    request: Schema = {
        "method": method.upper(),
        "header": headers,
        "url": url,
        "description": operation.get("description", ""),
    }
    body = operation.get("requestBody")
    if body is not None:
        media, content = next(iter(body["content"].items()))
        examples = _resolve(document, content["schema"]).get("examples", [{}])
        headers.append({"key": "Content-Type", "value": media, "type": "text"})
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(examples[0], indent=2),
            "options": {"raw": {"language": "json"}},
        }
    return {"name": operation["summary"], "request": request, "response": []}


def build_collection(document: Schema, *, base_url: str) -> Schema:
    """Return the collection: a folder per tag, in the document's tag order."""
    folders: dict[str, Schema] = {
        tag["name"]: {"name": tag["name"], "description": tag["description"], "item": []}
        for tag in document["tags"]
    }
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            folder = folders[operation["tags"][0]]
            folder["auth"], _headers = _auth(document, operation.get("security", []))
            folder["item"].append(_request(document, path, method, operation))
    info = document["info"]
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"answerdesk:{info['version']}")),
            "name": info["title"],
            "description": info["description"],
            "version": info["version"],
            "schema": SCHEMA_URL,
        },
        "item": [folder for folder in folders.values() if folder["item"]],
        "auth": {"type": "noauth"},
        "variable": [
            {"key": "baseUrl", "value": base_url, "type": "string"},
            {"key": "email", "value": "", "type": "string"},
            {"key": "token", "value": "", "type": "string"},
            {"key": "agentToken", "value": "", "type": "string"},
        ],
    }
