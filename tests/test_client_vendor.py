"""The SDK against a server that has only what the vendors document (no after_id/limit).

It must still hand out every message exactly once, including messages that
arrive between calls, some of them back-dated within the look-back.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from answerdesk.client import AsyncMessagesClient, AuthenticationError, MessagesClient, NotFound
from tests.live import run_async
from tests.vendor import EMAIL, TOKEN, Vendor

BASE = "https://vendor.example"
DAY1 = datetime(2024, 3, 10, 15, 0, tzinfo=UTC)


def client(vendor: Vendor, **options) -> MessagesClient:
    return MessagesClient(BASE, EMAIL, TOKEN, transport=vendor.transport(), **options)


def ids(messages) -> list[int]:
    return [message.message_id for message in messages]


def extension_params(vendor: Vendor) -> list[str]:
    return [r for r in vendor.requests if "after_id" in r]


def test_iter_gets_everything_once_in_id_order() -> None:
    vendor = Vendor()
    # Stored out of creation order: id order is not the list's order.
    late = vendor.add(DAY1 + timedelta(days=2))
    early = vendor.add(DAY1)
    middle = vendor.add(DAY1 + timedelta(days=1))
    with client(vendor) as sdk:
        assert ids(sdk.iter()) == [late, early, middle]
        assert sdk.extension is None  # three messages do not tell
    assert extension_params(vendor) == []


def test_messages_added_between_calls_come_once() -> None:
    vendor = Vendor()
    first = [vendor.add(DAY1 + timedelta(hours=h)) for h in range(0, 72, 12)]
    sdk = client(vendor)
    assert ids(sdk.iter()) == first
    last = first[-1]
    today = vendor.add(DAY1 + timedelta(days=3))
    backdated = vendor.add(DAY1 + timedelta(days=1))  # older than `last`, within look-back
    assert ids(sdk.iter(after_id=last)) == [today, backdated]
    assert ids(sdk.iter(after_id=backdated)) == []
    # A fresh client knows nothing: it looks the anchor message up once.
    newer = vendor.add(DAY1 + timedelta(days=4))
    fresh = client(vendor)
    assert ids(fresh.iter(after_id=backdated)) == [newer]
    assert any(r.endswith(f"/v1/messages/{backdated}") for r in vendor.requests)
    assert extension_params(vendor) == []


def test_the_window_starts_look_back_days_before_the_anchor() -> None:
    vendor = Vendor()
    anchor = vendor.add(datetime(2024, 3, 10, 4, 30, tzinfo=UTC))  # 03-09 23:30 at -05:00
    sdk = client(vendor, look_back_days=3)
    vendor.requests.clear()
    list(sdk.iter(after_id=anchor))
    assert vendor.requests[-1] == "/v1/messages?from_date=03-06-2024&limit=1000"


def test_a_deleted_anchor_falls_back_to_the_full_list() -> None:
    vendor = Vendor()
    kept = [vendor.add(DAY1), vendor.add(DAY1), vendor.add(DAY1)]
    del vendor.messages[kept[1]]
    assert ids(client(vendor).iter(after_id=kept[1])) == [kept[2]]
    assert vendor.requests[-1] == "/v1/messages?limit=1000"


def test_more_messages_than_the_probe_limit_prove_no_extension() -> None:
    vendor = Vendor()
    added = [vendor.add(DAY1 + timedelta(minutes=m)) for m in range(5)]
    sdk = client(vendor, page_size=2)
    assert ids(sdk.iter()) == added
    assert sdk.extension is False
    more = vendor.add(DAY1 + timedelta(hours=2))
    assert ids(sdk.iter(after_id=added[-1])) == [more]
    # Once known, no more probing: the documented request alone.
    assert vendor.requests[-1] == "/v1/messages?from_date=03-08-2024"


def test_a_server_refusing_unknown_parameters_still_works() -> None:
    vendor = Vendor(strict=True)
    added = [vendor.add(DAY1), vendor.add(DAY1 + timedelta(days=1))]
    sdk = client(vendor)
    assert ids(sdk.iter()) == added
    assert sdk.extension is False
    assert vendor.requests == ["/v1/messages?limit=1000", "/v1/messages"]


def test_randomised_polling_sees_every_message_exactly_once() -> None:
    rng = random.Random(6)
    vendor = Vendor()
    sdk = client(vendor, look_back_days=2)
    seen: list[int] = []
    clock = DAY1
    for _round in range(25):
        for _ in range(rng.randrange(4)):
            clock += timedelta(minutes=rng.randrange(1, 600))
            # Now and then an agent back-dates a message by up to a day.
            vendor.add(clock - timedelta(hours=rng.choice([0, 0, 0, 3, 20])))
        seen.extend(ids(sdk.iter(after_id=seen[-1] if seen else None)))
    assert seen == sorted(vendor.messages)
    assert len(seen) == len(set(seen))
    assert extension_params(vendor) == []


def test_list_get_and_errors() -> None:
    vendor = Vendor()
    one = vendor.add(DAY1, "On the ninth", fields=[("reason", "Reason", "Leak")])
    two = vendor.add(DAY1 + timedelta(days=1), "On the tenth")
    with client(vendor, version=2) as sdk:
        assert ids(sdk.list()) == [one, two]
        assert ids(sdk.list(from_date=date(2024, 3, 11))) == [two]
        assert ids(sdk.list(to_date=date(2024, 3, 10))) == [one]
        message = sdk.get(one)
        assert message.fields == {"reason": "Leak"}
        assert message.labels == {"reason": "Reason"}
        with pytest.raises(NotFound):
            sdk.get(999)
    assert vendor.requests[0] == "/v2/messages"
    assert vendor.requests[1] == "/v2/messages?from_date=03-11-2024"
    wrong = MessagesClient(BASE, EMAIL, "wrong", transport=vendor.transport())
    with wrong, pytest.raises(AuthenticationError) as caught:
        wrong.list()
    assert caught.value.status_code == 404
    assert caught.value.message == "Invalid token"


def test_async_client_against_the_stand_in() -> None:
    vendor = Vendor()
    added = [vendor.add(DAY1 + timedelta(hours=h)) for h in range(3)]

    async def run() -> tuple[list[int], list[int], int]:
        async with AsyncMessagesClient(
            BASE, EMAIL, TOKEN, transport=vendor.async_transport()
        ) as sdk:
            everything = [m.message_id async for m in sdk.iter()]
            more = vendor.add(DAY1 + timedelta(days=1))
            since = [m.message_id async for m in sdk.iter(after_id=everything[-1])]
            single = await sdk.get(more)
            listed = await sdk.list(from_date=date(2024, 3, 11))
            assert [m.message_id for m in listed] == [more]
            return everything, since, single.message_id

    everything, since, single = run_async(run)
    assert everything == added
    assert since == [single]
