"""`/v2/text_messages`, `/v2/leads`, `/v2/contacts`: the Sell-compatible API (CONTRACT §2, §3)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.accounts import Account
from answerdesk.crm.deals import create_deal
from answerdesk.crm.records import RecordRef
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import deals
from tests.crm_support import add_contact, add_lead, carry_all, text_messages_of
from tests.factories import ClientLogin, Desk

TEXT_KEYS = [
    "id", "user_id", "user_phone_number", "content", "incoming", "resource_phone_number",
    "resource_type", "resource_id", "associated_deal_ids", "sent_at", "send_at", "updated_at",
    "created_at",
]
LEAD_KEYS = [
    "id", "first_name", "last_name", "organization_name", "phone", "mobile", "email", "status",
    "source", "description", "created_at", "updated_at",
]
CONTACT_KEYS = [
    "id", "name", "first_name", "last_name", "is_organization", "organization_name", "phone",
    "mobile", "email", "created_at", "updated_at",
]


def _carried(engine: Engine, desk: Desk, account: Account, count: int, **data: Any) -> list[int]:
    for number in range(count):
        desk.take(account, f"message {number}", **data)
    carry_all(engine)
    return [row.id for row in text_messages_of(engine, account.id)]


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["data"]["id"] for item in response.json()["items"]]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["errors"][0]["error"]["code"] == code
    assert body["errors"][0]["meta"] == {"type": "error"}
    assert body["meta"]["type"] == "errors"
    assert body["meta"]["http_status"].startswith(str(status))
    assert body["meta"]["logref"] == response.headers["x-request-id"]
    return dict(body)


@pytest.fixture
def account(desk: Desk) -> Account:
    return desk.account()


@pytest.fixture
def login(desk: Desk, account: Account) -> ClientLogin:
    return desk.client_of(account)


def test_list_envelope_and_object(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    desk.take(account, "Hello", phone="617 555 0123", created_at="2024-03-15T10:32:05")
    carry_all(engine)
    response = http.get("/v2/text_messages", headers=login.bearer)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["items", "meta"]
    [item] = body["items"]
    assert item["meta"] == {"type": "text_message"}
    data = item["data"]
    assert list(data) == TEXT_KEYS
    assert data["content"] == "Hello"
    assert data["incoming"] is True
    assert data["user_id"] is None
    assert data["user_phone_number"] == "+16175550100"
    assert data["resource_phone_number"] == "+16175550123"
    assert data["resource_type"] == "lead"
    assert data["associated_deal_ids"] == []
    assert data["sent_at"] == data["send_at"] == "2024-03-15T14:32:05Z"
    assert data["created_at"].endswith("Z") and len(data["created_at"]) == 20
    meta = body["meta"]
    assert meta["type"] == "collection"
    assert meta["count"] == 1
    assert list(meta["links"]) == ["self", "first_page"]
    assert meta["links"]["self"] == "http://testserver/v2/text_messages"


def test_json_alias_and_single(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    [text_id] = _carried(engine, desk, account, 1, phone="617 555 0123")
    assert _ids(http.get("/v2/text_messages.json", headers=login.bearer)) == [text_id]
    response = http.get(f"/v2/text_messages/{text_id}", headers=login.bearer)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data", "meta"]
    assert body["meta"] == {"type": "text_message"}
    assert list(body["data"]) == TEXT_KEYS
    assert body["data"]["id"] == text_id


def test_default_order_is_newest_first_and_sort_by(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    ids = _carried(engine, desk, account, 3, phone="617 555 0123")
    newest_first = list(reversed(ids))
    get = lambda query: _ids(http.get(f"/v2/text_messages{query}", headers=login.bearer))  # noqa: E731
    assert get("") == newest_first
    assert get("?sort_by=id") == newest_first
    assert get("?sort_by=id:desc") == newest_first
    assert get("?sort_by=id:asc") == ids


def test_paging_links_and_past_the_end(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    ids = list(reversed(_carried(engine, desk, account, 5)))
    pages = []
    for page in (1, 2, 3):
        response = http.get(f"/v2/text_messages?per_page=2&page={page}", headers=login.bearer)
        pages.append(_ids(response))
        links = response.json()["meta"]["links"]
        assert ("prev_page" in links) == (page > 1)
        assert ("next_page" in links) == (page < 3)
        assert parse_qs(urlsplit(links["first_page"]).query) == {"per_page": ["2"], "page": ["1"]}
        if page < 3:
            assert parse_qs(urlsplit(links["next_page"]).query)["page"] == [str(page + 1)]
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]
    ascending = [
        _ids(http.get(f"/v2/text_messages?per_page=2&page={p}&sort_by=id:asc", headers=login.bearer))
        for p in (1, 2, 3)
    ]
    assert ascending == [ids[::-1][0:2], ids[::-1][2:4], ids[::-1][4:5]]
    past = http.get("/v2/text_messages?per_page=2&page=4", headers=login.bearer)
    assert _ids(past) == []
    assert past.json()["meta"]["count"] == 0
    assert "next_page" not in past.json()["meta"]["links"]
    assert _ids(http.get("/v2/text_messages?page=1000", headers=login.bearer)) == []


def test_default_per_page_is_25_and_max_100(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    _carried(engine, desk, account, 26)
    assert len(_ids(http.get("/v2/text_messages", headers=login.bearer))) == 25
    assert len(_ids(http.get("/v2/text_messages?per_page=100", headers=login.bearer))) == 26


@pytest.mark.parametrize(
    "query",
    [
        "page=0", "page=1001", "page=x", "page=", "page=1&page=2", "per_page=0", "per_page=101",
        "per_page=-1", "ids=a", "ids=1,,2", "ids=", "sort_by=created_at", "sort_by=id:up",
        "resource_type=lead", "resource_id=1", "resource_type=deal&resource_id=1",
        "resource_type=lead&resource_id=x",
    ],
)
def test_bad_parameters_are_invalid_param(
    http: TestClient, login: ClientLogin, query: str
) -> None:
    body = _error(http.get(f"/v2/text_messages?{query}", headers=login.bearer), 400, "invalid_param")
    assert body["meta"]["http_status"] == "400 Bad Request"


def test_ids_filter_comma_separated_and_repeated(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    one, two, three = _carried(engine, desk, account, 3)
    get = lambda query: _ids(http.get(f"/v2/text_messages?{query}", headers=login.bearer))  # noqa: E731
    assert get(f"ids={one},{three}") == [three, one]
    assert get(f"ids={one}&ids={two}") == [two, one]
    assert get(f"ids={one},{two},{three}&per_page=2&page=2") == [one]
    assert get("ids=999999") == []


def test_resource_filter(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    contact_id = add_contact(engine, account.id, phone="+16175550123")
    desk.take(account, phone="617 555 0123")
    desk.take(account, phone="617 555 0199")
    desk.take(account, phone="617 555 0123")
    carry_all(engine)
    texts = text_messages_of(engine, account.id)
    lead_id = texts[1].resource_id
    query = f"/v2/text_messages?resource_type=contact&resource_id={contact_id}"
    assert _ids(http.get(query, headers=login.bearer)) == [texts[2].id, texts[0].id]
    query = f"/v2/text_messages?resource_type=lead&resource_id={lead_id}"
    assert _ids(http.get(query, headers=login.bearer)) == [texts[1].id]


def test_associated_deal_ids_are_read_live(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    [text_id] = _carried(engine, desk, account, 1, phone="617 555 0123")
    lead = RecordRef("lead", text_messages_of(engine, account.id)[0].resource_id)
    with write_transaction(engine) as connection:
        open_deal = create_deal(connection, account_id=account.id, record=lead, name="Pipe")
        won = create_deal(connection, account_id=account.id, record=lead, name="Tap", stage="won")
        second = create_deal(connection, account_id=account.id, record=lead, name="Boiler")
    get = lambda: http.get(f"/v2/text_messages/{text_id}", headers=login.bearer).json()  # noqa: E731
    assert get()["data"]["associated_deal_ids"] == [open_deal, second]
    assert won not in get()["data"]["associated_deal_ids"]
    with write_transaction(engine) as connection:
        connection.execute(deals.update().where(deals.c.id == open_deal).values(stage="lost"))
    assert get()["data"]["associated_deal_ids"] == [second]
    listed = http.get("/v2/text_messages", headers=login.bearer).json()
    assert listed["items"][0]["data"]["associated_deal_ids"] == [second]


def test_resource_none(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    _carried(engine, desk, account, 1)
    data = http.get("/v2/text_messages", headers=login.bearer).json()["items"][0]["data"]
    assert (data["resource_type"], data["resource_id"]) == ("none", None)
    assert data["resource_phone_number"] is None


def test_missing_and_foreign_ids_are_not_found(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    other = desk.account()
    [foreign] = _carried(engine, desk, other, 1)
    for path in (f"/v2/text_messages/{foreign}", "/v2/text_messages/999999",
                 "/v2/text_messages/abc", "/v2/leads/999999", "/v2/contacts/x"):
        _error(http.get(path, headers=login.bearer), 404, "not_found")
    assert _ids(http.get("/v2/text_messages", headers=login.bearer)) == []


@pytest.mark.parametrize("path", ["/v2/text_messages", "/v2/text_messages/1", "/v2/leads",
                                  "/v2/contacts/1"])
def test_bad_credentials_are_unauthorized(http: TestClient, desk: Desk, path: str) -> None:
    agent = desk.staff("agent")
    for headers in (
        {},
        {"Authorization": "Bearer " + "x" * 64},
        {"Authorization": "Basic abc"},
        agent.bearer,
        desk.staff("admin").bearer,
    ):
        body = _error(http.get(path, headers=headers), 401, "unauthorized")
        assert body["meta"]["http_status"] == "401 Unauthorized"


def test_unknown_path_is_incorrect_path(http: TestClient, login: ClientLogin) -> None:
    _error(http.get("/v2/text_messages/1/extra", headers=login.bearer), 404, "incorrect_path")
    _error(http.get("/v2/deals", headers=login.bearer), 404, "incorrect_path")


def test_leads_list_show_filter_sort(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    first = add_lead(engine, account.id, first_name="Ann", phone="+16175550123")
    second = add_lead(engine, account.id, last_name="Bo", mobile="+16175550123", email="b@x.org",
                      )
    third = add_lead(engine, account.id, organization_name="Co", email="Other@X.org")
    add_lead(engine, desk.account().id, phone="+16175550123")  # another account's
    get = lambda query: _ids(http.get(f"/v2/leads{query}", headers=login.bearer))  # noqa: E731
    assert get("") == [first, second, third]
    assert get("?sort_by=id:desc") == [third, second, first]
    assert get("?sort_by=created_at:desc") == [third, second, first]
    assert get("?sort_by=updated_at") == [first, second, third]
    assert get("?phone=(617) 555-0123") == [first, second]
    assert get("?email=other@x.ORG") == [third]
    assert get(f"?ids={third},{first}") == [first, third]
    assert get("?per_page=1&page=2") == [second]
    response = http.get(f"/v2/leads/{first}", headers=login.bearer)
    body = response.json()
    assert body["meta"] == {"type": "lead"}
    assert list(body["data"]) == LEAD_KEYS
    assert body["data"]["status"] == "New"
    _error(http.get("/v2/leads?sort_by=name", headers=login.bearer), 400, "invalid_param")


def test_contacts_list_and_name(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    person = add_contact(engine, account.id, first_name="Ann", last_name="Lee")
    company = add_contact(engine, account.id, organization_name="Lee Bakery", is_organization=True)
    response = http.get("/v2/contacts", headers=login.bearer)
    items = response.json()["items"]
    assert [item["meta"] for item in items] == [{"type": "contact"}] * 2
    assert [list(item["data"]) for item in items] == [CONTACT_KEYS] * 2
    assert [(i["data"]["id"], i["data"]["name"]) for i in items] == [
        (person, "Ann Lee"),
        (company, "Lee Bakery"),
    ]
    assert items[1]["data"]["is_organization"] is True


def test_head_and_wrong_method(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    [text_id] = _carried(engine, desk, account, 1)
    head = http.head(f"/v2/text_messages/{text_id}", headers=login.bearer)
    assert (head.status_code, head.content) == (200, b"")
    body = _error(http.post("/v2/text_messages", headers=login.bearer), 405, "method_not_allowed")
    assert body["meta"]["http_status"] == "405 Method Not Allowed"


def test_links_keep_the_other_parameters(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    one, two, three = _carried(engine, desk, account, 3)
    query = f"/v2/text_messages.json?ids={one},{two},{three}&per_page=1&page=2&sort_by=id:asc"
    links = http.get(query, headers=login.bearer).json()["meta"]["links"]
    assert links["self"] == "http://testserver" + query
    for name, page in (("first_page", "1"), ("prev_page", "1"), ("next_page", "3")):
        assert urlsplit(links[name]).path == "/v2/text_messages.json"
        assert parse_qs(urlsplit(links[name]).query) == {
            "ids": [f"{one},{two},{three}"], "per_page": ["1"], "sort_by": ["id:asc"],
            "page": [page],
        }


def test_single_and_list_render_the_same_object(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    contact_id = add_contact(engine, account.id, phone="+16175550123")
    desk.take(account, "to a contact", phone="617 555 0123", created_at="2024-03-15T10:32:05")
    desk.take(account, "to a lead", phone="617 555 0199")
    desk.take(account, "to nobody")
    carry_all(engine)
    with write_transaction(engine) as connection:
        create_deal(connection, account_id=account.id, record=RecordRef("contact", contact_id),
                    name="Pipe")
    listed = http.get("/v2/text_messages", headers=login.bearer).json()["items"]
    assert len(listed) == 3
    for item in listed:
        single = http.get(f"/v2/text_messages/{item['data']['id']}", headers=login.bearer).json()
        assert single == item
        assert list(single["data"]) == TEXT_KEYS
    assert listed[-1]["data"]["associated_deal_ids"] != []


@pytest.mark.parametrize(
    "query",
    ["page=%D9%A2", "per_page=%D9%A2", "ids=%D9%A3", "ids=1,%D9%A3",
     "resource_type=lead&resource_id=%D9%A1", "phone=a%00b", "email=a%00b@x.org"],
)
def test_only_ascii_digits_and_no_nul(http: TestClient, login: ClientLogin, query: str) -> None:
    path = "/v2/leads" if query.startswith(("phone", "email")) else "/v2/text_messages"
    _error(http.get(f"{path}?{query}", headers=login.bearer), 400, "invalid_param")


def test_non_ascii_path_id_is_not_found(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    _carried(engine, desk, account, 3)
    for path in ("/v2/text_messages/%D9%A3", "/v2/leads/%D9%A1", "/v2/contacts/%EF%BC%91"):
        _error(http.get(path, headers=login.bearer), 404, "not_found")


def test_an_early_year_is_padded(
    http: TestClient, engine: Engine, desk: Desk, account: Account, login: ClientLogin
) -> None:
    desk.take(account, created_at="0005-01-01T12:00:00+00:00")
    carry_all(engine)
    [item] = http.get("/v2/text_messages", headers=login.bearer).json()["items"]
    assert item["data"]["sent_at"] == "0005-01-01T12:00:00Z"
    single = http.get(f"/v2/text_messages/{item['data']['id']}", headers=login.bearer).json()
    assert single["data"]["sent_at"] == "0005-01-01T12:00:00Z"
