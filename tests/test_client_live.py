"""The SDK against a live answerdesk (uvicorn on a free port), on both databases."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine

from answerdesk.client import (
    AsyncMessagesClient,
    AsyncTextMessagesClient,
    AuthenticationError,
    BadRequest,
    Message,
    MessagesClient,
    NotFound,
    TextMessagesClient,
)
from answerdesk.messages import change_status
from answerdesk.store.engine import write_transaction
from tests.crm_support import carry_all
from tests.factories import Desk
from tests.live import live_server_fixture, run_async  # noqa: F401  (provides `live_server`)

FIELDS = [("Reason for Call?", False), ("Best time", False)]


@pytest.fixture
def acme(desk: Desk):
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    return account, desk.client_of(account)


def ids(messages) -> list[int]:
    return [m.message_id for m in messages]


@pytest.mark.parametrize("version", [1, 2])
def test_messages_client_every_method(live_server: str, desk: Desk, acme, version) -> None:
    account, login = acme
    first = desk.take(
        account,
        "Leak under the sink",
        first_name="John",
        last_name="Doe",
        phone="(617) 555-0123",
        is_emergency=True,
        created_at="2024-03-15T10:32:05.123456",
        fields={"Reason for Call?": "Repair", "Best time": "after 5pm"},
    )
    second = desk.take(account, "Second", created_at="2024-03-16T09:00:00")
    with MessagesClient(live_server, login.user.email, login.token, version=version) as sdk:
        assert ids(sdk.list()) == [first, second]
        assert ids(sdk.list(from_date=date(2024, 3, 16))) == [second]
        assert ids(sdk.list(to_date=date(2024, 3, 15))) == [first]
        assert ids(sdk.list(from_date=date(2024, 3, 15), to_date=date(2024, 3, 15))) == [first]
        message = sdk.get(first)
        with pytest.raises(NotFound):
            sdk.get(first + 1000)
        with pytest.raises(BadRequest):
            sdk.list(from_date=date(2024, 3, 16), to_date=date(2024, 3, 15))
    assert isinstance(message, Message)
    assert message.account_number == account.number
    assert message.from_ == "John Doe"
    assert message.phone == "+16175550123"
    assert message.is_emergency is True
    assert message.status == "new"
    assert message.fields == {"reason_for_call": "Repair", "best_time": "after 5pm"}
    assert message.labels == {"reason_for_call": "Reason for Call?", "best_time": "Best time"}
    assert message.created_at == datetime.fromisoformat("2024-03-15T14:32:05.123456+00:00")
    assert message.local_date == date(2024, 3, 15)
    assert message.raw["content_with_additional_details_table__best_time"] == "after 5pm"


def test_iter_uses_the_extension_and_resumes(live_server: str, desk: Desk, acme) -> None:
    account, login = acme
    taken = [desk.take(account, f"m{n}") for n in range(7)]
    # A back-dated import: stored last, dated first. Keyset order still has it.
    backdated = desk.take(account, "old", created_at="2020-01-01T09:00:00")
    with MessagesClient(live_server, login.user.email, login.token, page_size=3) as sdk:
        assert ids(sdk.iter()) == [*taken, backdated]
        assert sdk.extension is True
        more = [desk.take(account, "late", created_at="2019-06-01T09:00:00"), desk.take(account)]
        assert ids(sdk.iter(after_id=backdated)) == more
        assert ids(sdk.iter(after_id=more[-1])) == []
        assert ids(sdk.iter(after_id=taken[3])) == [*taken[4:], backdated, *more]


def test_iter_over_an_empty_account_and_a_single_message(live_server: str, desk: Desk, acme):
    account, login = acme
    with MessagesClient(live_server, login.user.email, login.token) as sdk:
        assert list(sdk.iter()) == []
        only = desk.take(account)
        assert ids(sdk.iter()) == [only]
        assert sdk.extension is None  # a one-message answer does not tell


def test_status_changes_show_in_the_sdk(live_server: str, desk: Desk, engine: Engine, acme):
    account, login = acme
    message_id = desk.take(account)
    with write_transaction(engine) as connection:
        change_status(
            connection,
            account_id=account.id,
            message_id=message_id,
            status="delivered",
            delivered_to="carla@acme.example",
        )
    with MessagesClient(live_server, login.user.email, login.token) as sdk:
        message = sdk.get(message_id)
    assert (message.status, message.delivered_to) == ("delivered", "carla@acme.example")
    assert message.delivered_at is not None


def test_bad_credentials(live_server: str, desk: Desk, acme) -> None:
    _account, login = acme
    wrong = "adk_" + "x" * 60
    with (
        MessagesClient(live_server, login.user.email, wrong) as sdk,
        pytest.raises(AuthenticationError) as caught,
    ):
        sdk.list()
    assert (caught.value.status_code, caught.value.message) == (404, "Invalid token")
    assert caught.value.request_id
    with TextMessagesClient(live_server, wrong) as text, pytest.raises(AuthenticationError) as sell:
        text.list()
    assert (sell.value.status_code, sell.value.code) == (401, "unauthorized")


@pytest.fixture
def texts(desk: Desk, engine: Engine, acme):
    account, login = acme
    for number in range(5):
        desk.take(account, f"text {number}", phone=f"+1617555010{number}")
    carry_all(engine)
    return account, login


def test_text_messages_client_every_method(live_server: str, texts) -> None:
    _account, login = texts
    with TextMessagesClient(live_server, login.token) as sdk:
        page = sdk.list()
        all_ids = [item.id for item in page]
        assert all_ids == sorted(all_ids, reverse=True)  # the documented default
        assert page.count == 5 and page.next_page is None
        ascending = [item.id for item in sdk.list(sort_by="id:asc")]
        assert ascending == sorted(all_ids)
        second = sdk.list(page=2, per_page=2, sort_by="id:asc")
        assert [item.id for item in second] == ascending[2:4]
        assert second.next_page and second.links["prev_page"]
        assert [item.id for item in sdk.list(ids=ascending[:2])] == ascending[1::-1]
        one = sdk.get(ascending[0])
        lead = one.resource_id
        assert one.resource_type == "lead" and lead is not None
        filtered = sdk.list(resource_type="lead", resource_id=lead)
        assert [item.id for item in filtered] == [one.id]
        assert one.incoming is True and one.sent_at is not None
        assert one.content == "text 0"
        assert one.resource_phone_number == "+16175550100"
        assert [item.id for item in sdk.iter(per_page=2)] == ascending
        with pytest.raises(NotFound) as missing:
            sdk.get(10**9)
        assert missing.value.code == "not_found"
        with pytest.raises(BadRequest) as bad:
            sdk.list(resource_type="lead")
        assert bad.value.code == "invalid_param"


def test_async_clients_against_the_live_server(live_server: str, texts) -> None:
    _account, login = texts

    async def run() -> tuple[list[int], list[int], list[int]]:
        async with AsyncMessagesClient(
            live_server, login.user.email, login.token, version=2, page_size=2
        ) as sdk:
            walked = [m.message_id async for m in sdk.iter()]
            listed = ids(await sdk.list())
            assert (await sdk.get(walked[0])).content == "text 0"
        async with AsyncTextMessagesClient(live_server, login.token) as text:
            texts_walked = [t.id async for t in text.iter(per_page=2)]
            page = await text.list(per_page=100, sort_by="id:asc")
            assert [t.id for t in page] == texts_walked
            assert (await text.get(texts_walked[0])).id == texts_walked[0]
        return walked, listed, texts_walked

    walked, listed, texts_walked = run_async(run)
    assert walked == listed and len(walked) == 5
    assert len(texts_walked) == 5
