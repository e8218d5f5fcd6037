"""Browser tests: a live server on a test database, driven by headless Chromium.

They need Debian's `/usr/bin/chromium`, the `playwright` Python package (never
`playwright install`: it downloads browsers) and axe-core from npm in
`tests/browser/node_modules` (`.ci/install-browser` installs both). Without
them the tests skip with the reason, except under `CI=true`, where they fail.
They run on SQLite only: the console's behaviour on both databases is covered
by the plain tests in `tests/console/`.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from answerdesk.app import create_app
from answerdesk.config import Settings
from answerdesk.console import console_state
from answerdesk.mail import RecordingMailer
from tests.factories import Desk

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
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
PASSWORD = "correct horse battery"


def missing_tool() -> str | None:
    """Say what is missing to run browser tests, or None when all is there."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (run .ci/install-browser)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    if not AXE.exists():
        return f"axe-core is missing at {AXE} (run .ci/install-browser)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session; skip (or fail under CI) without one."""
    reason = missing_tool()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Browser tests use a SQLite file (overrides the parametrised fixture)."""
    path = tmp_path / "answerdesk.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    mailer: RecordingMailer


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free local port, in a background thread."""
    app = create_app(settings, engine=engine)
    mailer = RecordingMailer()
    console_state(app).mailer = mailer
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield LiveServer(url=f"http://127.0.0.1:{port}", mailer=mailer)
    server.should_exit = True
    thread.join(timeout=10)


class Person:
    """A browser tab of one person, signed in through the real form."""

    def __init__(self, chromium: Any, live: LiveServer, *, bypass_csp: bool = False) -> None:
        self.context = chromium.new_context(
            base_url=live.url, bypass_csp=bypass_csp, viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.live = live

    def sign_in(self, email: str, password: str = PASSWORD) -> Person:
        self.page.goto("/console/sign-in")
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(lambda url: "/sign-in" not in url)
        return self

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(chromium: Any, live: LiveServer) -> Iterator[Any]:
    """`people()` opens a new person's browser context; all are closed after the test."""
    opened: list[Person] = []

    def open_person(**kwargs: Any) -> Person:
        person = Person(chromium, live, **kwargs)
        opened.append(person)
        return person

    yield open_person
    for person in opened:
        person.close()


@pytest.fixture
def seeded(desk: Desk) -> dict[str, Any]:
    """Two accounts with users: the cast of the end-to-end story."""
    account = desk.account(
        number="10042",
        name="Harbor Dental Group",
        fields=[("Reason for call", True), ("Patient date of birth", False)],
    )
    other = desk.account(number="20077", name="Summit Plumbing")
    return {
        "account": account,
        "other": other,
        "admin": desk.user(role="admin", password=PASSWORD, name="Avery Admin"),
        "agent": desk.user(role="agent", password=PASSWORD, name="Alex Agent"),
        "client": desk.user(role="client", account=account, password=PASSWORD, name="Dana Reyes"),
        "stranger": desk.user(role="client", account=other, password=PASSWORD, name="Sam Ortiz"),
    }
