"""Cookies and CSRF tokens of the console.

Two cookies, both `HttpOnly`, `SameSite=Lax`, scoped to `/console` and
`Secure` when the console is served over https:

- `adk_session`: the server-side session's token (see `answerdesk.sessions`).
- `adk_anon`: a random value given to signed-out browsers, so the sign-in and
  password forms have a CSRF token bound to this browser as well.

A form's CSRF token is an HMAC of the cookie's value under the secret key:
another site can neither read the cookie nor forge the token, and no
server-side state is needed to check it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from answerdesk.config import Settings

SESSION_COOKIE = "adk_session"
ANON_COOKIE = "adk_anon"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"


def csrf_token(settings: Settings, binding: str) -> str:
    """Return the CSRF token for forms of the browser holding `binding`."""
    key = settings.secret_key.encode("utf-8")
    return hmac.new(key, b"csrf\0" + binding.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_valid(settings: Settings, binding: str | None, submitted: str | None) -> bool:
    """Check a submitted token against the browser's cookie, in constant time."""
    if not binding or not submitted:
        return False
    return hmac.compare_digest(csrf_token(settings, binding), submitted)


def new_anon_value() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request, settings: Settings) -> bool:
    """Tell whether cookies must be `Secure`: https here or in the public base URL."""
    return request.url.scheme == "https" or settings.base_url.startswith("https://")


def set_cookie(
    response: Response,
    request: Request,
    settings: Settings,
    name: str,
    value: str,
    max_age: int | None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def clear_cookie(response: Response, request: Request, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request, settings)
    )


def same_origin(request: Request, settings: Settings) -> bool:
    """Refuse a form posted from another origin when the browser says where it came from.

    Browsers send `Origin` with every form POST; it must be this host (as the
    request reached us) or the configured public base URL. No `Origin` at all
    (old browsers, tests) leaves the decision to the CSRF token alone.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    if settings.base_url and origin == settings.base_url.rstrip("/"):
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
