"""Sign a delivery like Stripe does: `t=<unix>,v1=<HMAC-SHA256(secret, t + "." + body)>`.

The timestamp is signed with the body, so a captured request cannot be
replayed later than the receiver's tolerance. The receiver's side is
`answerdesk.client.verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Answerdesk-Signature"
EVENT_ID_HEADER = "Answerdesk-Event-Id"
EVENT_TYPE_HEADER = "Answerdesk-Event-Type"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """Return a fresh signing secret (prefixed, so it is recognisable in a leak)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """Return the `Answerdesk-Signature` value for this body sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
