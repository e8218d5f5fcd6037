"""The fast path's PostgreSQL connections: capped per event loop, and self-healing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from answerdesk.api.hot_readers import PostgresReads
from answerdesk.store.engine import is_sqlite

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh event loop in its own thread (another test's loop may be running here)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def reads(engine: Any) -> Any:
    if is_sqlite(engine):
        pytest.skip("SQLite reads need no connections of their own")
    readers = PostgresReads(engine, size=2)
    yield readers
    readers.close()


def test_many_requests_at_once_share_at_most_size_connections(reads: PostgresReads) -> None:
    async def main() -> list[Any]:
        results = await asyncio.gather(
            *(reads.fetch("SELECT %s::int, pg_sleep(0.01)", (n,)) for n in range(12))
        )
        mine = reads._loops[asyncio.get_running_loop()]
        assert len(mine.opened) <= 2
        return [rows[0][0] for rows in results]

    assert run(main()) == list(range(12))


def test_broken_connections_give_their_slots_back(reads: PostgresReads) -> None:
    async def main() -> list[int]:
        await asyncio.gather(*(reads.fetch("SELECT pg_sleep(0.01)", ()) for _ in range(4)))
        mine = reads._loops[asyncio.get_running_loop()]
        for connection in list(mine.opened):
            connection.pgconn.finish()  # the server went away under them
        outcomes = await asyncio.gather(
            *(reads.fetch("SELECT %s::int", (n,)) for n in range(6)), return_exceptions=True
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(failures) <= 2  # at most one per broken connection
        again = await asyncio.wait_for(
            asyncio.gather(*(reads.fetch("SELECT %s::int", (n,)) for n in range(6))), timeout=10
        )
        assert len(mine.opened) <= 2
        return [rows[0][0] for rows in again]

    assert run(main()) == list(range(6))


def test_close_closes_every_connection(reads: PostgresReads) -> None:
    async def main() -> list[Any]:
        await asyncio.gather(*(reads.fetch("SELECT 1", ()) for _ in range(3)))
        return list(reads._loops[asyncio.get_running_loop()].opened)

    opened = run(main())
    reads.close()
    assert opened and all(connection.closed for connection in opened)
