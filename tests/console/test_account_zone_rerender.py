"""Saving a new time zone in the console re-renders the account's stored JSON in the background."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.accounts import Account
from answerdesk.console.admin import accounts as account_pages
from answerdesk.messages.rerender import wait_for_background
from tests.console.conftest import PASSWORD, Console
from tests.factories import Desk
from tests.rerender_support import FIELDS, assert_answers_are_fresh, stored_zones, take_varied


def form(account: Account, **changes: str) -> dict[str, str]:
    values = {
        "number": account.number,
        "name": account.name,
        "timezone": account.timezone,
        "region": account.region,
        "phone": account.phone or "",
    }
    return values | changes


def test_new_zone_is_stored_for_every_message_after_the_save(
    console: Console, desk: Desk, engine: Engine, http: TestClient
) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    login = desk.client_of(account)
    take_varied(desk, account, 12)
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))

    saved = admin.post(
        f"/console/admin/accounts/{account.id}", form(account, timezone="Pacific/Chatham")
    )

    assert saved.status_code == 303
    assert_answers_are_fresh(http, login, engine, account.id)  # whatever the walk has reached
    assert wait_for_background(timeout=60)
    assert set(stored_zones(engine, account.id).values()) == {"Pacific/Chatham"}
    assert_answers_are_fresh(http, login, engine, account.id)


def test_only_a_zone_change_starts_a_walk(
    console: Console, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    started: list[Any] = []
    monkeypatch.setattr(
        account_pages, "rerender_in_background", lambda _engine, saved: started.append(saved)
    )
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))
    path = f"/console/admin/accounts/{account.id}"

    assert admin.post(path, form(account, name="Acme Plumbing & Heating")).status_code == 303
    assert admin.post(path, form(account, number="90001", phone="")).status_code == 303
    assert started == []
    assert admin.post(path, form(account, timezone="Europe/London")).status_code == 303
    assert [(saved.id, saved.timezone) for saved in started] == [(account.id, "Europe/London")]
    refused = admin.post(path, form(account, timezone="Mars/Olympus"))
    assert refused.status_code == 422 and len(started) == 1
