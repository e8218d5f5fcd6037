"""Normalise the values CRM records are matched on: phone numbers and e-mails.

A number is stored in E.164 when the account's region makes it a possible
number, so `(617) 555-0123` and `+1 617 555 0123` find the same record; an
e-mail is kept as `email-validator` normalises it and matched lower-cased.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from answerdesk.phones import clean_text, normalise_phone
from answerdesk.phones import to_e164 as _to_e164

__all__ = ["clean_text", "email_key", "normalise_phone", "to_e164", "valid_email"]

#: Callers call again: parsing a number or an address costs more than a lookup.
_CACHE_SIZE = 65_536


@lru_cache(maxsize=_CACHE_SIZE)
def to_e164(raw: str | None, region: str) -> str | None:
    """Return the E.164 form of `raw` in `region`, or None (memoised `phones.to_e164`)."""
    return _to_e164(raw, region)


@lru_cache(maxsize=_CACHE_SIZE)
def valid_email(raw: str | None) -> str | None:
    """Return the normalised address when `raw` is syntactically valid, else None.

    No DNS: whether the domain receives mail is not ours to decide, and a
    lookup per message would make carrying depend on the network.
    """
    text = clean_text(raw)
    if text is None:
        return None
    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def email_key(email: str | None) -> str | None:
    """Return the form e-mails are compared in (case-insensitive)."""
    return email.lower() if email else None
