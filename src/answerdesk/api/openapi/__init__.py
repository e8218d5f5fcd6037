"""`GET /openapi.json` and `GET /postman.json`: the public APIs described as data.

The document is built on the first request and kept (it depends on nothing
but the code); the Postman collection is made from it per request, since its
`{{baseUrl}}` defaults to the address the caller reached us at.
"""

from __future__ import annotations

from functools import cache

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk.api.openapi.document import build_document
from answerdesk.api.openapi.postman import build_collection
from answerdesk.api.openapi.shared import Schema
from answerdesk.api.responses import JSONBytesResponse

__all__ = ["build_collection", "build_document", "document", "routes"]


@cache
def document() -> Schema:
    """The OpenAPI document (built once per process)."""
    return build_document()


@cache
def _document_bytes() -> bytes:
    return orjson.dumps(document())


def openapi_json(request: Request) -> Response:
    """Serve the OpenAPI 3.1 document."""
    return JSONBytesResponse(_document_bytes())


def postman_json(request: Request) -> Response:
    """Serve the Postman collection, its `baseUrl` set to this server."""
    base_url = str(request.base_url).rstrip("/")
    return JSONBytesResponse(build_collection(document(), base_url=base_url))


def routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/postman.json", postman_json, methods=["GET"]),
    ]
