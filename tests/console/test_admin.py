"""Admins run accounts, scripts, users and tokens; every change lands in the audit log."""

from __future__ import annotations

import re

import sqlalchemy as sa

from answerdesk.accounts import get_script
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import accounts, audit_log
from tests.console.conftest import PASSWORD, Console, field_error
from tests.factories import Desk


def _audit(desk: Desk) -> list[str]:
    with desk.engine.connect() as connection:
        return [
            row.action for row in connection.execute(sa.select(audit_log).order_by(audit_log.c.id))
        ]


def test_only_admins_reach_admin_pages(console: Console, desk: Desk) -> None:
    account = desk.account()
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    client = console.sign_in(desk.user(role="client", account=account, password=PASSWORD))
    for browser in (agent, client):
        for path in (
            "/console/admin/users",
            "/console/admin/tokens",
            "/console/admin/audit",
            "/console/admin/accounts/new",
            f"/console/admin/accounts/{account.id}/script",
        ):
            assert browser.get(path).status_code == 403, path
        assert (
            browser.post("/console/admin/accounts/new", {"number": "1", "name": "x"}).status_code
            == 403
        )


def test_account_form_reports_every_error_and_saves_nothing(console: Console, desk: Desk) -> None:
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))
    response = admin.post(
        "/console/admin/accounts/new",
        {
            "number": " ",
            "name": "Acme <Co>",
            "timezone": "Mars/Olympus",
            "region": "ZZ",
            "phone": "",
        },
    )
    assert response.status_code == 422
    assert field_error(response.text, "number") == "Account number is required"
    assert "Unknown IANA time zone" in (field_error(response.text, "timezone") or "")
    assert (
        field_error(response.text, "region")
        == "Phone region must be a two-letter phone region, e.g. US or GB"
    )
    assert field_error(response.text, "name") is None
    assert 'value="Acme &lt;Co&gt;"' in response.text and 'value="Mars/Olympus"' in response.text
    with desk.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(accounts)).scalar() == 0


def test_admin_creates_and_edits_an_account(console: Console, desk: Desk) -> None:
    taken = desk.account(number="500")
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))
    created = admin.post(
        "/console/admin/accounts/new",
        {
            "number": "777",
            "name": "Harbor Dental",
            "timezone": "America/Chicago",
            "region": "us",
            "phone": "312 555 0100",
        },
    )
    assert created.status_code == 303
    account_id = int(re.search(r"/accounts/(\d+)/script", created.headers["location"]).group(1))
    clash = admin.post(
        f"/console/admin/accounts/{account_id}",
        {
            "number": taken.number,
            "name": "Harbor Dental",
            "timezone": "America/Chicago",
            "region": "US",
            "phone": "",
        },
    )
    assert field_error(clash.text, "number") == "Account number is already used by another account"
    saved = admin.post(
        f"/console/admin/accounts/{account_id}",
        {
            "number": "778",
            "name": "Harbor Dental Group",
            "timezone": "Europe/London",
            "region": "GB",
            "phone": "",
        },
    )
    assert saved.status_code == 303
    with desk.engine.connect() as connection:
        row = connection.execute(sa.select(accounts).where(accounts.c.id == account_id)).one()
    assert (row.number, row.name, row.timezone, row.region, row.phone) == (
        "778",
        "Harbor Dental Group",
        "Europe/London",
        "GB",
        None,
    )
    assert _audit(desk) == ["account.create", "account.update"]
    log = admin.get("/console/admin/audit").text
    assert "account.update" in log and "number: 777 → 778" in log


def test_script_editor_adds_renames_reorders_requires_and_removes(
    console: Console, desk: Desk
) -> None:
    account = desk.account(fields=[("Reason", False), ("Callback time", False)])
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))
    base = f"/console/admin/accounts/{account.id}/script"
    assert (
        admin.post(f"{base}/add", {"label": "Date of birth", "required": "on"}).status_code == 303
    )
    dup = admin.post(f"{base}/add", {"label": "reason"})
    assert (
        dup.status_code == 422
        and field_error(dup.text, "label") == "The script already has a field with this label"
    )
    with read_transaction(desk.engine) as connection:
        reason, callback, birth = get_script(connection, account_id=account.id)
    assert birth.required
    renamed = admin.post(
        f"{base}/{reason.id}", {"action": "rename", f"label_{reason.id}": "Callback time"}
    )
    assert renamed.status_code == 422
    assert 'value="Callback time"' in renamed.text
    assert (
        admin.post(
            f"{base}/{reason.id}", {"action": "rename", f"label_{reason.id}": "Reason for call"}
        ).status_code
        == 303
    )
    assert admin.post(f"{base}/{birth.id}", {"action": "up"}).status_code == 303
    assert admin.post(f"{base}/{reason.id}", {"action": "require"}).status_code == 303
    assert admin.post(f"{base}/{callback.id}", {"action": "remove"}).status_code == 303
    with read_transaction(desk.engine) as connection:
        script = get_script(connection, account_id=account.id)
    assert [(f.label, f.required) for f in script] == [
        ("Reason for call", True),
        ("Date of birth", True),
    ]
    other = desk.account()
    assert (
        admin.post(
            f"/console/admin/accounts/{other.id}/script/{reason.id}", {"action": "remove"}
        ).status_code
        == 404
    )
    assert _audit(desk) == [
        "script.add",
        "script.rename",
        "script.up",
        "script.require",
        "script.remove",
    ]
    agent = console.sign_in(desk.user(role="agent", password=PASSWORD))
    form = agent.get(f"/console/accounts/{account.number}/messages/new").text
    assert form.index("Reason for call") < form.index("Date of birth")


def test_admin_invites_users_and_they_choose_a_password(console: Console, desk: Desk) -> None:
    account = desk.account(number="4242")
    admin = console.sign_in(desk.user(role="admin", password=PASSWORD))
    bad = admin.post(
        "/console/admin/users/new",
        {"email": "not-an-email", "name": "", "role": "client", "account_number": ""},
    )
    assert bad.status_code == 422
    assert field_error(bad.text, "email") == "E-mail must be a valid e-mail address"
    assert field_error(bad.text, "name") == "Name is required"
    assert field_error(bad.text, "account_number") == "Account number is required for a client"
    done = admin.post(
        "/console/admin/users/new",
        {"email": "Dana@Example.com", "name": "Dana", "role": "client", "account_number": "4242"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?invited=1")
    (mail,) = console.mailer.sent
    assert mail.to == "dana@example.com" and "invited" in mail.subject
    path = re.search(r"http://testserver(/console/password/\S+)", mail.body).group(1)
    dana = console.browser()
    assert "Welcome, Dana" in dana.get(path).text
    dana.post(path, {"password": "dana's password", "confirm": "dana's password"})
    from answerdesk.users import find_user

    with read_transaction(desk.engine) as connection:
        user = find_user(connection, email="dana@example.com")
    assert user is not None and user.account_id == account.id
    console.sign_in(user, "dana's password")
    assert _audit(desk) == ["user.create"]


def test_admin_disables_resets_and_revokes(console: Console, desk: Desk) -> None:
    account = desk.account()
    client_user = desk.user(role="client", account=account, password=PASSWORD)
    token = desk.token(client_user)
    client = console.sign_in(client_user)
    admin_user = desk.user(role="admin", password=PASSWORD)
    admin = console.sign_in(admin_user)
    assert admin.post(f"/console/admin/users/{client_user.id}/reset").status_code == 303
    assert [m.to for m in console.mailer.sent] == [client_user.email]
    assert admin.post(f"/console/admin/users/{client_user.id}/disable").status_code == 303
    assert client.get("/console/tokens", follow_redirects=False).status_code == 303
    api = client.http.get(
        "/v1/messages", headers={"X-API-EMAIL": client_user.email, "X-API-TOKEN": token}
    )
    assert api.status_code == 404
    assert admin.post(f"/console/admin/users/{client_user.id}/enable").status_code == 303
    assert admin.post(f"/console/admin/users/{admin_user.id}/disable").status_code == 422
    listing = admin.get(f"/console/admin/tokens?q={client_user.email}").text
    token_id = re.search(r'action="/console/admin/tokens/(\d+)/revoke"', listing).group(1)
    assert admin.post(f"/console/admin/tokens/{token_id}/revoke").status_code == 303
    api = client.http.get(
        "/v1/messages", headers={"X-API-EMAIL": client_user.email, "X-API-TOKEN": token}
    )
    assert api.status_code == 404
    assert _audit(desk) == ["user.reset", "user.disable", "user.enable", "token.revoke"]
    users_page = admin.get("/console/admin/users?role=client").text
    assert client_user.email in users_page and admin_user.email not in users_page
