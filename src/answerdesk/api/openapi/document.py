"""Assemble the OpenAPI 3.1 document of answerdesk's public HTTP APIs."""

from __future__ import annotations

from answerdesk import __version__
from answerdesk.api.openapi import agent, messages, sell
from answerdesk.api.openapi.schemas import all_schemas
from answerdesk.api.openapi.shared import Schema, header_components

DESCRIPTION = """\
answerdesk serves three APIs from one server (see docs/api.md):

* **Messages API v1 / v2** (`/v1/messages`, `/v2/messages`): clients read their
  messages with `X-API-EMAIL` + `X-API-TOKEN`. As the vendors' documents say,
  bad credentials of any kind are `404 {"success": false, "info": "Invalid
  token", "data": {}}`, not 401.
* **Text Messages API** (`/v2/text_messages`, `/v2/leads`, `/v2/contacts`):
  Zendesk Sell compatible, `Authorization: Bearer` with a client's token.
* **Agent API** (`/agent/v1/...`): phone systems take messages with an agent's
  or admin's token.

Every response carries `X-Request-Id`. A method a path does not list is a 405
with `Allow` (`MessagesMethodNotAllowed` or `SellMethodNotAllowed`); an unknown
path is `MessagesUnknownPath` or `SellIncorrectPath`. Unknown query parameters
are ignored; a credential in the query string (`token`, `api_token`,
`access_token`, ...) is refused as bad credentials.
"""

TAGS = [
    {"name": "Messages API v1", "description": "Answering Service Care Messages API v1."},
    {"name": "Messages API v2", "description": "Berkshire Receptionists Messages API v2."},
    {
        "name": "Text Messages API (Sell)",
        "description": "Zendesk Sell compatible text messages, leads and contacts.",
    },
    {"name": "Agent API", "description": "Taking messages over HTTP."},
    {"name": "Health", "description": "Probes for load balancers and orchestrators."},
]


def _security_schemes() -> dict[str, Schema]:
    return {
        "apiEmail": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-EMAIL",
            "description": "The client user's e-mail (case-insensitive).",
        },
        "apiToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-TOKEN",
            "description": "That user's API token (64 characters).",
        },
        "clientBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A client user's API token (the same tokens as X-API-TOKEN).",
        },
        "agentBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An agent's or admin's API token.",
        },
    }


def build_document() -> Schema:
    """Return the whole document as plain JSON-ready data."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "answerdesk APIs",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/", "description": "This server."}],
        "tags": TAGS,
        "paths": {
            **messages.paths(),
            **sell.paths(),
            **agent.paths(),
            **messages.health_paths(),
        },
        "components": {
            "schemas": {**all_schemas(), "MessageInput": agent.message_input()},
            "parameters": {
                **messages.parameters(),
                **sell.parameters(),
                **agent.parameters(),
            },
            "headers": header_components(),
            "responses": {**messages.responses(), **sell.responses()},
            "securitySchemes": _security_schemes(),
        },
    }
