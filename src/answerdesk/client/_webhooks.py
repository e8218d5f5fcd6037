"""Verify that a webhook request came from answerdesk, recently.

The `Answerdesk-Signature` header is `t=<unix seconds>,v1=<hex>`, where the
hex is HMAC-SHA256 with the endpoint's secret over `t + "." + body`. Several
`v1=` values may appear (during a secret rotation); one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from ._exceptions import ClientError

__all__ = ["WebhookSignatureError", "verify_signature"]


class WebhookSignatureError(ClientError):
    """The webhook's signature is missing, malformed, wrong or too old."""


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> int:
    """Check a webhook's signature header against its raw body; return its timestamp.

    Pass the body exactly as received (bytes, before any JSON parsing).
    Raises `WebhookSignatureError` unless a `v1` signature matches and the
    timestamp is within `tolerance` seconds of now (0: do not check age).
    """
    if not header:
        raise WebhookSignatureError("no Answerdesk-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureError("malformed Answerdesk-Signature header")
    signed = str(timestamp).encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookSignatureError("signature does not match")
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise WebhookSignatureError("timestamp outside the tolerance")
    return timestamp
