"""`GET /v2/text_messages` answers byte for byte as its SQLAlchemy rendering did.

The list is read in one statement on the driver's cursor and rendered by the
single text message's function. The other Sell tests compare parsed JSON;
these compare the bytes against a frozen copy of the previous rendering
(SQLAlchemy rows from `list_text_messages`, open deals read in a second
query, the old per-row dict), over pages, sizes, orders and filters, on both
databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.testclient import TestClient

from answerdesk.accounts import Account
from answerdesk.api import sell, sell_params
from answerdesk.crm.deals import CLOSED_STAGES, create_deal
from answerdesk.crm.paging import PageRequest
from answerdesk.crm.records import RecordRef
from answerdesk.crm.text_messages import TextMessageQuery, api_page, list_text_messages
from answerdesk.crm.wire import iso_utc
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import deals, text_messages
from tests.crm_support import add_contact, carry_all, text_messages_of
from tests.factories import ClientLogin, Desk


def _previous_data(row: Any, deal_ids: list[int]) -> dict[str, Any]:
    """The text message object as the SQLAlchemy path rendered it."""
    sent_at = iso_utc(row.sent_at)
    return {
        "id": row.id,
        "user_id": row.user_id,
        "user_phone_number": row.user_phone_number,
        "content": row.content,
        "incoming": bool(row.incoming),
        "resource_phone_number": row.resource_phone_number,
        "resource_type": row.resource_type,
        "resource_id": None if row.resource_type == "none" else row.resource_id,
        "associated_deal_ids": deal_ids,
        "sent_at": sent_at,
        "send_at": sent_at,
        "updated_at": iso_utc(row.updated_at),
        "created_at": iso_utc(row.created_at),
    }


def _record(row: Any) -> RecordRef | None:
    if row.resource_type in ("lead", "contact") and row.resource_id is not None:
        return RecordRef(row.resource_type, row.resource_id)
    return None


def _open_deals(connection: sa.Connection, rows: list[Any]) -> dict[RecordRef, list[int]]:
    """Each record's open deal ids, ascending, as the second query read them."""
    refs = {ref for row in rows if (ref := _record(row))}
    found: dict[RecordRef, list[int]] = {}
    if not refs:
        return found
    query = (
        sa.select(deals.c.id, deals.c.lead_id, deals.c.contact_id)
        .where(deals.c.stage.not_in(CLOSED_STAGES))
        .order_by(deals.c.id)
    )
    for deal_id, lead_id, contact_id in connection.execute(query):
        ref = (
            RecordRef("lead", lead_id) if lead_id is not None else RecordRef("contact", contact_id)
        )
        if ref in refs:
            found.setdefault(ref, []).append(deal_id)
    return found


def _request(target: str) -> Request:
    """A request for `target` as the test client sends it (host `testserver`)."""
    parts = urlsplit(target)
    scope = {
        "type": "http", "method": "GET", "scheme": "http", "path": parts.path, "root_path": "",
        "query_string": parts.query.encode(), "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
    }  # fmt: skip
    return Request(scope)


def _previous_body(engine: Engine, account_id: int, target: str) -> bytes:
    """The whole answer of the previous rendering: SQLAlchemy rows, then the envelope."""
    request = _request(target)
    params = request.query_params
    _field, descending = sell_params.sort_by(params, ("id",), descending=True)
    query = TextMessageQuery(
        account_id=account_id,
        page=sell_params.page_request(params),
        ids=sell_params.ids(params),
        resource=sell_params.resource(params),
        descending=descending,
    )
    with read_transaction(engine) as connection:
        page = list_text_messages(connection, query)
        found = _open_deals(connection, page.rows)
    items = [
        {
            "data": _previous_data(row, found.get(ref, []) if (ref := _record(row)) else []),
            "meta": {"type": "text_message"},
        }
        for row in page.rows
    ]
    return bytes(sell._collection(request, items, query.page, page).body)


def _populate(engine: Engine, desk: Desk, account: Account, login: ClientLogin) -> dict[str, int]:
    """Texts to contacts, leads and nobody, with open and closed deals and odd values."""
    contact_id = add_contact(engine, account.id, phone="+16175550123")
    other = desk.account()
    desk.take(other, "another account's", phone="617 555 0123")
    for number in range(9):
        phone = ("617 555 0123", "617 555 0199", "617 555 0142", None)[number % 4]
        data = {"phone": phone} if phone else {}
        desk.take(account, f'message {number} "quoted" é ✓ 😀\nline\t\\ </script>', **data)
    desk.take(account, "early", created_at="0005-01-01T12:00:00+00:00")
    desk.take(account, "dated", created_at="2024-03-10T01:59:59")
    carry_all(engine)
    texts = text_messages_of(engine, account.id)
    lead_id = next(t.resource_id for t in texts if t.resource_type == "lead")
    contact = RecordRef("contact", contact_id)
    lead = RecordRef("lead", lead_id)
    with write_transaction(engine) as connection:
        for record, name, stage in (
            (contact, "a", "open"), (contact, "b", "won"), (contact, "c", "open"),
            (lead, "d", "lost"), (lead, "e", "open"),
        ):  # fmt: skip
            create_deal(connection, account_id=account.id, record=record, name=name, stage=stage)
        change = text_messages.update().where(text_messages.c.id == texts[1].id)
        connection.execute(change.values(user_id=login.user.id, incoming=False))
        orphan = text_messages.update().where(text_messages.c.id == texts[2].id)
        connection.execute(orphan.values(resource_id=None))
        # A fraction of a second is dropped, never rounded up into the next second.
        late = datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
        edited = text_messages.update().where(text_messages.c.id == texts[3].id)
        connection.execute(edited.values(updated_at=late, sent_at=late - timedelta(hours=5)))
    foreign = text_messages_of(engine, other.id)[0].id
    return {"contact": contact_id, "lead": lead_id, "first": texts[0].id,
            "last": texts[-1].id, "foreign": foreign}  # fmt: skip


def _targets(ids: dict[str, int]) -> list[str]:
    first, last, foreign = ids["first"], ids["last"], ids["foreign"]
    plain = [
        f"/v2/text_messages?page={page}&per_page={size}{order}"
        for size in (1, 2, 3, 4, 25, 100)
        for page in (1, 2, 3, 4, 12)
        for order in ("", "&sort_by=id", "&sort_by=id:asc", "&sort_by=id:desc")
    ]
    filtered = [
        f"/v2/text_messages?ids={first},{last},{foreign},{first + 3}",
        f"/v2/text_messages?ids={first}&ids={last},{first + 1}&per_page=1&page=2",
        f"/v2/text_messages?ids={first},{last}&per_page=1&page=3&sort_by=id:asc",
        f"/v2/text_messages?resource_type=contact&resource_id={ids['contact']}",
        f"/v2/text_messages?resource_type=lead&resource_id={ids['lead']}&per_page=1&page=2",
        f"/v2/text_messages?resource_type=contact&resource_id={ids['contact']}&sort_by=id:asc"
        f"&ids={first},{first + 4},{last}",
        f"/v2/text_messages?resource_type=lead&resource_id={ids['contact'] + 999}",
        f"/v2/text_messages?ids={foreign}",
    ]
    others = [
        "/v2/text_messages", "/v2/text_messages.json?per_page=4&page=2&unknown=x%20y",
        "/v2/text_messages?page=1000&per_page=100", "/v2/text_messages?per_page=100&page=1",
    ]  # fmt: skip
    return plain + filtered + others


def test_list_bytes_match_the_previous_rendering(
    http: TestClient, engine: Engine, desk: Desk
) -> None:
    account = desk.account()
    login = desk.client_of(account)
    ids = _populate(engine, desk, account, login)
    seen_deals = seen_next = 0
    for target in _targets(ids):
        response = http.get(target, headers=login.bearer)
        assert response.status_code == 200, (target, response.text)
        assert response.content == _previous_body(engine, account.id, target), target
        body = response.json()
        seen_deals += any(item["data"]["associated_deal_ids"] for item in body["items"])
        seen_next += "next_page" in body["meta"]["links"]
    assert seen_deals and seen_next  # the data exercised deals and further pages


def test_an_empty_account_lists_the_same_bytes(
    http: TestClient, engine: Engine, desk: Desk
) -> None:
    account = desk.account()
    login = desk.client_of(account)
    for target in (
        "/v2/text_messages",
        "/v2/text_messages?sort_by=id:asc&page=2",
        "/v2/text_messages?ids=1",
    ):
        response = http.get(target, headers=login.bearer)
        assert response.content == _previous_body(engine, account.id, target), target


@pytest.mark.parametrize("descending", [True, False])
def test_a_thousand_ids_are_one_statement(engine: Engine, desk: Desk, descending: bool) -> None:
    """The most ids a request may name (`sell_params.MAX_IDS`) fit in one statement."""
    account = desk.account()
    query = TextMessageQuery(
        account_id=account.id,
        page=PageRequest(1, 100),
        ids=list(range(1, sell_params.MAX_IDS + 1)),
        descending=descending,
    )
    assert api_page(engine, query).rows == []
