"""axe-core on every main console page: no serious or critical violations."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import AXE, LiveServer
from tests.crm_support import carry_all, leads_of


def _violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def story(seeded: dict[str, Any], desk: Any) -> dict[str, Any]:
    account = seeded["account"]
    seeded["message_id"] = desk.take(
        account,
        "Please call back about the invoice",
        first_name="Ann",
        phone="617 555 0123",
        is_emergency=True,
        fields={"Reason for call": "Billing"},
    )
    desk.take(account, "Second message", fields={"Reason for call": "Other"})
    desk.token(seeded["client"])
    carry_all(desk.engine)
    seeded["lead_id"] = leads_of(desk.engine, account.id)[0].id
    return seeded


def test_main_pages_have_no_serious_accessibility_violations(
    people: Any, story: dict[str, Any], live: LiveServer
) -> None:
    account, message_id = story["account"], story["message_id"]
    problems: dict[str, list[str]] = {}

    def check(page: Any, path: str | None, name: str) -> None:
        if path is not None:
            page.goto(path)
        found = _violations(page)
        if found:
            problems[name] = found

    anonymous = people(bypass_csp=True).page
    anonymous.set_content('<html lang="en"><body><main><input type="text"></main></body></html>')
    assert _violations(anonymous), "axe must report an unlabelled input: is it running?"
    check(anonymous, "/console/sign-in", "sign-in")
    check(anonymous, "/console/forgot", "forgot password")
    anonymous.get_by_label("E-mail").fill(story["agent"].email)
    anonymous.get_by_role("button", name="Send the link").click()
    link = re.search(r"/console/password/\S+", live.mailer.sent[0].body).group(0)
    check(anonymous, link, "choose a password")

    agent = people(bypass_csp=True).sign_in(story["agent"].email).page
    base = f"/console/accounts/{account.number}"
    check(agent, "/console/accounts", "accounts")
    check(agent, f"{base}/messages/new", "message form")
    agent.get_by_role("button", name="Save the message").evaluate("b => b.form.noValidate = true")
    agent.get_by_role("button", name="Save the message").click()
    check(agent, None, "message form with errors")
    check(agent, f"{base}/messages", "messages")
    check(agent, f"{base}/messages/{message_id}", "message")
    check(agent, f"{base}/dashboard", "dashboard")

    client = people(bypass_csp=True).sign_in(story["client"].email).page
    check(client, f"{base}/messages?q=invoice&emergency=on", "client messages, filtered")
    check(client, f"{base}/crm", "CRM leads")
    check(client, f"{base}/crm/lead/{story['lead_id']}", "CRM lead")
    check(client, "/console/tokens", "tokens")
    client.get_by_role("button", name="Create token").click()
    check(client, None, "token created")

    admin = people(bypass_csp=True).sign_in(story["admin"].email).page
    check(admin, "/console/admin/accounts/new", "new account")
    check(admin, f"/console/admin/accounts/{account.id}", "account settings")
    check(admin, f"/console/admin/accounts/{account.id}/script", "script editor")
    check(admin, "/console/admin/users", "users")
    check(admin, "/console/admin/users/new", "invite user")
    check(admin, f"/console/admin/users/{story['client'].id}", "user")
    check(admin, "/console/admin/tokens", "all tokens")
    check(admin, "/console/admin/audit", "audit log")
    check(admin, "/console/admin/pipeline", "CRM pipeline")
    check(admin, "/console/no-such-page", "not found")

    assert problems == {}
