"""Phone numbers: E.164 when the account's region makes them possible numbers."""

from __future__ import annotations

import phonenumbers


def clean_text(value: str | None) -> str | None:
    """Strip a text input; blank becomes None (empty standard fields are null)."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def to_e164(raw: str | None, region: str) -> str | None:
    """Return the E.164 form of `raw`, or None when it is not a possible number."""
    text = clean_text(raw)
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_phone(raw: str | None, region: str) -> str | None:
    """Return E.164 when possible, else the number as entered (trimmed), else None.

    Agents type what callers say; a number we cannot parse is still worth
    keeping exactly as the agent wrote it (CONTRACT §1).
    """
    text = clean_text(raw)
    if text is None:
        return None
    return to_e164(text, region) or text


def is_valid_region(region: str) -> bool:
    """Tell whether `region` is a two-letter region phonenumbers knows."""
    return region.upper() in phonenumbers.SUPPORTED_REGIONS
