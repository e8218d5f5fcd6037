"""Send the console's e-mails (invitations, password resets) over SMTP.

With no SMTP host configured the message is logged at INFO instead, so a
developer or a small offline deployment can still copy the link.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from answerdesk.config import Settings

log = logging.getLogger("answerdesk.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


class LogMailer:
    """Write the mail to the log: the default when no SMTP host is set."""

    def send(self, mail: Mail) -> None:
        log.info("e-mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


class RecordingMailer:
    """Keep mails in a list (tests, screenshots); also logs them."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)
        LogMailer().send(mail)


def mailer_from_settings(settings: Settings) -> Mailer:
    """Return the SMTP mailer when a host is configured, else the logging one."""
    if not settings.smtp_host:
        return LogMailer()
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
