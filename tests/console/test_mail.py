"""Invitation and reset e-mails: over SMTP when configured, else to the log at INFO."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from answerdesk import mail
from answerdesk.config import Settings


def test_without_smtp_the_link_goes_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    mailer = mail.mailer_from_settings(Settings())
    assert isinstance(mailer, mail.LogMailer)
    with caplog.at_level(logging.INFO, logger="answerdesk.mail"):
        mailer.send(
            mail.Mail(to="a@example.com", subject="Reset", body="https://x/console/password/t")
        )
    assert "https://x/console/password/t" in caplog.text


def test_smtp_mailer_uses_starttls_and_login(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(("connect", host, port))

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append(("quit",))

        def starttls(self) -> None:
            calls.append(("starttls",))

        def login(self, user: str, password: str) -> None:
            calls.append(("login", user, password))

        def send_message(self, message: Any) -> None:
            calls.append(("send", message["From"], message["To"], message["Subject"]))

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    settings = Settings(
        smtp_host="smtp.example.com",
        smtp_user="desk",
        smtp_password="pw",
        smtp_from="desk@example.com",
    )
    mailer = mail.mailer_from_settings(settings)
    mailer.send(mail.Mail(to="a@example.com", subject="Invited", body="link"))
    assert calls == [
        ("connect", "smtp.example.com", 587),
        ("starttls",),
        ("login", "desk", "pw"),
        ("send", "desk@example.com", "a@example.com", "Invited"),
        ("quit",),
    ]
