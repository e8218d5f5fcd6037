"""Encrypt webhook signing secrets at rest (Fernet), keyed by the settings.

A secret must be recovered to sign each delivery, so it cannot be hashed
like an API token; a copy of the database without `ANSWERDESK_WEBHOOK_KEY`
does not reveal it.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken

from answerdesk.config import Settings, SettingsError

log = logging.getLogger("answerdesk.webhooks")
_warned = False


def _key(settings: Settings) -> bytes:
    if settings.webhook_key:
        return settings.webhook_key.encode()
    if settings.environment != "development":  # Settings refuses this too
        raise SettingsError("ANSWERDESK_WEBHOOK_KEY must be set outside development")
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "ANSWERDESK_WEBHOOK_KEY is not set: webhook secrets are encrypted with a key "
            "derived from the secret key (development only; set a Fernet key in production)"
        )
    digest = hashlib.sha256(b"answerdesk-webhooks\0" + settings.secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def fernet(settings: Settings) -> Fernet:
    """Return the Fernet that seals this deployment's webhook secrets."""
    try:
        return Fernet(_key(settings))
    except ValueError as error:
        raise SettingsError(
            "ANSWERDESK_WEBHOOK_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
        ) from error


def encrypt_secret(settings: Settings, secret: str) -> str:
    """Seal a signing secret for storage."""
    return fernet(settings).encrypt(secret.encode()).decode()


def decrypt_secret(settings: Settings, sealed: str) -> str:
    """Recover a signing secret; a wrong key is a settings error, not a crash."""
    try:
        return fernet(settings).decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise SettingsError(
            "a webhook secret cannot be decrypted: ANSWERDESK_WEBHOOK_KEY changed?"
        ) from error
