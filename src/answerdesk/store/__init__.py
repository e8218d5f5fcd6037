"""The store: engines, tables and migrations. It never imports the domain."""

from answerdesk.store.engine import (
    create_engine_for_url,
    is_postgres,
    is_sqlite,
    read_transaction,
    write_transaction,
)
from answerdesk.store.tables import metadata

__all__ = [
    "create_engine_for_url",
    "is_postgres",
    "is_sqlite",
    "metadata",
    "read_transaction",
    "write_transaction",
]
