"""Sign-in throttling: failed attempts counted per client address and per e-mail.

Counting per address stops one machine guessing many accounts' passwords;
counting per e-mail stops many machines guessing one account's. Both use a
sliding window, so a locked-out person waits at most the window's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.store.tables import sign_in_failures


@dataclass(frozen=True)
class Limits:
    """How many failures a key may have within `window` before it is refused."""

    per_address: int
    per_account: int
    window: timedelta


def _keys(address: str, email: str) -> list[tuple[str, str]]:
    keys = [("address", address[:320])]
    if email:
        keys.append(("email", email.strip().lower()[:320]))
    return keys


def retry_after(
    connection: sa.Connection, *, address: str, email: str, limits: Limits, action: str = "sign-in"
) -> timedelta | None:
    """Return how long to wait when the address or e-mail is over its limit, else None."""
    now = clock.utcnow()
    since = now - limits.window
    waits: list[timedelta] = []
    for scope, key in _keys(address, email):
        limit = limits.per_address if scope == "address" else limits.per_account
        rows = connection.execute(
            sa.select(sign_in_failures.c.at)
            .where(
                sign_in_failures.c.scope == f"{action}:{scope}",
                sign_in_failures.c.key == key,
                sign_in_failures.c.at > since,
            )
            .order_by(sign_in_failures.c.at.desc())
            .limit(limit)
        ).all()
        if len(rows) >= limit:
            # The oldest of the last `limit` failures leaves the window first.
            waits.append(rows[-1].at + limits.window - now)
    return max(waits) if waits else None


def record_failure(
    connection: sa.Connection, *, address: str, email: str, limits: Limits, action: str = "sign-in"
) -> None:
    """Count one failed attempt against the address and the e-mail; prune old ones."""
    now = clock.utcnow()
    connection.execute(
        sign_in_failures.delete().where(sign_in_failures.c.at <= now - limits.window)
    )
    connection.execute(
        sign_in_failures.insert(),
        [
            {"scope": f"{action}:{scope}", "key": key, "at": now}
            for scope, key in _keys(address, email)
        ],
    )


def clear_failures(connection: sa.Connection, *, email: str, action: str = "sign-in") -> None:
    """Forget an e-mail's failures once its owner has signed in."""
    connection.execute(
        sign_in_failures.delete().where(
            sign_in_failures.c.scope == f"{action}:email",
            sign_in_failures.c.key == email.strip().lower(),
        )
    )
