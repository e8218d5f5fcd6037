"""`/v1/messages` and `/v2/messages`: the clients' read-only Messages API."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from answerdesk.accounts import get_account
from answerdesk.api.auth import client_from_headers
from answerdesk.api.params import parse_id, parse_list_params
from answerdesk.api.responses import JSON_TYPE, JSONBytesResponse
from answerdesk.config import Settings
from answerdesk.errors import MessageNotFound
from answerdesk.messages import (
    ListQuery,
    WireChunk,
    has_more,
    iter_wire_chunks,
    local_day_range,
    message_wire,
)
from answerdesk.store.engine import read_transaction


def _json_array(first: WireChunk, chunks: Iterator[WireChunk]) -> Iterator[bytes]:
    """The rest of a streamed list: brackets ride on the chunks, so no extra round trips."""
    yield b"[" + first.body
    last = first.last
    for chunk in chunks:
        last = chunk.last
        yield b"," + chunk.body + (b"]" if last else b"")
    if not last:
        yield b"]"  # the list ended exactly on a full chunk


def list_messages(request: Request) -> Response:
    """Every message of the caller's account, oldest first, streamed.

    The first chunk is read before answering: a list that fits in it (every
    date-range or polling request of ordinary size) is sent whole, with a
    Content-Length and none of a stream's per-chunk thread hand-offs.
    """
    engine: Engine = request.app.state.engine
    principal = client_from_headers(engine, request)
    assert principal.account_id is not None  # client users always have one
    settings: Settings = request.app.state.settings
    with read_transaction(engine) as connection:
        account = get_account(connection, account_id=principal.account_id)
        params = parse_list_params(request.query_params)
        query = ListQuery(
            account_id=account.id,
            days=local_day_range(account.zone, params.from_date, params.to_date),
            after_id=params.after_id,
            limit=params.limit,
        )
        head = request.method == "HEAD"
        if head and query.limit is None:
            return Response(media_type=JSON_TYPE)  # nothing to read for a full list's head
        chunks = iter_wire_chunks(
            engine,
            query,
            number=account.number,
            timezone=account.timezone,
            chunk_size=settings.stream_chunk_size if query.limit is None else query.limit,
            connection=connection,
        )
        first = next(chunks, None)
    if first is None:
        return Response(media_type=JSON_TYPE) if head else JSONBytesResponse(b"[]")
    if query.limit is None:
        if first.last:
            return JSONBytesResponse(b"[" + first.body + b"]")
        return StreamingResponse(_json_array(first, chunks), media_type=JSON_TYPE)
    # A page of at most 1000, read whole (one chunk of `limit`), so the Link
    # header can say whether there is more before the body starts.
    headers = {}
    if first.count == query.limit and has_more(engine, query, first.last_id):
        next_url = request.url.include_query_params(after_id=first.last_id)
        headers["Link"] = f'<{next_url}>; rel="next"'
    if head:  # the page was read so HEAD carries the Link header GET does
        return Response(media_type=JSON_TYPE, headers=headers)
    return JSONBytesResponse(b"[" + first.body + b"]", headers=headers)


def show_message(request: Request) -> Response:
    """One message of the caller's account; any other id is not found.

    The common case (a GET with a token verified moments ago) never gets
    here: the fast path (api/fastpath.py) answers it. This is the full
    path for the rest, run in the thread pool like every sync endpoint.
    """
    engine: Engine = request.app.state.engine
    principal = client_from_headers(engine, request)
    assert principal.account_id is not None  # client users always have one
    message_id = parse_id(request.path_params["message_id"])
    if message_id is None:
        raise MessageNotFound()
    body = message_wire(engine, account_id=principal.account_id, message_id=message_id)
    if request.method == "HEAD":
        return Response(media_type=JSON_TYPE)
    return JSONBytesResponse(body)


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
