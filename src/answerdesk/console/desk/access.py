"""Which accounts a person may open: staff any, a client only their own.

Another account's pages answer 404, exactly like a page that does not
exist, so guessing account numbers in URLs tells a client nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from answerdesk.accounts import Account, find_account
from answerdesk.errors import NotFound
from answerdesk.users import User


def open_account(connection: sa.Connection, *, user: User, number: str) -> Account:
    """Return the account if this user may see it, else raise NotFound."""
    account = find_account(connection, number=number)
    if account is None or (user.role == "client" and user.account_id != account.id):
        raise NotFound("Page not found")
    return account
