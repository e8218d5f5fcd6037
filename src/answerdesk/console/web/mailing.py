"""Send the invitation and password-reset e-mails with their one-use links."""

from __future__ import annotations

import logging

from answerdesk.console.web.pages import Page
from answerdesk.mail import Mail
from answerdesk.users import User

log = logging.getLogger("answerdesk.console")


def send_password_link(page: Page, user: User, token: str, purpose: str) -> bool:
    """E-mail the link (after the transaction that made it committed); say whether it went."""
    link = f"{page.base_url}/console/password/{token}"
    brand = page.settings.brand_name
    if purpose == "invite":
        subject = f"You are invited to {brand}"
        intro = f"Hello {user.name},\n\nan account was opened for you on {brand}."
        action = "Choose your password (the link works for 7 days and only once):"
    else:
        subject = f"Reset your {brand} password"
        intro = f"Hello {user.name},\n\nsomeone asked to reset the password of {user.email}."
        action = "Choose a new password (the link works for 2 hours and only once):"
    body = f"{intro}\n\n{action}\n{link}\n\nIf you did not expect this e-mail, ignore it.\n"
    try:
        page.state.mailer.send(Mail(to=user.email, subject=subject, body=body))
    except OSError:
        log.exception("could not send the %s e-mail to %s", purpose, user.email)
        return False
    return True
