"""Console fixtures: `console.sign_in(user)` gives a signed-in HTTP client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from answerdesk.console import console_state
from answerdesk.mail import RecordingMailer
from answerdesk.users import User

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def field_error(html: str, name: str) -> str | None:
    """Return the error text shown next to the field `name`, if any."""
    match = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', html)
    return match.group(1) if match else None


class Browser:
    """One person's browser: its own cookies, and the CSRF token of its last page."""

    def __init__(self, app: Any) -> None:
        self.http = TestClient(app, raise_server_exceptions=False)
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.http.get(path, **kwargs)
        match = _CSRF.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Post a form with this browser's CSRF token (fetching a page first if needed)."""
        if not self.token:
            self.get("/console/sign-in")
        payload = {"csrf_token": self.token, **(data or {})}
        kwargs.setdefault("follow_redirects", False)
        return self.http.post(path, data=payload, **kwargs)

    def sign_in(self, user: User, password: str = PASSWORD) -> Any:
        self.get("/console/sign-in")
        response = self.post("/console/sign-in", {"email": user.email, "password": password})
        assert response.status_code == 303, response.text
        self.get("/console/tokens")  # a signed-in page: the session's CSRF token
        return response


class Console:
    """Opens browsers on the test app and signs people in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.mailer = RecordingMailer()
        console_state(app).mailer = self.mailer

    def browser(self) -> Browser:
        return Browser(self.app)

    def sign_in(self, user: User, password: str = PASSWORD) -> Browser:
        browser = self.browser()
        browser.sign_in(user, password)
        return browser


@pytest.fixture
def console(app: Any) -> Console:
    return Console(app)
