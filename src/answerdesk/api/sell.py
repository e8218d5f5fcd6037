"""The Zendesk Sell compatible API: `/v2/text_messages`, `/v2/leads`, `/v2/contacts`.

Read-only, Bearer tokens of client users, Sell's envelopes (CONTRACT §2, §3).
The official clients stop paging on an empty page, so a page past the end is
`200` with no items. Errors are raised as domain errors and rendered in
Sell's envelope by `api.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import clock
from answerdesk.accounts import get_account
from answerdesk.api import sell_params
from answerdesk.api.auth import bearer_token, principal_from_bearer, token_cache
from answerdesk.api.responses import JSONBytesResponse
from answerdesk.crm import people, text_messages
from answerdesk.crm.paging import Page, PageRequest
from answerdesk.crm.records import ContactNotFound, LeadNotFound, RecordType
from answerdesk.crm.single import text_message_from_row, text_message_object
from answerdesk.crm.wire import contact_data, lead_data
from answerdesk.errors import InvalidCredentials
from answerdesk.store.engine import is_sqlite, read_transaction
from answerdesk.tokens import hash_token

TEXT_MESSAGE = "text_message"
#: Every list item's `meta`: one shared dict, since orjson only reads it.
_TEXT_META = {"type": TEXT_MESSAGE}


def _account_id(request: Request) -> tuple[Engine, int]:
    """Authenticate the Bearer token; only client users read the CRM."""
    engine: Engine = request.app.state.engine
    principal = principal_from_bearer(engine, request)
    if principal.role != "client" or principal.account_id is None:
        raise InvalidCredentials()
    return engine, principal.account_id


def _link(request: Request, page: int) -> str:
    items = [(key, value) for key, value in request.query_params.multi_items() if key != "page"]
    return str(request.url.replace(query=urlencode([*items, ("page", str(page))])))


def _collection(
    request: Request, items: list[dict[str, Any]], asked: PageRequest, page: Page
) -> Response:
    links = {"self": str(request.url), "first_page": _link(request, 1)}
    if asked.number > 1:
        links["prev_page"] = _link(request, asked.number - 1)
    if page.has_next:
        links["next_page"] = _link(request, asked.number + 1)
    body = {"items": items, "meta": {"type": "collection", "count": len(items), "links": links}}
    return JSONBytesResponse(body)


def _item(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"data": data, "meta": {"type": kind}}


def _cached_bearer(request: Request) -> bool:
    """Tell whether this request's Bearer token was verified moments ago and needs no write."""
    token = bearer_token(request)
    if token is None:
        return False
    principal = token_cache(request).get(hash_token(token))
    return principal is not None and not principal.needs_touch(clock.utcnow())


async def list_text_messages(request: Request) -> Response:
    """`GET /v2/text_messages`: newest first unless `sort_by=id:asc`.

    Like the single text message, on SQLite with a token verified moments
    ago it runs on the event loop: a page is at most 101 indexed rows of a
    local file (~0.3 ms of reading). In the thread pool, `sqlite3` lets go
    of the GIL for every row it steps, and with 32 requests in flight each
    of those became a contended hand-off between threads: ~350 futex calls
    and ~6 ms of system time per page, 6-10x the cost of the whole answer
    on the loop. Anything that may wait (PostgreSQL, a token to look up or
    touch) runs in the thread pool.
    """
    if is_sqlite(request.app.state.engine) and _cached_bearer(request):
        return _list_text_messages(request)
    return await run_in_threadpool(_list_text_messages, request)


def _list_text_messages(request: Request) -> Response:
    """Read the page and its deals in one statement; render each row as the single one is."""
    engine, account_id = _account_id(request)
    params = request.query_params
    _field, descending = sell_params.sort_by(params, ("id",), descending=True)
    query = text_messages.TextMessageQuery(
        account_id=account_id,
        page=sell_params.page_request(params),
        ids=sell_params.ids(params),
        resource=sell_params.resource(params),
        descending=descending,
    )
    page = text_messages.api_page(engine, query)
    items = [{"data": text_message_from_row(row), "meta": _TEXT_META} for row in page.rows]
    return _collection(request, items, query.page, page)


def show_text_message(request: Request) -> Response:
    """`GET /v2/text_messages/{id}`: one of the account's text messages.

    The common case is the fast path's (api/fastpath.py); this is the full
    path for the rest, in the thread pool.
    """
    engine, account_id = _account_id(request)
    text_message_id = sell_params.path_id(request.path_params["id"])
    if text_message_id is None:
        raise text_messages.TextMessageNotFound()
    data = text_message_object(engine, account_id=account_id, text_message_id=text_message_id)
    return JSONBytesResponse(_item(data, TEXT_MESSAGE))


def _people_lister(kind: RecordType) -> Callable[[Request], Response]:
    render = lead_data if kind == "lead" else contact_data

    def list_people(request: Request) -> Response:
        engine, account_id = _account_id(request)
        params = request.query_params
        field, descending = sell_params.sort_by(params, people.SORT_FIELDS, descending=False)
        query = people.PeopleQuery(
            account_id=account_id,
            kind=kind,
            page=sell_params.page_request(params),
            ids=sell_params.ids(params),
            phone=sell_params.single(params, "phone", "a phone number"),
            email=sell_params.single(params, "email", "an e-mail address"),
            sort_field=field,
            descending=descending,
        )
        with read_transaction(engine) as connection:
            region = get_account(connection, account_id=account_id).region
            page = people.list_people(connection, query, region=region)
        items = [_item(render(row), kind) for row in page.rows]
        return _collection(request, items, query.page, page)

    list_people.__doc__ = f"`GET /v2/{kind}s`: the account's {kind}s, oldest first by default."
    return list_people


def _people_shower(kind: RecordType) -> Callable[[Request], Response]:
    render = lead_data if kind == "lead" else contact_data

    def show_person(request: Request) -> Response:
        engine, account_id = _account_id(request)
        record_id = sell_params.path_id(request.path_params["id"])
        if record_id is None:
            raise LeadNotFound() if kind == "lead" else ContactNotFound()
        with read_transaction(engine) as connection:
            row = people.get_person(connection, account_id=account_id, kind=kind, id=record_id)
        return JSONBytesResponse(_item(render(row), kind))

    show_person.__doc__ = f"`GET /v2/{kind}s/{{id}}`: one of the account's {kind}s."
    return show_person


def routes() -> list[BaseRoute]:
    """The Sell-compatible routes (GET; HEAD comes with it)."""
    return [
        Route("/v2/text_messages", list_text_messages, methods=["GET"]),
        Route("/v2/text_messages.json", list_text_messages, methods=["GET"]),
        Route("/v2/text_messages/{id}", show_text_message, methods=["GET"]),
        Route("/v2/leads", _people_lister("lead"), methods=["GET"]),
        Route("/v2/leads/{id}", _people_shower("lead"), methods=["GET"]),
        Route("/v2/contacts", _people_lister("contact"), methods=["GET"]),
        Route("/v2/contacts/{id}", _people_shower("contact"), methods=["GET"]),
    ]
