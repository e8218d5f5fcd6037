"""The SDK's models and package surface: lenient parsing, labels, a complete __all__."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

import answerdesk.client as sdk
from answerdesk.client import DecodeError, label_name
from answerdesk.client._models import (
    parse_message,
    parse_message_list,
    parse_text_message,
    parse_text_message_page,
)
from tests.vendor import vendor_message

CREATED = datetime(2024, 3, 15, 14, 32, 5, 123456, tzinfo=UTC)


def test_the_package_imports_nothing_but_httpx_and_the_standard_library() -> None:
    code = (
        "import sys, asyncio, httpx\n"
        "before = set(sys.modules)\n"
        "import answerdesk.client\n"
        "print(sorted(m for m in set(sys.modules) - before"
        " if not m.startswith('answerdesk.client')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Beyond httpx, only the (empty) parent package and standard-library modules.
    extra = [m for m in eval(out.stdout) if m.split(".")[0] not in sys.stdlib_module_names]
    assert extra == ["answerdesk"]


def test_all_is_complete_and_exact() -> None:
    public = {name for name in vars(sdk) if not name.startswith("_")}
    assert set(sdk.__all__) == public
    assert sdk.__all__ == sorted(sdk.__all__)


def test_exception_tree() -> None:
    assert issubclass(sdk.RequestTimeout, sdk.TransportError)
    for cls in (sdk.TransportError, sdk.DecodeError, sdk.APIError):
        assert issubclass(cls, sdk.ClientError)
    for cls in (sdk.BadRequest, sdk.AuthenticationError, sdk.NotFound, sdk.RateLimited):
        assert issubclass(cls, sdk.APIError)
    assert issubclass(sdk.ServerError, sdk.APIError)


def test_message_from_the_contract_example() -> None:
    obj = vendor_message(
        7,
        CREATED,
        "Leak under the sink",
        first_name="John",
        last_name="Doe",
        fields=[
            ("reason_for_call", "Reason for Call?", "Repair"),
            ("best_time", "Best time", "5pm"),
        ],
        status="delivered",
        delivered_at=CREATED,
        delivered_to="carla@acme.example",
    )
    message = parse_message(obj)
    assert message.message_id == 7
    assert message.from_ == "John Doe"
    assert message.created_at == CREATED
    assert message.local_created_at is not None
    assert message.local_created_at.isoformat() == "2024-03-15T09:32:05.123456-05:00"
    assert message.local_date == date(2024, 3, 15)
    assert message.delivered_at == CREATED.replace(microsecond=0)
    assert message.fields == {"reason_for_call": "Repair", "best_time": "5pm"}
    assert message.labels == {"reason_for_call": "Reason for Call?", "best_time": "Best time"}
    assert message.raw is obj


def test_seed_001_keys_with_spaces_read_the_same() -> None:
    underscored = vendor_message(3, CREATED, fields=[("reason", "Reason", "Leak")])
    spaced = {key.replace("_", " "): value for key, value in underscored.items()}
    del spaced["content with additional details table"]
    assert parse_message(spaced).fields == {"reason": "Leak"}
    assert parse_message(spaced).message_id == 3
    assert parse_message(spaced).created_at == CREATED


def test_flattened_keys_stand_in_for_a_missing_table() -> None:
    obj = vendor_message(1, CREATED, fields=[("a", "A", "1"), ("b", "B", "2")])
    obj["content_with_additional_details_table"] = None
    assert parse_message(obj).fields == {"a": "1", "b": "2"}


def test_labels_are_read_back_even_from_awkward_text() -> None:
    fields = [
        ("phone", "Phone", "555: call"),  # a value with ": " in it
        ("phone_2", "Phone", "second"),  # a repeated label
        ("note", "Note", "two\nlines"),  # a value across lines
    ]
    obj = vendor_message(1, CREATED, "Content\nwith: a colon", fields=fields)
    assert parse_message(obj).labels == {"phone": "Phone", "phone_2": "Phone", "note": "Note"}


def test_unreadable_labels_fall_back_to_the_name() -> None:
    obj = vendor_message(1, CREATED, fields=[("reason_for_call", "Reason for Call?", "Repair")])
    obj["content_with_additional_details"] = "rewritten by someone"
    assert parse_message(obj).labels == {"reason_for_call": "Reason for call"}


def test_missing_and_odd_values_become_none() -> None:
    message = parse_message({"message_id": "12", "created_at": "03-09-2024 11:30 PM"})
    assert message.message_id == 12
    assert message.created_at is None and message.status is None
    assert message.local_date == date(2024, 3, 9)
    assert message.fields == {}


@pytest.mark.parametrize(
    "body", [{"message_id": None}, {"message_id": True}, [], "text", {"content": "x"}]
)
def test_a_message_without_an_id_is_a_decode_error(body) -> None:
    with pytest.raises(DecodeError):
        parse_message(body)


def test_a_list_answer_must_be_an_array() -> None:
    with pytest.raises(DecodeError):
        parse_message_list({"items": []})


def test_text_message_reads_send_at_as_sent_at() -> None:
    data = {
        "id": 1,
        "user_id": 1,
        "user_phone_number": "+44-208-1234567",
        "content": "Schedule another call.",
        "incoming": True,
        "resource_phone_number": "+44-208-1234567",
        "resource_type": "contact",
        "resource_id": 7,
        "associated_deal_ids": [12],
        "send_at": "2016-10-02T11:08:56Z",
        "updated_at": "2016-10-03T16:32:56Z",
        "created_at": "2016-10-03T16:32:56Z",
    }
    body = {
        "items": [{"data": data, "meta": {"type": "text_message"}}],
        "meta": {"type": "collection", "count": 1, "links": {"self": "http://x/v2/text_messages"}},
    }
    page = parse_text_message_page(body)
    (text,) = page.items
    assert text.sent_at == datetime(2016, 10, 2, 11, 8, 56, tzinfo=UTC)
    assert text.associated_deal_ids == (12,)
    assert (page.count, page.next_page, len(page)) == (1, None, 1)
    assert parse_text_message({"data": data}) == text
    with pytest.raises(DecodeError):
        parse_text_message_page({"data": []})


def test_label_name_matches_the_contract() -> None:
    assert label_name("Reason for Call?") == "reason_for_call"
    assert label_name("???") == "field"
    assert label_name("  E-mail  ") == "e_mail"
