from tests.factories import Desk


def test_client_reads_own_message(http, desk: Desk) -> None:
    account = desk.account()
    login = desk.client_of(account)
    message_id = desk.take(account, first_name="Ann", phone="(617) 555-0123")
    response = http.get("/v1/messages", headers=login.headers)
    assert response.status_code == 200
    assert [m["message_id"] for m in response.json()] == [message_id]
