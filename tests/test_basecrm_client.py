"""The official Zendesk Sell Python client (`basecrm` 1.2.9) works against answerdesk unchanged.

A real uvicorn server on a random local port, a real HTTP client: nothing
between them is faked.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import basecrm
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account, get_account
from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.store.engine import read_transaction
from tests.crm_support import add_contact, carry_all, text_messages_of
from tests.factories import ClientLogin, Desk


@pytest.fixture
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    """Serve the app with uvicorn on a free local port, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, engine=engine), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def login(desk: Desk) -> ClientLogin:
    return desk.client_of(desk.account())


def _client(base_url: str, token: str) -> basecrm.Client:
    return basecrm.Client(access_token=token, base_url=base_url)


def _account(engine: Engine, login: ClientLogin) -> Account:
    assert login.user.account_id is not None
    with read_transaction(engine) as connection:
        return get_account(connection, account_id=login.user.account_id)


def test_list_with_every_parameter(
    base_url: str, engine: Engine, desk: Desk, login: ClientLogin
) -> None:
    account = _account(engine, login)
    contact_id = add_contact(engine, account.id, first_name="Ann", phone="+16175550123")
    for number in range(5):
        desk.take(account, f"message {number}", phone="617 555 0123" if number % 2 else None)
    carry_all(engine)
    ids = [row.id for row in text_messages_of(engine, account.id)]
    client = _client(base_url, login.token)

    everything = client.text_messages.list()
    assert [m.id for m in everything] == ids[::-1]
    first = everything[-1]
    assert first.content == "message 0"
    assert first.incoming is True
    assert first.send_at == first.sent_at
    assert first.resource_type == "none"

    assert [m.id for m in client.text_messages.list(page=2, per_page=2)] == ids[::-1][2:4]
    assert [m.id for m in client.text_messages.list(sort_by="id:asc", per_page=3)] == ids[:3]
    assert [m.id for m in client.text_messages.list(sort_by="id")] == ids[::-1]
    assert [m.id for m in client.text_messages.list(ids=f"{ids[0]},{ids[4]}")] == [ids[4], ids[0]]
    assert [m.id for m in client.text_messages.list(ids=[ids[1], ids[2]])] == [ids[2], ids[1]]
    on_contact = client.text_messages.list(resource_type="contact", resource_id=contact_id)
    assert [m.id for m in on_contact] == [ids[3], ids[1]]
    combined = client.text_messages.list(
        page=1, per_page=1, ids=",".join(map(str, ids)), resource_type="contact",
        resource_id=contact_id, sort_by="id:asc",
    )
    assert [m.id for m in combined] == [ids[1]]
    assert client.text_messages.list(page=1000) == []
    assert client.text_messages.list(page=2, per_page=100) == []


def test_retrieve_and_errors(base_url: str, engine: Engine, desk: Desk, login: ClientLogin) -> None:
    account = _account(engine, login)
    desk.take(account, "Hello", phone="617 555 0123")
    carry_all(engine)
    [row] = text_messages_of(engine, account.id)
    client = _client(base_url, login.token)

    message = client.text_messages.retrieve(row.id)
    assert (message.id, message.content, message.resource_type) == (row.id, "Hello", "lead")
    assert message.resource_phone_number == "+16175550123"
    assert message.associated_deal_ids == []

    with pytest.raises(basecrm.errors.RequestError) as missing:
        client.text_messages.retrieve(row.id + 1000)
    assert missing.value.http_status == 404
    assert missing.value.errors[0].code == "not_found"
    assert missing.value.logref

    wrong = _client(base_url, "adk_" + "0" * 60)
    with pytest.raises(basecrm.errors.RequestError) as denied:
        wrong.text_messages.list()
    assert denied.value.http_status == 401
    assert denied.value.errors[0].code == "unauthorized"
    assert denied.value.logref

    with pytest.raises(basecrm.errors.RequestError) as invalid:
        client.text_messages.list(per_page=500)
    assert invalid.value.errors[0].code == "invalid_param"

    # The records behind the messages are readable with the same client.
    [lead] = client.leads.list(phone="(617) 555-0123")
    assert (lead.phone, lead.status, lead.source) == ("+16175550123", "New", "answering service")
    assert client.leads.retrieve(lead.id).id == lead.id
    assert client.contacts.list() == []
