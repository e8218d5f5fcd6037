"""asyncpg connections kept per event loop, for statements written for psycopg.

The fast path (api/hot_readers.py) awaits one short statement per answer.
asyncpg rather than the psycopg the rest of answerdesk uses: its protocol is
compiled and reads the socket as data arrives, where psycopg's async cursor
spent ~54 µs of Python and two system calls per statement to asyncpg's
~22 µs (measured; docs/performance.md, "Sixth look"). The statements stay
written once, in psycopg's style (`asyncpg_statement` numbers them), and
the database URL is the one the psycopg pool uses (`asyncpg_dsn` leaves out
what only libpq reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

#: After a failed connection attempt, this loop's statements step aside for
#: this long instead of trying to connect on every request.
CONNECT_RETRY_SECONDS = 5.0

_log = logging.getLogger(__name__)


class LoopConnections:
    """One event loop's connections: a stack of idle ones above free slots (None).

    Taking a slot before connecting caps them at `size` however many
    requests arrive at once, and a connection that breaks gives its slot
    back, so a request waiting for one is never left waiting for nothing.
    A slot given back goes straight to the request that has waited longest:
    with `asyncio.Queue` a request arriving meanwhile took it first and the
    woken one queued again at the back, which made the single message's p99
    ~10 times its p50 once reads got fast (measured; docs/performance.md).
    """

    def __init__(self, size: int) -> None:
        # Last in, first out: the connection used last is reused, and free
        # slots (below them) are only taken when every open one is busy.
        self.idle: list[asyncpg.Connection | None] = [None] * size
        self.waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self.opened: list[asyncpg.Connection] = []
        #: Until when (monotonic) connecting is not tried again after a failure.
        self.refused_until = 0.0
        self._ending: AsyncIterator[None] | None = None

    async def take(self) -> asyncpg.Connection | None:
        """An idle connection, or a free slot (None), in the order requests asked."""
        if self.idle:  # then nobody is waiting: `give` hands to waiters first
            return self.idle.pop()
        handed: asyncio.Future[asyncpg.Connection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self.waiting.append(handed)
        try:
            return await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self.give(handed.result())  # handed over as it was cancelled: pass it on
            else:
                self.waiting.remove(handed)
            raise

    def give(self, connection: asyncpg.Connection | None) -> None:
        """Hand a connection (or a free slot) to the longest waiting request, else keep it."""
        while self.waiting:
            handed = self.waiting.popleft()
            if not handed.done():
                handed.set_result(connection)
                return
        self.idle.append(connection)

    async def end_with_loop(self) -> None:
        """Have these connections closed when their event loop shuts down.

        An asyncpg connection can only be closed on its own loop, while the
        loop still runs. `asyncio.run` (and so uvicorn, and anyio's portals
        in tests) finalises every suspended async generator just before it
        closes the loop (`loop.shutdown_asyncgens`, PEP 525): one suspended
        here closes them at exactly that moment.
        """
        if self._ending is None:
            self._ending = self._closed_at_shutdown()
            await anext(self._ending)

    async def _closed_at_shutdown(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self.terminate()

    def terminate(self) -> None:
        """Close every connection at once (on this loop's thread)."""
        opened, self.opened = self.opened, []
        for connection in opened:
            connection.terminate()


@lru_cache(maxsize=256)
def _numbered(sql: str, names: tuple[str, ...] | None) -> tuple[str, tuple[str, ...]]:
    """`sql` with psycopg's `%s` / `%(name)s` placeholders as asyncpg's `$1, $2, …`.

    The statements are shared with the psycopg code (the rate limiters'
    SQL, the single-item reads); they hold no `%` of their own but `%%`.
    Returns the new text and, for named placeholders, the names in `$n` order.
    """
    order: list[str] = []
    positional = 0

    def number(match: re.Match[str]) -> str:
        nonlocal positional
        name = match.group(1)
        if match.group(0) == "%%":
            return "%"
        if name is None:
            positional += 1
            return f"${positional}"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(order)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


def asyncpg_statement(
    sql: str, params: tuple[Any, ...] | dict[str, Any]
) -> tuple[str, tuple[Any, ...]]:
    """A psycopg-style statement and its parameters, as asyncpg takes them."""
    if isinstance(params, dict):
        text, order = _numbered(sql, tuple(sorted(params)))
        return text, tuple(params[name] for name in order)
    text, _ = _numbered(sql, None)
    return text, params


#: libpq's parameters that only its client side reads, which asyncpg does
#: not know: it would pass them to the server as settings, which refuses
#: them. The fast path leaves them out (`connect_timeout` becomes its timeout).
_LIBPQ_CLIENT_ONLY = frozenset(
    {
        "channel_binding",
        "connect_timeout",
        "fallback_application_name",
        "gssdelegation",
        "gssencmode",
        "hostaddr",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "load_balance_hosts",
        "replication",
        "requirepeer",
        "requiressl",
        "sslcertmode",
        "sslcompression",
        "sslcrldir",
        "sslsni",
        "tcp_user_timeout",
    }
)
#: Connecting gives up after this many seconds unless the URL says otherwise.
CONNECT_TIMEOUT_SECONDS = 5.0


def asyncpg_dsn(url: URL) -> tuple[str, float]:
    """The database URL as asyncpg reads it, and the connection timeout it asks for."""
    query = dict(url.query)
    raw = query.get("connect_timeout")
    try:
        timeout = float(raw if isinstance(raw, str) else "")
    except ValueError:
        timeout = 0.0
    kept = {key: value for key, value in query.items() if key not in _LIBPQ_CLIENT_ONLY}
    dsn = url.set(drivername="postgresql", query=kept).render_as_string(hide_password=False)
    return dsn, timeout if timeout > 0 else CONNECT_TIMEOUT_SECONDS


class AsyncPostgres:
    """Statements awaited on up to `size` asyncpg connections per event loop."""

    def __init__(self, url: URL, *, size: int) -> None:
        self.dsn, self.connect_timeout = asyncpg_dsn(url)
        self.size = max(1, size)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopConnections] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    async def fetch(self, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        """Run one statement on one of this loop's connections; return its rows.

        `sql` is written in psycopg's style (`%s`, `%(name)s`); the rows are
        asyncpg records, which index and unpack as tuples do.
        """
        loop = asyncio.get_running_loop()
        mine = self._loops.get(loop)
        if mine is None:
            with self._lock:
                mine = self._loops.setdefault(loop, LoopConnections(self.size))
        text, args = asyncpg_statement(sql, params)
        connection = await mine.take()
        if connection is None:
            connection = await self._connect(mine)
        try:
            rows: list[Any] = await connection.fetch(text, *args)
        except BaseException:
            # A broken or cancelled connection is not reused; its slot is.
            if connection in mine.opened:  # (not if `close` ended it meanwhile)
                mine.opened.remove(connection)
            connection.terminate()
            mine.give(None)
            raise
        mine.give(connection)
        return rows

    async def _connect(self, mine: LoopConnections) -> asyncpg.Connection:
        """A new connection in a free slot (given back if connecting fails).

        A failed attempt makes this loop's reads step aside (the full path
        answers) for CONNECT_RETRY_SECONDS rather than try on every request.
        """
        if time.monotonic() < mine.refused_until:
            mine.give(None)
            raise ConnectionRefusedError("the fast path's last connection attempt failed")
        try:
            await mine.end_with_loop()
            connection: asyncpg.Connection = await asyncpg.connect(
                self.dsn, timeout=self.connect_timeout
            )
        except BaseException as error:
            mine.give(None)
            now = time.monotonic()
            if isinstance(error, Exception) and now >= mine.refused_until:
                # The first of the attempts made at once to fail says so.
                mine.refused_until = now + CONNECT_RETRY_SECONDS
                _log.warning(
                    "fast-path PostgreSQL connection failed (%s); retrying in %.0f s",
                    type(error).__name__,
                    CONNECT_RETRY_SECONDS,
                )
            raise
        mine.opened.append(connection)
        return connection

    def close(self) -> None:
        """Close every connection: at once on this thread's loop, else on its own loop.

        Connections of a loop that has shut down were closed by it
        (`LoopConnections.end_with_loop`).
        """
        with self._lock:
            loops = list(self._loops.items())
            self._loops = weakref.WeakKeyDictionary()
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, mine in loops:
            if loop is current:
                mine.terminate()
            elif not loop.is_closed():
                # (A loop closed meanwhile closed its connections itself.)
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(mine.terminate)
