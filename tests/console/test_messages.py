"""Agents take messages; clients read their own account's, and only theirs."""

from __future__ import annotations

import re

import orjson
import sqlalchemy as sa

from answerdesk.store.tables import messages
from tests.console.conftest import PASSWORD, Console, field_error
from tests.factories import Desk


def _field_names(html: str) -> dict[str, str]:
    """Map each custom field's label to its input name on the message form."""
    return {
        label: name
        for name, label in re.findall(r'<label for="(f_\d+)">([^<]+?)(?: <span|</label>)', html)
    }


def test_agent_takes_a_message_with_custom_fields(console: Console, desk: Desk) -> None:
    account = desk.account(fields=[("Reason for call", True), ("Best time", False)])
    client = desk.user(role="client", account=account, name="Dana Client")
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    form = agent.get(f"/console/accounts/{account.number}/messages/new")
    assert form.status_code == 200
    assert '<option value="Dana Client">' in form.text  # "for" choices
    names = _field_names(form.text)
    assert list(names) == ["Reason for call", "Best time"]
    assert re.search(rf'name="{names["Reason for call"]}"[^>]* required', form.text)
    saved = agent.post(
        f"/console/accounts/{account.number}/messages/new",
        {
            "first_name": "Ann",
            "phone": "(617) 555-0123",
            "for": "dana client",
            "content": "Leaking pipe",
            "is_emergency": "on",
            names["Reason for call"]: "Repair",
        },
    )
    assert saved.status_code == 303
    page = agent.get(saved.headers["location"])
    assert "The message is saved" in page.text
    assert "Leaking pipe" in page.text and "Repair" in page.text and "+16175550123" in page.text
    with desk.engine.connect() as connection:
        row = connection.execute(sa.select(messages)).one()
    assert row.for_user_id == client.id and row.is_emergency and row.taken_by_user_id is not None
    assert orjson.loads(row.fields) == [["reason_for_call", "Reason for call", "Repair"]]


def test_bad_message_shows_each_error_keeps_input_and_saves_nothing(
    console: Console, desk: Desk
) -> None:
    account = desk.account(fields=[("Reason for call", True)])
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    names = _field_names(agent.get(f"/console/accounts/{account.number}/messages/new").text)
    response = agent.post(
        f"/console/accounts/{account.number}/messages/new",
        {"first_name": "Ann <b>", "content": "  ", names["Reason for call"]: ""},
    )
    assert response.status_code == 422
    assert field_error(response.text, "content") == "Message is required"
    assert field_error(response.text, names["Reason for call"]) == "Reason for call is required"
    assert 'value="Ann &lt;b&gt;"' in response.text
    with desk.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 0


def test_client_sees_own_messages_but_never_another_accounts(console: Console, desk: Desk) -> None:
    mine, theirs = desk.account(name="Mine"), desk.account(name="Theirs")
    own_id = desk.take(mine, "For us")
    other_id = desk.take(theirs, "Secret of theirs")
    client = console.sign_in(desk.user(role="client", account=mine, password=PASSWORD))
    home = client.get("/console/", follow_redirects=True)
    assert "For us" in home.text and "Secret of theirs" not in home.text
    assert client.get(f"/console/accounts/{mine.number}/messages/{own_id}").status_code == 200
    for path in (
        f"/console/accounts/{theirs.number}/messages",
        f"/console/accounts/{theirs.number}/messages/{other_id}",
        f"/console/accounts/{mine.number}/messages/{other_id}",
        f"/console/accounts/{theirs.number}/dashboard",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Secret of theirs" not in response.text
    assert client.get(f"/console/accounts/{mine.number}/messages/new").status_code == 403
    assert client.get("/console/accounts").status_code == 403


def test_filters_by_text_emergency_and_dates(console: Console, desk: Desk) -> None:
    account = desk.account(timezone="America/New_York")
    desk.take(account, "Broken boiler", created_at="2024-03-10T09:00:00")
    desk.take(account, "Flooded basement", is_emergency=True, created_at="2024-03-12T23:30:00")
    desk.take(account, "Invoice question 100%", created_at="2024-03-14T08:00:00")
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    base = f"/console/accounts/{account.number}/messages"

    def shown(query: str) -> list[str]:
        text = agent.get(f"{base}?{query}").text
        return re.findall(r"(Broken boiler|Flooded basement|Invoice question)", text)

    assert shown("") == ["Invoice question", "Flooded basement", "Broken boiler"]
    assert shown("q=BOILER") == ["Broken boiler"]
    assert shown("q=100%25") == ["Invoice question"]
    assert shown("q=_") == []
    assert shown("emergency=on") == ["Flooded basement"]
    assert shown("from=2024-03-12&to=2024-03-12") == ["Flooded basement"]
    bad = agent.get(f"{base}?from=03/12/2024&to=2024-03-01")
    assert bad.status_code == 422
    assert "must be a date" in bad.text


def test_list_pages_with_a_keyset_cursor(console: Console, desk: Desk) -> None:
    account = desk.account()
    for serial in range(55):
        desk.take(account, f"Message number {serial:03d}")
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    first = agent.get(f"/console/accounts/{account.number}/messages")
    numbers = re.findall(r"Message number (\d{3})", first.text)
    assert len(numbers) == 50 and numbers[0] == "054"
    older = re.search(r'href="([^"]+)">Older messages', first.text)
    assert older
    second = agent.get(older.group(1).replace("&amp;", "&"))
    assert re.findall(r"Message number (\d{3})", second.text) == ["004", "003", "002", "001", "000"]
    assert "Older messages" not in second.text


def test_search_window_reports_how_far_it_looked(console: Console, desk: Desk) -> None:
    from answerdesk.messages.search import MessageFilter, search_messages
    from answerdesk.store.engine import read_transaction

    account = desk.account()
    needle = desk.take(account, "needle")
    for serial in range(6):
        desk.take(account, f"hay {serial}")
    with read_transaction(desk.engine) as connection:
        page = search_messages(
            connection, account_id=account.id, filters=MessageFilter(text="needle"), window=4
        )
        assert page.rows == [] and page.window_exhausted and page.next_cursor
        page = search_messages(
            connection,
            account_id=account.id,
            filters=MessageFilter(text="needle"),
            cursor=page.next_cursor,
            window=4,
        )
        assert [row.id for row in page.rows] == [needle]
        assert not page.window_exhausted


def test_status_moves_forward_with_delivery_details(console: Console, desk: Desk) -> None:
    account = desk.account(timezone="America/New_York")
    message_id = desk.take(account, "Call back")
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    path = f"/console/accounts/{account.number}/messages/{message_id}"
    bad = agent.post(f"{path}/status", {"status": "delivered", "delivered_at": "2024-03-10T02:30"})
    assert bad.status_code == 422
    assert "daylight-saving" in bad.text
    done = agent.post(
        f"{path}/status",
        {
            "status": "delivered",
            "delivered_to": "boss@example.com",
            "delivered_at": "2024-03-15T10:32",
        },
    )
    assert done.status_code == 303
    page = agent.get(done.headers["location"])
    assert "03-15-2024 10:32 AM to boss@example.com" in page.text
    assert agent.post(f"{path}/status", {"status": "archived"}).status_code == 303
    back = agent.post(f"{path}/status", {"status": "read"})
    assert back.status_code == 422 and "cannot become read again" in back.text
    client = console.sign_in(desk.user(role="client", account=account, password=PASSWORD))
    assert client.post(f"{path}/status", {"status": "delivered"}).status_code == 422
