"""Helpers shared by the CRM, pipeline and Sell API tests (reads straight from the store)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.crm.records import Person, create_contact, create_lead
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import contacts, leads, outbox, text_messages
from answerdesk.sync import run_worker


def carry_all(engine: Engine) -> int:
    """Run the worker until nothing is due; return how many messages it carried."""
    return run_worker(engine, once=True)


def rows(engine: Engine, table: sa.Table, **where: Any) -> list[Any]:
    """Return a table's rows (matching `where`), by id."""
    query = sa.select(table).order_by(table.c.id)
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    with read_transaction(engine) as connection:
        return list(connection.execute(query))


def leads_of(engine: Engine, account_id: int) -> list[Any]:
    return rows(engine, leads, account_id=account_id)


def contacts_of(engine: Engine, account_id: int) -> list[Any]:
    return rows(engine, contacts, account_id=account_id)


def text_messages_of(engine: Engine, account_id: int) -> list[Any]:
    return rows(engine, text_messages, account_id=account_id)


def outbox_rows(engine: Engine) -> list[Any]:
    return rows(engine, outbox)


def add_lead(engine: Engine, account_id: int, **fields: Any) -> int:
    with write_transaction(engine) as connection:
        return create_lead(connection, account_id=account_id, person=Person(**fields))


def add_contact(engine: Engine, account_id: int, **fields: Any) -> int:
    is_organization = fields.pop("is_organization", False)
    with write_transaction(engine) as connection:
        return create_contact(
            connection,
            account_id=account_id,
            person=Person(**fields),
            is_organization=is_organization,
        )
