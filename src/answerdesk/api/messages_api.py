"""`/v1/messages` and `/v2/messages`: the clients' read-only Messages API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from answerdesk.accounts import Account, get_account
from answerdesk.api.auth import client_from_headers
from answerdesk.api.params import parse_id, parse_list_params
from answerdesk.api.responses import JSON_TYPE, JSONBytesResponse
from answerdesk.config import Settings
from answerdesk.errors import MessageNotFound
from answerdesk.messages import (
    ListQuery,
    get_message,
    has_more,
    iter_message_rows,
    local_day_range,
    message_json,
)
from answerdesk.store.engine import read_transaction


def _caller_account(request: Request) -> tuple[Engine, Account]:
    engine: Engine = request.app.state.engine
    principal = client_from_headers(engine, request)
    assert principal.account_id is not None  # client users always have one
    with read_transaction(engine) as connection:
        account = get_account(connection, account_id=principal.account_id)
    return engine, account


def _json_array(chunks: Iterator[list[Any]], account: Account) -> Iterator[bytes]:
    zone = account.zone
    number = account.number
    yield b"["
    first = True
    for rows in chunks:
        body = b",".join(message_json(row, account_number=number, zone=zone) for row in rows)
        yield body if first else b"," + body
        first = False
    yield b"]"


def list_messages(request: Request) -> Response:
    """Every message of the caller's account, oldest first, streamed."""
    engine, account = _caller_account(request)
    params = parse_list_params(request.query_params)
    query = ListQuery(
        account_id=account.id,
        days=local_day_range(account.zone, params.from_date, params.to_date),
        after_id=params.after_id,
        limit=params.limit,
    )
    settings: Settings = request.app.state.settings
    if request.method == "HEAD":
        return Response(media_type=JSON_TYPE)
    if query.limit is None:
        chunks = iter_message_rows(engine, query, chunk_size=settings.stream_chunk_size)
        return StreamingResponse(_json_array(chunks, account), media_type=JSON_TYPE)
    # A page of at most 1000: read it whole, so the Link header can say
    # whether there is more before the body starts.
    rows = [
        row for chunk in iter_message_rows(engine, query, chunk_size=query.limit) for row in chunk
    ]
    headers = {}
    if len(rows) == query.limit and has_more(engine, query, rows[-1].id):
        next_url = request.url.include_query_params(after_id=rows[-1].id)
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = b"".join(_json_array(iter([rows]) if rows else iter([]), account))
    return JSONBytesResponse(body, headers=headers)


def show_message(request: Request) -> Response:
    """One message of the caller's account; any other id is not found."""
    engine, account = _caller_account(request)
    message_id = parse_id(request.path_params["message_id"])
    if message_id is None:
        raise MessageNotFound()
    with read_transaction(engine) as connection:
        row = get_message(connection, account_id=account.id, message_id=message_id)
    if request.method == "HEAD":
        return Response(media_type=JSON_TYPE)
    return JSONBytesResponse(message_json(row, account_number=account.number, zone=account.zone))


def routes() -> list[BaseRoute]:
    """The Messages API under both version prefixes (same resource, same behaviour)."""
    return [
        route
        for version in ("v1", "v2")
        for route in (
            Route(f"/{version}/messages", list_messages, methods=["GET", "HEAD"]),
            Route(f"/{version}/messages/{{message_id}}", show_message, methods=["GET", "HEAD"]),
        )
    ]
