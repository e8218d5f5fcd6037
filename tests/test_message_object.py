"""CONTRACT §1 message object: every key, its order and its exact format."""

from __future__ import annotations

import json

import pytest

from answerdesk.labels import label_names
from tests.factories import Desk

STANDARD_KEYS = [
    "account_number",
    "resource",
    "message_id",
    "content",
    "from",
    "first_name",
    "last_name",
    "created_at",
    "utc_created_at",
    "raw_created_at",
    "status",
    "phone",
    "caller_id",
    "company_name",
    "is_emergency",
    "delivered_at",
    "delivered_to",
    "content_with_additional_details",
    "content_with_additional_details_table",
]


def fetch(http, login, message_id, version="v1"):
    response = http.get(f"/{version}/messages/{message_id}", headers=login.headers)
    assert response.status_code == 200, response.text
    # Parse preserving key order exactly as sent.
    return json.loads(response.content, object_pairs_hook=list)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_full_message_every_key_in_order(http, desk: Desk, version) -> None:
    account = desk.account(
        number="10042",
        timezone="America/New_York",
        fields=[("Reason for Call?", True), ("Email", False), ("Best time", False)],
    )
    carla = desk.client_of(account, name="Carla Client", email="carla@acme.example")
    message_id = desk.take(
        account,
        content="Leak under the sink",
        first_name="John",
        last_name="Doe",
        company_name="Doe Corp",
        phone="(617) 555-0123",
        caller_id="617.555.0199",
        is_emergency=True,
        **{"for": "CARLA@acme.example"},
        fields={"Reason for Call?": "Repair", "Best time": "after 5pm", "Email": "  "},
        created_at="2024-03-15T10:32:05.123456",
        delivered_at="2024-03-15T10:40:00-04:00",
        delivered_to="carla@acme.example",
    )
    pairs = fetch(http, carla, message_id, version)
    keys = [key for key, _ in pairs]
    assert keys == [
        *STANDARD_KEYS,
        "content_with_additional_details_table__reason_for_call",
        "content_with_additional_details_table__best_time",
    ]
    body = dict(pairs)
    assert body["account_number"] == "10042"
    assert body["resource"] == "Carla Client"
    assert body["message_id"] == message_id
    assert body["content"] == "Leak under the sink"
    assert body["from"] == "John Doe"
    assert body["created_at"] == "03-15-2024 10:32 AM"
    assert body["utc_created_at"] == "2024-03-15T14:32:05Z"
    assert body["raw_created_at"] == "2024-03-15T10:32:05.123456-04:00"
    assert body["status"] == "delivered"
    assert body["phone"] == "+16175550123"
    assert body["caller_id"] == "+16175550199"
    assert body["company_name"] == "Doe Corp"
    assert body["is_emergency"] is True
    assert body["delivered_at"] == "2024-03-15T14:40:00Z"
    assert body["delivered_to"] == "carla@acme.example"
    assert body["content_with_additional_details"] == (
        "Leak under the sink\nReason for Call?: Repair\nBest time: after 5pm"
    )
    assert body["content_with_additional_details_table"] == [
        ("reason_for_call", "Repair"),
        ("best_time", "after 5pm"),
    ]
    assert body["content_with_additional_details_table__reason_for_call"] == "Repair"


def test_minimal_message_has_every_key_with_nulls(http, desk: Desk) -> None:
    account = desk.account()
    login = desk.client_of(account)
    message_id = desk.take(account, content="Hello", first_name="", phone="   ")
    body = dict(fetch(http, login, message_id))
    assert list(body) == STANDARD_KEYS
    for key in (
        "resource",
        "from",
        "first_name",
        "last_name",
        "phone",
        "caller_id",
        "company_name",
        "delivered_at",
        "delivered_to",
    ):
        assert body[key] is None, key
    assert body["status"] == "new"
    assert body["is_emergency"] is False
    assert body["content_with_additional_details"] == "Hello"
    assert body["content_with_additional_details_table"] == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"first_name": "Ann"}, "Ann"),
        ({"last_name": "Lee"}, "Lee"),
        ({"company_name": "Co", "phone": "6175550123"}, "Co"),
        ({"phone": "6175550123"}, "+16175550123"),
        ({"caller_id": "6175550123"}, None),
    ],
)
def test_from_falls_back_name_company_phone(http, desk: Desk, data, expected) -> None:
    account = desk.account()
    login = desk.client_of(account)
    body = dict(fetch(http, login, desk.take(account, **data)))
    assert body["from"] == expected


@pytest.mark.parametrize(
    ("region", "raw", "stored"),
    [
        ("US", "(617) 555-0123", "+16175550123"),
        ("US", "+1 617 555 0123", "+16175550123"),
        ("US", "+44 20 7946 0958", "+442079460958"),
        ("GB", "020 7946 0958", "+442079460958"),
        ("US", "555", "555"),
        ("US", "call the front desk", "call the front desk"),
        ("US", "  ext. 12 ", "ext. 12"),
    ],
)
def test_phones_are_e164_when_possible_else_as_entered(
    http, desk: Desk, region, raw, stored
) -> None:
    account = desk.account(region=region, timezone="Europe/London" if region == "GB" else "UTC")
    login = desk.client_of(account)
    body = dict(fetch(http, login, desk.take(account, phone=raw, caller_id=raw)))
    assert body["phone"] == stored
    assert body["caller_id"] == stored


def test_for_matches_email_then_name_else_free_text(http, desk: Desk) -> None:
    account = desk.account()
    first = desk.client_of(account, name="Sam Smith", email="sam1@example.com")
    desk.client_of(account, name="Sam Smith", email="sam2@example.com")
    by_name_other = desk.client_of(account, name="sam1@example.com", email="weird@example.com")
    other_account_user = desk.client_of(desk.account(), name="Outsider", email="out@example.com")
    cases = {
        "SAM2@EXAMPLE.COM": "Sam Smith",
        "sam smith": "Sam Smith",
        "sam1@example.com": "Sam Smith",  # e-mail wins over a user named like it
        "Outsider": "Outsider",  # another account's user is never linked
        "Front Desk": "Front Desk",
    }
    for given, resource in cases.items():
        body = dict(fetch(http, first, desk.take(account, **{"for": given})))
        assert body["resource"] == resource, given
    assert by_name_other and other_account_user


def test_labels_that_collide_get_suffixes(http, desk: Desk) -> None:
    account = desk.account(
        fields=[
            ("Reason for Call?", False),
            ("reason-for-call", False),
            ("REASON FOR CALL", False),
            ("Phone #", False),
            ("???", False),
        ]
    )
    login = desk.client_of(account)
    message_id = desk.take(
        account,
        fields={
            "Reason for Call?": "a",
            "REASON FOR CALL": "c",
            "Phone #": "p",
            "???": "q",
        },
    )
    body = dict(fetch(http, login, message_id))
    assert body["content_with_additional_details_table"] == [
        ("reason_for_call", "a"),
        ("reason_for_call_3", "c"),
        ("phone", "p"),
        ("field", "q"),
    ]
    assert body["content_with_additional_details_table__reason_for_call_3"] == "c"
    assert "content_with_additional_details_table__reason_for_call_2" not in body


def test_script_changes_do_not_change_stored_messages(http, desk: Desk, engine) -> None:
    from answerdesk.store.engine import write_transaction
    from answerdesk.store.tables import script_fields

    account = desk.account(fields=[("Reason", True)])
    login = desk.client_of(account)
    message_id = desk.take(account, fields={"Reason": "Billing"})
    before = fetch(http, login, message_id)
    with write_transaction(engine) as connection:
        connection.execute(script_fields.update().values(label="Why", required=False))
    assert fetch(http, login, message_id) == before


def test_label_names_rules() -> None:
    assert label_names(["Reason for Call?"]) == ["reason_for_call"]
    assert label_names(["a", "A", "a!"]) == ["a", "a_2", "a_3"]
    assert label_names(["a_2", "a", "a"]) == ["a_2", "a", "a_3"]
    assert label_names(["  __Hello--World__  "]) == ["hello_world"]
    assert label_names(["Ünïcode"]) == ["n_code"]
