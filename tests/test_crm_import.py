"""Import existing customers (CONTRACT §4): contacts, leads, deals; all lines or none."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from answerdesk.crm.importing import import_records
from answerdesk.importing import ImportFailed
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import deals
from tests.crm_support import carry_all, contacts_of, leads_of, rows, text_messages_of
from tests.factories import Desk


def _import(engine: Engine, account, kind: str, path: Path) -> int:  # type: ignore[no-untyped-def]
    with write_transaction(engine) as connection:
        return import_records(connection, account=account, kind=kind, path=path)  # type: ignore[arg-type]


def test_csv_contacts_are_normalised(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    path = tmp_path / "contacts.csv"
    path.write_text(
        "first_name,last_name,organization_name,phone,mobile,email,is_organization\n"
        "Ann,Lee,,(617) 555-0123,,Ann@Example.com,\n"
        "\n"
        ",,Lee Bakery,,617.555.0199,,yes\n",
        encoding="utf-8",
    )
    assert _import(engine, account, "contact", path) == 2
    ann, bakery = contacts_of(engine, account.id)
    assert (ann.first_name, ann.phone, ann.email, ann.email_key) == (
        "Ann", "+16175550123", "Ann@example.com", "ann@example.com",
    )
    assert (ann.is_organization, ann.organization_name) == (False, None)
    assert (bakery.is_organization, bakery.mobile) == (True, "+16175550199")


def test_imported_contact_is_matched_from_the_first_call(
    engine: Engine, desk: Desk, tmp_path: Path
) -> None:
    account = desk.account()
    path = tmp_path / "contacts.jsonl"
    path.write_text('{"first_name": "Ann", "phone": "617 555 0123"}\n', encoding="utf-8")
    _import(engine, account, "contact", path)
    desk.take(account, phone="+1 (617) 555-0123")
    carry_all(engine)
    assert leads_of(engine, account.id) == []
    [text] = text_messages_of(engine, account.id)
    assert text.resource_type == "contact"


def test_jsonl_leads(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    path = tmp_path / "leads.jsonl"
    path.write_text(
        '{"first_name": "Bo", "email": "bo@example.com"}\n{"phone": 6175550123}\n',
        encoding="utf-8",
    )
    assert _import(engine, account, "lead", path) == 2
    bo, number = leads_of(engine, account.id)
    assert (bo.status, bo.source, bo.email) == ("New", "import", "bo@example.com")
    assert number.phone == "+16175550123"


def test_deals_attach_to_their_record(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    (tmp_path / "c.jsonl").write_text('{"last_name": "Lee", "phone": "6175550123"}\n')
    (tmp_path / "l.jsonl").write_text('{"last_name": "Bo", "email": "bo@example.com"}\n')
    _import(engine, account, "contact", tmp_path / "c.jsonl")
    _import(engine, account, "lead", tmp_path / "l.jsonl")
    path = tmp_path / "deals.csv"
    path.write_text(
        "name,value,stage,phone,email\n"
        "Boiler,1200.50,open,(617) 555-0123,\n"
        "Tap,10,WON,,BO@example.com\n"
        "Pipe,,,,bo@example.com\n"
    )
    assert _import(engine, account, "deal", path) == 3
    [contact], [lead] = contacts_of(engine, account.id), leads_of(engine, account.id)
    boiler, tap, pipe = rows(engine, deals)
    assert (boiler.contact_id, boiler.lead_id, boiler.value) == (contact.id, None, Decimal("1200.50"))
    assert (tap.lead_id, tap.stage) == (lead.id, "won")
    assert (pipe.lead_id, pipe.stage, pipe.value) == (lead.id, "open", None)


def test_every_bad_line_is_reported_and_nothing_imported(
    engine: Engine, desk: Desk, tmp_path: Path
) -> None:
    account = desk.account()
    path = tmp_path / "leads.jsonl"
    path.write_text(
        '{"first_name": "ok"}\n'
        "\n"
        '{"first_name": "Ann", "nickname": "A"}\n'
        '{"email": "not an address"}\n'
        "{}\n"
        "not json\n"
        '["a list"]\n'
    )
    with pytest.raises(ImportFailed) as raised:
        _import(engine, account, "lead", path)
    assert [str(problem)[:45] for problem in raised.value.problems] == [
        "line 3: nickname: unknown key",
        "line 4: email: is not a valid e-mail address",
        "line 5: record: needs a name, an organization",
        "line 6: json: is not valid JSON (invalid lite",
        "line 7: json: must be a JSON object",
    ]
    assert raised.value.bad_lines == 5
    assert leads_of(engine, account.id) == []


def test_csv_unknown_column_is_reported_on_the_header(
    engine: Engine, desk: Desk, tmp_path: Path
) -> None:
    account = desk.account()
    path = tmp_path / "contacts.csv"
    path.write_text('first_name,nickname\nAnn,A\n"Bo\nB",x,extra\n')
    with pytest.raises(ImportFailed) as raised:
        _import(engine, account, "contact", path)
    assert [str(p) for p in raised.value.problems] == [
        "line 1: nickname: unknown key",
        "line 3: line: has 3 values; the header has 2",
    ]


def test_bad_deals(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    path = tmp_path / "deals.jsonl"
    path.write_text(
        '{"name": "A", "phone": "617 555 0000"}\n'
        '{"value": "lots", "stage": "maybe", "email": "x@example.com"}\n'
        '{"name": "C"}\n'
        '{"name": "D", "first_name": "x", "phone": "1"}\n'
    )
    with pytest.raises(ImportFailed) as raised:
        _import(engine, account, "deal", path)
    assert [str(p) for p in raised.value.problems] == [
        "line 1: record: no lead or contact of this account has that phone or e-mail",
        "line 2: name: is required",
        "line 2: stage: must be one of open, won, lost",
        "line 2: value: must be a number",
        "line 3: phone: a deal needs the phone or e-mail of its lead or contact",
        "line 4: first_name: unknown key",
    ]


def test_at_most_twenty_bad_lines_are_detailed(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    account = desk.account()
    path = tmp_path / "leads.jsonl"
    path.write_text("{}\n" * 25)
    with pytest.raises(ImportFailed) as raised:
        _import(engine, account, "lead", path)
    assert raised.value.bad_lines == 25
    assert len(raised.value.problems) == 20


def test_unknown_file_type(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    from answerdesk.errors import ValidationFailed

    path = tmp_path / "leads.xlsx"
    path.write_text("x")
    with pytest.raises(ValidationFailed):
        _import(engine, desk.account(), "lead", path)
