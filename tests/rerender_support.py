"""Helpers for the re-render tests: varied messages, stored zones, fresh renders, API bytes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.accounts import Account, get_account
from answerdesk.messages import change_status, message_json
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import messages
from tests.factories import ClientLogin, Desk

FIELDS = [("Reason for Call?", False), ("Best time", False)]
VERSIONS = ("v1", "v2")


def take_varied(desk: Desk, account: Account, count: int) -> list[int]:
    """Take `count` messages unlike each other: fields, DST edges, statuses, no stored JSON."""
    taken = []
    for n in range(count):
        month = 1 + n % 12
        data: dict[str, object] = {
            "first_name": "Zoë" if n % 3 == 0 else None,
            "company_name": "Lee & Co" if n % 4 == 1 else None,
            "phone": "(617) 555-0123" if n % 2 else None,
            "is_emergency": n % 5 == 0,
            "created_at": f"2024-{month:02d}-{1 + n % 28:02d}T{n % 24:02d}:30:00Z",
            "fields": {"Reason for Call?": f"Leak {n}"} if n % 2 == 0 else {},
        }
        taken.append(desk.take(account, content=f'Call "back" #{n}', **data))
    with write_transaction(desk.engine) as connection:
        for message_id in taken[1::4]:
            change_status(
                connection,
                account_id=account.id,
                message_id=message_id,
                status="delivered",
                delivered_to="maria@acme.example",
            )
        # Written before migration 0004: no stored JSON at all.
        connection.execute(
            messages.update()
            .where(messages.c.id.in_(taken[2::5]))
            .values(wire=None, wire_zone=None)
        )
    return taken


def stored_zones(engine: Engine, account_id: int) -> dict[int, str | None]:
    """Each message's `wire_zone`, by id."""
    with read_transaction(engine) as connection:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.wire_zone).where(
                messages.c.account_id == account_id
            )
        )
        return {row.id: row.wire_zone for row in rows}


def fresh_objects(engine: Engine, account_id: int) -> dict[int, bytes]:
    """Every message of the account rendered from its columns right now, by id."""
    with read_transaction(engine) as connection:
        account = get_account(connection, account_id=account_id)
        rows = connection.execute(sa.select(messages).where(messages.c.account_id == account_id))
        return {
            row.id: message_json(
                row, account_number=account.number, zone=ZoneInfo(account.timezone)
            )
            for row in rows
        }


def list_order(engine: Engine, account_id: int) -> list[int]:
    """Ids in a full list's order: creation second, then id."""
    with read_transaction(engine) as connection:
        return list(
            connection.execute(
                sa.select(messages.c.id)
                .where(messages.c.account_id == account_id)
                .order_by(messages.c.created_second, messages.c.id)
            ).scalars()
        )


def assert_answers_are_fresh(
    http: TestClient, login: ClientLogin, engine: Engine, account_id: int
) -> None:
    """Lists and single messages, /v1 and /v2, byte for byte what a fresh render gives."""
    fresh = fresh_objects(engine, account_id)
    in_list_order = list_order(engine, account_id)
    by_id = sorted(fresh)
    for version in VERSIONS:
        whole = http.get(f"/{version}/messages", headers=login.headers)
        assert whole.status_code == 200
        assert whole.content == b"[" + b",".join(fresh[i] for i in in_list_order) + b"]"
        page = http.get(f"/{version}/messages?limit=3", headers=login.headers)
        assert page.content == b"[" + b",".join(fresh[i] for i in by_id[:3]) + b"]"
        rest = http.get(f"/{version}/messages?after_id={by_id[2]}", headers=login.headers)
        assert rest.content == b"[" + b",".join(fresh[i] for i in by_id[3:]) + b"]"
        for message_id in by_id:
            one = http.get(f"/{version}/messages/{message_id}", headers=login.headers)
            assert one.status_code == 200
            assert one.content == fresh[message_id], message_id
