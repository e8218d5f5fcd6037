"""Signing in and out, cookies, CSRF, throttling and password links."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Engine

from answerdesk.app import create_app
from answerdesk.config import Settings
from tests.console.conftest import PASSWORD, Console, csrf_of
from tests.factories import Desk


def test_sign_in_sets_a_scoped_http_only_cookie(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.browser()
    browser.get("/console/sign-in")
    response = browser.post(
        "/console/sign-in",
        {"email": agent.email.upper(), "password": PASSWORD, "next": "/console/tokens"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/tokens"
    cookie = response.headers["set-cookie"]
    assert "adk_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in tests
    assert browser.get("/console/accounts").status_code == 200


def test_cookie_is_secure_when_the_console_is_served_over_https(
    settings: Settings, engine: Engine, desk: Desk
) -> None:
    app = create_app(replace(settings, base_url="https://desk.example.com"), engine=engine)
    agent = desk.user(role="agent", password=PASSWORD)
    browser = Console(app).browser()
    browser.get("/console/sign-in")
    response = browser.post("/console/sign-in", {"email": agent.email, "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_is_refused_without_saying_which_part(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.browser()
    unknown = browser.post(
        "/console/sign-in", {"email": "nobody@example.com", "password": PASSWORD}
    )
    wrong = browser.post("/console/sign-in", {"email": agent.email, "password": "not the password"})
    for response in (unknown, wrong):
        assert response.status_code == 422
        assert "The e-mail address or the password is not right." in response.text
        assert "adk_session" not in response.headers.get("set-cookie", "")
    assert f'value="{agent.email}"' in wrong.text  # typed e-mail kept


def test_signed_out_visitors_are_sent_to_sign_in(console: Console) -> None:
    response = console.browser().get("/console/accounts?q=12", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=%2Fconsole%2Faccounts%3Fq%3D12"


def test_next_never_leaves_the_console(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.browser()
    response = browser.post(
        "/console/sign-in", {"email": agent.email, "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/console/"


def test_posts_without_a_valid_csrf_token_are_refused(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.sign_in(agent)
    no_token = browser.http.post("/console/tokens/new", data={"expires_days": "5"})
    forged = browser.http.post("/console/tokens/new", data={"csrf_token": "0" * 64})
    foreign = browser.post("/console/tokens/new", headers={"Origin": "https://evil.example"})
    for response in (no_token, forged, foreign):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
    assert "Create a token" in browser.get("/console/tokens").text
    assert "adk_" not in browser.get("/console/tokens").text.split("Your tokens")[1]


def test_sign_in_form_needs_its_csrf_token_too(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.browser()
    browser.get("/console/sign-in")
    response = browser.http.post(
        "/console/sign-in", data={"email": agent.email, "password": PASSWORD}
    )
    assert response.status_code == 403


def test_sign_out_ends_the_session_on_the_server(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.sign_in(agent)
    stolen = browser.http.cookies.get("adk_session")
    assert browser.post("/console/sign-out").status_code == 303
    thief = console.browser()
    thief.http.cookies.set("adk_session", stolen, path="/console")
    assert thief.get("/console/accounts", follow_redirects=False).status_code == 303


def test_json_apis_get_no_cookies_and_keep_their_envelope(http: Any) -> None:
    response = http.get("/v1/messages")
    assert "set-cookie" not in response.headers
    assert response.json() == {"success": False, "info": "Invalid token", "data": {}}
    missing = http.get("/console/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_sign_in_is_throttled_per_account(console: Console, desk: Desk, settings: Settings) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.browser()
    for _ in range(settings.sign_in_limit_per_account):
        assert (
            browser.post(
                "/console/sign-in", {"email": agent.email, "password": "nope nope nope"}
            ).status_code
            == 422
        )
    refused = browser.post("/console/sign-in", {"email": agent.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    other = desk.user(role="agent", password=PASSWORD)
    assert (
        browser.post("/console/sign-in", {"email": other.email, "password": PASSWORD}).status_code
        == 303
    )


def test_sign_in_is_throttled_per_address(settings: Settings, engine: Engine, desk: Desk) -> None:
    app = create_app(replace(settings, sign_in_limit_per_address=3), engine=engine)
    browser = Console(app).browser()
    for serial in range(3):
        browser.post(
            "/console/sign-in", {"email": f"guess{serial}@example.com", "password": "x" * 12}
        )
    agent = desk.user(role="agent", password=PASSWORD)
    assert (
        browser.post("/console/sign-in", {"email": agent.email, "password": PASSWORD}).status_code
        == 429
    )


def test_disabled_user_cannot_sign_in(console: Console, desk: Desk) -> None:
    from answerdesk.store.engine import write_transaction
    from answerdesk.user_admin import set_disabled

    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.sign_in(agent)
    with write_transaction(desk.engine) as connection:
        set_disabled(connection, user_id=agent.id, disabled=True)
    assert browser.get("/console/accounts", follow_redirects=False).status_code == 303
    again = console.browser().post("/console/sign-in", {"email": agent.email, "password": PASSWORD})
    assert again.status_code == 422


def test_password_reset_by_e_mailed_link(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    browser = console.browser()
    unknown = browser.post("/console/forgot", {"email": "nobody@example.com"})
    asked = browser.post("/console/forgot", {"email": agent.email})
    assert unknown.text.count("If an account uses that address") == 1
    assert asked.text.count("If an account uses that address") == 1
    assert [mail.to for mail in console.mailer.sent] == [agent.email]
    link = re.search(r"http://testserver(/console/password/\S+)", console.mailer.sent[0].body)
    assert link
    path = link.group(1)
    page = browser.get(path)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    short = browser.post(path, {"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    mismatch = browser.post(path, {"password": "a new password 1", "confirm": "another one 12"})
    assert mismatch.status_code == 422 and "does not match" in mismatch.text
    done = browser.post(path, {"password": "a new password 1", "confirm": "a new password 1"})
    assert done.headers["location"] == "/console/sign-in?notice=password-set"
    assert browser.get(path).status_code == 404  # used up
    console.sign_in(agent, "a new password 1")
    old = console.browser().post("/console/sign-in", {"email": agent.email, "password": PASSWORD})
    assert old.status_code == 422


def test_csrf_token_is_bound_to_the_browser(console: Console, desk: Desk) -> None:
    agent = desk.user(role="agent", password=PASSWORD)
    mine = console.sign_in(agent)
    other = console.sign_in(desk.user(role="agent", password=PASSWORD))
    response = other.http.post("/console/tokens/new", data={"csrf_token": mine.token})
    assert response.status_code == 403
    assert csrf_of(mine.get("/console/tokens").text) == mine.token
