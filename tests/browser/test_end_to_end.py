"""The issue's story in a real browser: an agent takes a message, its client reads it
in the console and through /v1/messages with a token made in the console; nobody
else sees it; forms without a CSRF token are refused; the dashboard chart renders."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.browser.conftest import LiveServer


def test_agent_takes_a_message_and_only_its_client_reads_it(
    people: Any, seeded: dict[str, Any], live: LiveServer
) -> None:
    account = seeded["account"]
    agent = people().sign_in(seeded["agent"].email).page
    agent.get_by_label("Account number or name").fill(account.number)
    agent.get_by_role("button", name="Search").click()
    agent.wait_for_url(f"**/console/accounts/{account.number}/messages/new")

    agent.get_by_label("First name").fill("Ann")
    agent.get_by_label("Last name").fill("Lee")
    agent.get_by_label("Callback number").fill("(617) 555-0123")
    agent.get_by_label("For", exact=True).fill("Dana Reyes")
    agent.get_by_label("Message (required)", exact=True).fill(
        "Cracked tooth, needs an appointment today"
    )
    agent.get_by_label("Patient date of birth").fill("1984-02-29")
    agent.get_by_role("button", name="Save the message").click()
    # The required custom field is enforced by the browser: nothing was sent.
    assert agent.url.endswith("/messages/new")
    assert agent.eval_on_selector("input[required]:invalid", "el => el.validationMessage")
    agent.get_by_label("Reason for call").fill("Emergency appointment")
    agent.get_by_label("This is an emergency").check()
    agent.get_by_role("button", name="Save the message").click()
    agent.wait_for_url(re.compile(r".*/messages/\d+\?saved=1$"))
    message_id = int(re.search(r"/messages/(\d+)", agent.url).group(1))
    assert agent.get_by_text("The message is saved").is_visible()
    assert agent.get_by_text("Emergency appointment", exact=True).is_visible()
    assert agent.get_by_text("+16175550123", exact=True).is_visible()

    client = people().sign_in(seeded["client"].email).page
    assert client.url.endswith(f"/console/accounts/{account.number}/messages")
    client.get_by_role("link", name=re.compile("Cracked tooth")).click()
    client.wait_for_url(f"**/messages/{message_id}")
    assert client.get_by_text("Emergency appointment", exact=True).is_visible()
    assert client.locator(".badge-emergency").first.is_visible()

    client.get_by_role("link", name="API tokens").click()
    client.get_by_label("Expires after (days)").fill("30")
    client.get_by_role("button", name="Create token").click()
    token = client.get_by_label("API token").input_value()
    assert len(token) == 64 and token.startswith("adk_")
    client.get_by_role("button", name="Copy").first.click()
    client.wait_for_function("document.querySelector('[data-copy=token]').textContent !== 'Copy'")
    curl = client.get_by_label("curl command").input_value()
    assert f"'{live.url}/v1/messages'" in curl and token in curl

    email = seeded["client"].email
    response = httpx.get(
        f"{live.url}/v1/messages", headers={"X-API-EMAIL": email, "X-API-TOKEN": token}
    )
    (message,) = response.json()
    assert message["message_id"] == message_id
    assert message["resource"] == "Dana Reyes"
    assert message["is_emergency"] is True
    assert message["content_with_additional_details_table"] == {
        "reason_for_call": "Emergency appointment",
        "patient_date_of_birth": "1984-02-29",
    }

    stranger = people().sign_in(seeded["stranger"].email).page
    assert "Cracked tooth" not in stranger.content()
    for path in (
        f"/console/accounts/{account.number}/messages/{message_id}",
        f"/console/accounts/{account.number}/messages",
        f"/console/accounts/{seeded['other'].number}/messages/{message_id}",
    ):
        answer = stranger.goto(path)
        assert answer is not None and answer.status == 404, path
        assert "Cracked tooth" not in stranger.content()


def test_form_posts_without_csrf_token_are_refused(
    people: Any, seeded: dict[str, Any], live: LiveServer
) -> None:
    person = people().sign_in(seeded["client"].email)
    bare = person.page.request.post(
        f"{live.url}/console/tokens/new", form={"expires_days": "5"}, max_redirects=0
    )
    assert bare.status == 403
    # A form on another page (an attacker's) posting to the console.
    person.page.set_content(
        f'<form method="post" action="{live.url}/console/tokens/new">'
        '<input name="expires_days" value="5"><button>Go</button></form>'
    )
    with person.page.expect_navigation():
        person.page.click("button")
    assert "Not allowed" in person.page.content() or "/sign-in" in person.page.url
    person.page.goto("/console/tokens")
    assert "You have no tokens yet." in person.page.content()


def test_dashboard_chart_renders(people: Any, seeded: dict[str, Any], desk: Any) -> None:
    account = seeded["account"]
    for serial in range(5):
        desk.take(
            account,
            f"Message {serial}",
            is_emergency=serial == 0,
            fields={"Reason for call": "Other"},
        )
    page = people().sign_in(seeded["agent"].email).page
    page.goto(f"/console/accounts/{account.number}/dashboard")
    chart = page.locator("#messages-chart")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150
    assert page.locator("#messages-chart rect.bar").count() == 1
    emergency = page.locator("#messages-chart rect.bar-emergency")
    assert emergency.count() == 1
    fill = emergency.evaluate("el => getComputedStyle(el).fill")
    assert fill == "rgb(180, 35, 24)"
