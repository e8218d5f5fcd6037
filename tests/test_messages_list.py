"""CONTRACT §1 lists: order, date ranges in the account's zone, extensions, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from answerdesk.messages.listing import joined_objects
from tests.factories import Desk

VERSIONS = ["v1", "v2"]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [message["message_id"] for message in response.json()]


@pytest.fixture
def boston(desk: Desk):
    account = desk.account(timezone="America/New_York")
    return account, desk.client_of(account)


@pytest.mark.parametrize("version", VERSIONS)
def test_list_is_oldest_first_by_second_then_id(http, desk: Desk, boston, version) -> None:
    account, login = boston
    late = desk.take(account, created_at="2024-03-15T10:00:05.900000")
    early = desk.take(account, created_at="2024-03-15T09:00:00")
    same_second_a = desk.take(account, created_at="2024-03-15T09:30:00.999999")
    same_second_b = desk.take(account, created_at="2024-03-15T09:30:00.000001")
    assert ids(http.get(f"/{version}/messages", headers=login.headers)) == [
        early,
        same_second_a,
        same_second_b,
        late,
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_empty_account_lists_empty_array(http, boston, version) -> None:
    _account, login = boston
    response = http.get(f"/{version}/messages", headers=login.headers)
    assert response.content == b"[]"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("version", VERSIONS)
def test_date_range_boundaries_are_local_midnight(http, desk: Desk, boston, version) -> None:
    account, login = boston
    # New York is UTC-5 in January: local midnight is 05:00Z.
    before = desk.take(account, created_at="2024-01-09T23:59:59.999999-05:00")
    first = desk.take(account, created_at="2024-01-10T00:00:00-05:00")
    last = desk.take(account, created_at="2024-01-11T23:59:59.999999-05:00")
    after = desk.take(account, created_at="2024-01-12T05:00:00Z")
    utc_same_day = desk.take(account, created_at="2024-01-12T03:00:00Z")  # 11th, 22:00 local
    h = login.headers
    got = ids(http.get(f"/{version}/messages?from_date=01-10-2024&to_date=01-11-2024", headers=h))
    assert got == [first, last, utc_same_day] or got == [first, utc_same_day, last]
    assert sorted(got) == sorted([first, last, utc_same_day])
    assert ids(http.get(f"/{version}/messages?to_date=01-09-2024", headers=h)) == [before]
    assert ids(http.get(f"/{version}/messages?from_date=01-12-2024", headers=h)) == [after]
    single = ids(
        http.get(f"/{version}/messages?from_date=01-10-2024&to_date=01-10-2024", headers=h)
    )
    assert single == [first]


@pytest.mark.parametrize("version", VERSIONS)
def test_date_range_across_dst_change(http, desk: Desk, boston, version) -> None:
    account, login = boston
    # 2024-03-10: clocks jump 02:00 → 03:00 in New York; that day has 23 hours.
    start = desk.take(account, created_at="2024-03-10T00:00:00-05:00")
    after_jump = desk.take(account, created_at="2024-03-10T03:30:00-04:00")
    end = desk.take(account, created_at="2024-03-10T23:59:59-04:00")
    next_day = desk.take(account, created_at="2024-03-11T00:00:00-04:00")
    # Fall back 2024-11-03: 25 hours; 01:30 happens twice.
    fold_first = desk.take(account, created_at="2024-11-03T01:30:00-04:00")
    fold_second = desk.take(account, created_at="2024-11-03T01:30:00-05:00")
    fall_end = desk.take(account, created_at="2024-11-03T23:59:59-05:00")
    h = login.headers
    spring = ids(
        http.get(f"/{version}/messages?from_date=03-10-2024&to_date=03-10-2024", headers=h)
    )
    assert spring == [start, after_jump, end]
    assert next_day not in spring
    fall = ids(http.get(f"/{version}/messages?from_date=11-03-2024&to_date=11-03-2024", headers=h))
    assert fall == [fold_first, fold_second, fall_end]


def test_changing_time_zone_changes_local_times_and_ranges(http, desk: Desk, engine) -> None:
    from answerdesk.accounts import update_account
    from answerdesk.store.engine import write_transaction

    account = desk.account(timezone="America/New_York")
    login = desk.client_of(account)
    message_id = desk.take(account, created_at="2024-01-10T02:00:00Z")  # 9 Jan 21:00 in NY
    h = login.headers
    assert ids(http.get("/v1/messages?from_date=01-09-2024&to_date=01-09-2024", headers=h)) == [
        message_id
    ]
    with write_transaction(engine) as connection:
        update_account(connection, account_id=account.id, timezone="Europe/London")
    assert ids(http.get("/v1/messages?from_date=01-10-2024&to_date=01-10-2024", headers=h)) == [
        message_id
    ]
    shown = http.get(f"/v1/messages/{message_id}", headers=h).json()
    assert shown["created_at"] == "01-10-2024 02:00 AM"
    assert shown["raw_created_at"] == "2024-01-10T02:00:00.000000+00:00"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("query", "info"),
    [
        ("from_date=02-29-2023", "Invalid from_date: expected MM-DD-YYYY, a date that exists"),
        ("to_date=13-01-2024", "Invalid to_date: expected MM-DD-YYYY, a date that exists"),
        ("from_date=", "Invalid from_date: expected MM-DD-YYYY"),
        ("from_date=2024-01-01", "Invalid from_date: expected MM-DD-YYYY"),
        ("from_date=1-1-2024", "Invalid from_date: expected MM-DD-YYYY"),
        ("to_date=01/02/2024", "Invalid to_date: expected MM-DD-YYYY"),
        (
            "from_date=01-01-2024&from_date=01-02-2024",
            "Invalid from_date: expected one value, MM-DD-YYYY",
        ),
        (
            "from_date=03-02-2024&to_date=03-01-2024",
            "Invalid date range: expected from_date on or before to_date",
        ),
        ("after_id=-1", "Invalid after_id: expected a non-negative integer"),
        ("after_id=abc", "Invalid after_id: expected a non-negative integer"),
        ("after_id=", "Invalid after_id: expected a non-negative integer"),
        ("limit=0", "Invalid limit: expected an integer from 1 to 1000"),
        ("limit=1001", "Invalid limit: expected an integer from 1 to 1000"),
        ("limit=ten", "Invalid limit: expected an integer from 1 to 1000"),
        ("limit=99999999999999999999999", "Invalid limit: expected an integer from 1 to 1000"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(http, boston, version, query, info) -> None:
    _account, login = boston
    response = http.get(f"/{version}/messages?{query}", headers=login.headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"success": False, "info": info, "data": {}}


def test_leap_day_of_a_leap_year_is_fine(http, desk: Desk, boston) -> None:
    account, login = boston
    leap = desk.take(account, created_at="2024-02-29T12:00:00")
    got = ids(
        http.get("/v1/messages?from_date=02-29-2024&to_date=02-29-2024", headers=login.headers)
    )
    assert got == [leap]


@pytest.mark.parametrize("version", VERSIONS)
def test_after_id_and_limit_page_by_id_with_link(http, desk: Desk, boston, version) -> None:
    account, login = boston
    # Back-dated import: id order differs from created order.
    newer = desk.take(account, created_at="2024-05-01T10:00:00")
    older = desk.take(account, created_at="2023-05-01T10:00:00")
    third = desk.take(account, created_at="2024-01-01T10:00:00")
    h = login.headers
    assert ids(http.get(f"/{version}/messages", headers=h)) == [older, third, newer]
    assert ids(http.get(f"/{version}/messages?after_id=0", headers=h)) == [newer, older, third]
    assert ids(http.get(f"/{version}/messages?after_id={newer}", headers=h)) == [older, third]
    first_page = http.get(f"/{version}/messages?limit=2", headers=h)
    assert ids(first_page) == [newer, older]
    link = first_page.headers["link"]
    assert link.endswith('>; rel="next"')
    next_url = link[1 : link.index(">")]
    assert f"after_id={older}" in next_url and "limit=2" in next_url
    second_page = http.get(next_url, headers=h)
    assert ids(second_page) == [third]
    assert "link" not in second_page.headers
    exact = http.get(f"/{version}/messages?limit=3", headers=h)
    assert ids(exact) == [newer, older, third]
    assert "link" not in exact.headers
    ranged = http.get(
        f"/{version}/messages?from_date=01-01-2024&to_date=12-31-2024&limit=1", headers=h
    )
    assert ids(ranged) == [newer]
    assert "from_date=01-01-2024" in ranged.headers["link"]
    assert ids(
        http.get(ranged.headers["link"][1 : ranged.headers["link"].index(">")], headers=h)
    ) == [third]


@pytest.mark.parametrize("version", VERSIONS)
def test_head_answers_like_get_without_body(http, desk: Desk, boston, version) -> None:
    account, login = boston
    message_id = desk.take(account)
    for path in (f"/{version}/messages", f"/{version}/messages/{message_id}"):
        response = http.head(path, headers=login.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.content == b""
    assert http.head(f"/{version}/messages/999", headers=login.headers).status_code == 404
    assert http.head(f"/{version}/messages").status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_are_405_with_allow(http, boston, version, method) -> None:
    _account, login = boston
    for path in (f"/{version}/messages", f"/{version}/messages/1"):
        response = http.request(method, path, headers=login.headers)
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"
        assert response.json() == {"success": False, "info": "Method not allowed", "data": {}}


@pytest.mark.parametrize(
    "path", ["/v1/nothing", "/v2/nothing", "/v1/messages/1/extra", "/v1", "/v3/messages"]
)
def test_unknown_path_is_not_found_envelope(http, path) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"success": False, "info": "Not found", "data": {}}
    assert response.headers["x-request-id"]


def test_ten_thousand_messages_stream_back_complete(http, desk: Desk, engine, boston) -> None:
    """10,000 rows in one list: half served from stored JSON, half rendered from columns."""
    from datetime import UTC, datetime

    from answerdesk.messages.prerender import refresh_account
    from answerdesk.store.engine import write_transaction
    from answerdesk.store.tables import messages as messages_table

    account, login = boston
    rows = []
    for serial in range(10_000):
        created = datetime(2024, 1, 1, 0, serial // 60 % 60, serial % 60, tzinfo=UTC)
        rows.append(
            {
                "account_id": account.id, "content": f"message {serial}", "is_emergency": False,
                "fields": '[["reason", "Reason", "x"]]', "created_at": created,
                "created_second": int(created.timestamp()), "status": "new",
                "updated_at": created,
            }
        )  # fmt: skip
    with write_transaction(engine) as connection:
        connection.execute(messages_table.insert(), rows)
        refresh_account(connection, account_id=account.id, limit=5_000)
    response = http.get("/v1/messages", headers=login.headers)
    messages = response.json()
    assert len(messages) == 10_000
    assert len({m["message_id"] for m in messages}) == 10_000
    assert {tuple(m) for m in messages} == {tuple(messages[0])}  # both paths, same keys
    assert all(
        m["content_with_additional_details"] == f"{m['content']}\nReason: x" for m in messages
    )
    seconds = [m["utc_created_at"] for m in messages]
    assert seconds == sorted(seconds)
    assert "content-length" not in response.headers  # streamed, not buffered


@given(
    parts=st.lists(st.binary(max_size=8), max_size=6),
    prefix=st.binary(max_size=4),
    brackets=st.booleans(),
)
def test_joined_objects_is_the_plain_join(
    parts: list[bytes], prefix: bytes, brackets: bool
) -> None:
    """The one-copy join of lists and chunks says exactly what the obvious one says."""
    plain = b",".join(prefix + part for part in parts)
    expected = b"[" + plain + b"]" if brackets else plain
    assert joined_objects(parts, prefix, brackets=brackets) == expected
