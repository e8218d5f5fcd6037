"""Regenerate the console screenshots in docs/screenshots/ (PNG).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Seeds a temporary SQLite database with a small, fixed story (one dental
practice, its script, a month of messages), serves the app on a local port
and photographs the main pages with Debian's headless Chromium through
Playwright (`.ci/install-browser` installs what it needs).
"""

from __future__ import annotations

import argparse
import random
import socket
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Page, sync_playwright

from answerdesk import accounts, clock, tokens, users
from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.console import console_state
from answerdesk.crm.deals import create_deal
from answerdesk.crm.records import RecordRef
from answerdesk.mail import RecordingMailer
from answerdesk.messages import change_status, take_message_data
from answerdesk.store.engine import create_engine_for_url, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.sync import run_worker

PASSWORD = "screenshot password"  # noqa: S105 (a throwaway demo database)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CALLERS = [
    ("Ann", "Lee", "(617) 555-0142"),
    ("Marcus", "Hill", "617-555-0199"),
    ("Priya", "Shah", "+1 617 555 0175"),
    ("Tom", "Becker", "6175550110"),
    ("Rosa", "Diaz", "617.555.0133"),
    ("Kenji", "Mori", "(617) 555-0188"),
]
REASONS = [
    "New patient appointment",
    "Reschedule",
    "Billing question",
    "Tooth pain",
    "Insurance",
    "Prescription refill",
]
TEXTS = [
    "Would like to book a cleaning next week, mornings preferred.",
    "Needs to move Thursday's appointment; please call back.",
    "Question about the last invoice, thinks the insurance part is missing.",
    "Severe tooth pain since last night, asks for the earliest slot.",
    "Wants to know if the practice takes Delta Dental PPO.",
    "Asks for a refill of the prescription from the last visit.",
]


def seed(url: str) -> dict[str, Any]:
    """Create the story: accounts, people, a script and about 200 messages."""
    engine = create_engine_for_url(url)
    upgrade(engine)
    rng = random.Random(7)
    with write_transaction(engine) as connection:
        account = accounts.create_account(
            connection,
            number="10042",
            name="Harbor Dental Group",
            timezone="America/New_York",
            phone="(617) 555-0100",
        )
        accounts.create_account(
            connection,
            number="20077",
            name="Summit Plumbing & Heating",
            timezone="America/Chicago",
            phone="(312) 555-0144",
        )
        accounts.create_account(
            connection, number="30115", name="Lakeside Veterinary Clinic", timezone="America/Denver"
        )
        for label, required in (
            ("Reason for call", True),
            ("Patient date of birth", False),
            ("Insurance provider", False),
        ):
            accounts.add_script_field(
                connection, account_id=account.id, label=label, required=required
            )
        admin = users.create_user(
            connection,
            email="avery@desk.example",
            name="Avery Morgan",
            role="admin",
            password=PASSWORD,
        )
        agent = users.create_user(
            connection,
            email="alex@desk.example",
            name="Alex Rivera",
            role="agent",
            password=PASSWORD,
        )
        client = users.create_user(
            connection,
            email="dana@harbordental.example",
            name="Dr. Dana Reyes",
            role="client",
            account_id=account.id,
            password=PASSWORD,
        )
        users.create_user(
            connection,
            email="front@harbordental.example",
            name="Front Desk",
            role="client",
            account_id=account.id,
            password=PASSWORD,
        )
        tokens.create_token(connection, user_id=client.id, expires_days=90)
        now = clock.utcnow()
        for serial in range(200):
            first, last, phone = rng.choice(CALLERS)
            pick = rng.randrange(len(TEXTS))
            created = now - timedelta(days=rng.random() ** 1.3 * 29, minutes=rng.randint(0, 600))
            message_id = take_message_data(
                connection,
                account=account,
                taken_by_user_id=agent.id,
                data={
                    "first_name": first,
                    "last_name": last,
                    "phone": phone,
                    "for": rng.choice(["Dr. Dana Reyes", "Front Desk", "Billing"]),
                    "content": TEXTS[pick],
                    "is_emergency": pick == 3 and serial % 2 == 0,
                    "created_at": created.isoformat(),
                    "fields": {"Reason for call": REASONS[pick]},
                },
            )
            if serial % 3:
                change_status(
                    connection,
                    account_id=account.id,
                    message_id=message_id,
                    status="delivered",
                    delivered_to="front@harbordental.example",
                    delivered_at=created + timedelta(minutes=rng.randint(3, 75)),
                )
    run_worker(engine, once=True)  # carry the messages into the built-in CRM
    with write_transaction(engine) as connection:
        for lead_id, name, value in ((1, "Implant consultation", "3800"), (1, "Whitening", "450")):
            create_deal(
                connection,
                account_id=account.id,
                record=RecordRef("lead", lead_id),
                name=name,
                value=Decimal(value),
            )
    engine.dispose()
    return {"account": account, "admin": admin, "agent": agent, "client": client}


def sign_in(page: Page, email: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'screens.db'}"
    cast = seed(url)
    app = create_app(Settings(database_url=url))
    console_state(app).mailer = RecordingMailer()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    number, account_id = cast["account"].number, cast["account"].id

    def shoot(page: Page, name: str, path: str | None = None, full: bool = False) -> None:
        if path is not None:
            page.goto(path)
        page.screenshot(path=str(options.out / f"{name}.png"), full_page=full)
        print(options.out / f"{name}.png")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        shoot(page, "01-sign-in", "/console/sign-in")
        sign_in(page, cast["agent"].email)
        shoot(page, "02-agent-accounts", "/console/accounts")
        page.goto(f"/console/accounts/{number}/messages/new")
        page.get_by_label("First name").fill("Marcus")
        page.get_by_role("button", name="Save the message").evaluate(
            "button => button.form.noValidate = true"
        )
        page.get_by_role("button", name="Save the message").click()
        shoot(page, "03-agent-message-form-errors", full=True)
        shoot(page, "04-messages", f"/console/accounts/{number}/messages")
        context.close()

        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in(page, cast["client"].email)
        page.goto(f"/console/accounts/{number}/messages?emergency=on")
        page.get_by_role("link", name="Severe tooth pain").first.click()
        shoot(page, "05-client-message", full=True)
        shoot(page, "06-dashboard", f"/console/accounts/{number}/dashboard")
        page.goto("/console/tokens")
        page.get_by_role("button", name="Create token").click()
        shoot(page, "07-client-token-created")
        page.goto(f"/console/accounts/{number}/crm")
        page.locator("table a").last.click()
        shoot(page, "08-client-crm-lead")
        context.close()

        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in(page, cast["admin"].email)
        shoot(page, "09-admin-script-editor", f"/console/admin/accounts/{account_id}/script")
        shoot(page, "10-admin-users", "/console/admin/users")
        shoot(page, "11-admin-audit-log", "/console/admin/audit")
        context.close()
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
