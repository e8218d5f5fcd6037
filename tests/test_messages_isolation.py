"""A token of account A never reads account B's messages (list and single)."""

from __future__ import annotations

import pytest

from tests.factories import Desk

NOT_FOUND = b'{"success": false, "info": "Message not found", "data": {}}'


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_account_a_never_sees_account_b(http, desk: Desk, version) -> None:
    a, b = desk.account(name="A"), desk.account(name="B")
    login_a = desk.client_of(a)
    mine = desk.take(a, content="for A")
    theirs = desk.take(b, content="secret of B", first_name="Bea")
    listed = http.get(f"/{version}/messages", headers=login_a.headers).json()
    assert [m["message_id"] for m in listed] == [mine]
    response = http.get(f"/{version}/messages/{theirs}", headers=login_a.headers)
    assert response.status_code == 404
    assert response.content == NOT_FOUND
    for query in (f"after_id={theirs - 1}", "limit=1000", "after_id=0&limit=5"):
        page = http.get(f"/{version}/messages?{query}", headers=login_a.headers).json()
        assert all(m["account_number"] == a.number for m in page)
        assert "secret of B" not in str(page)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    "raw_id", ["999999", "abc", "1.5", "-1", "0x10", "99999999999999999999999"]
)
def test_unknown_or_malformed_id_is_message_not_found(http, desk: Desk, version, raw_id) -> None:
    account = desk.account()
    login = desk.client_of(account)
    desk.take(account)
    response = http.get(f"/{version}/messages/{raw_id}", headers=login.headers)
    assert response.status_code == 404
    assert response.content == NOT_FOUND
