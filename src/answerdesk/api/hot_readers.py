"""Where the fast path (api/fastpath.py) reads its rows, one statement per answer.

SQLite: a read of a local file takes microseconds, so it runs right on the
event loop, on a connection kept per thread (made with the engine's own
settings, then detached from its pool) that holds one read snapshot while
nothing is committed (`SqliteReads`). PostgreSQL: a round trip waits on the
network, so it is awaited on a small set of asyncpg connections kept per
event loop (statements prepared once, by asyncpg's own cache), leaving the
loop free for other requests meanwhile; the thread pool's hand-off and the
sync pool's checkout cost more than the query. asyncpg rather than the
psycopg the rest of answerdesk uses: its protocol is compiled and reads the
socket as data arrives, where psycopg's async cursor spends ~54 µs of Python
and two system calls per statement to ~22 µs (measured; docs/performance.md,
session 6). The address's shared failed-check counters ride along with the
first statement (`PostgresReads._checked`).

Both return the answer's body, or None when the full path must decide (no
such row for this account, or a stored render that is stale).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import os
import re
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
import psycopg
from sqlalchemy.engine import URL, Engine

from answerdesk.crm.single import POSTGRES_SQL as TEXT_MESSAGE_POSTGRES
from answerdesk.crm.single import SQLITE_SQL as TEXT_MESSAGE_SQLITE
from answerdesk.crm.single import text_message_from_row
from answerdesk.messages.listing import (
    ACCOUNT_ZONE_SQL,
    STORED_ONE_POSTGRES_SQL,
    STORED_ONE_SQL,
    joined_wires,
    range_statement,
    stored_object_prefix,
)
from answerdesk.messages.reading import ListQuery, local_day_range
from answerdesk.ratelimit_shared import SharedWindowLimiter

_TEXT_MESSAGE_META = b',"meta":{"type":"text_message"}}'

_ACCOUNT_ZONE_POSTGRES = ACCOUNT_ZONE_SQL.replace("?", "%s")

#: What a failed read raises; the fast path then steps aside. (asyncpg's
#: connection timeout is TimeoutError, an OSError.)
READ_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    psycopg.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
#: After a failed connection attempt, this loop's reads step aside for this
#: long instead of trying to connect on every request.
CONNECT_RETRY_SECONDS = 5.0

_log = logging.getLogger(__name__)


def _message_body(rows: list[Any]) -> bytes | None:
    if not rows or rows[0][0] is None:
        return None  # not found, or its stored render is stale: the full path decides
    wire, number = rows[0]
    body: bytes = stored_object_prefix(number) + wire
    return body


def _text_message_body(rows: list[Any]) -> bytes | None:
    if not rows:
        return None
    return b'{"data":' + orjson.dumps(text_message_from_row(rows[0])) + _TEXT_MESSAGE_META


def _range_query(
    account_id: int, timezone: str, from_date: date | None, to_date: date | None
) -> ListQuery:
    days = local_day_range(ZoneInfo(timezone), from_date, to_date)
    return ListQuery(account_id=account_id, days=days)


def _range_body(rows: list[Any], number: str, most: int) -> bytes | None:
    """The list's body, or None when it is longer than `most` (the full path streams it)."""
    return None if len(rows) > most else joined_wires(rows, number)


#: The WAL index's header (https://www.sqlite.org/walformat.html, "the
#: WAL-index header"): its first copy, at the start of the `-shm` file.
_WAL_INDEX_HEADER = 48
#: The longest a read snapshot is held. Held snapshots keep a checkpoint from
#: moving past them, so an idle server must not keep one.
SNAPSHOT_SECONDS = 0.25
#: What a kept answer weighs beyond its body's bytes: its tuple (56), the
#: bytes object's header (33), the id (28) and its dictionary slot (~40).
_KEPT_OVERHEAD = 160


class _Held:
    """One thread's connection, the read snapshot it may be holding, and its kept answers."""

    __slots__ = (
        "connection",
        "cursor",
        "generation",
        "header",
        "index",
        "kept_at",
        "kept_bytes",
        "messages",
        "text_messages",
    )

    def __init__(self, connection: sqlite3.Connection, index: mmap.mmap | None) -> None:
        self.connection = connection
        self.cursor = connection.cursor()
        #: The WAL index header read just before the held snapshot began, or
        #: None when no snapshot is held.
        self.header: bytes | None = None
        self.index = index
        self.generation = 0
        #: The WAL index header under which the kept answers below were read
        #: (None: keep nothing), and what they weigh.
        self.kept_at: bytes | None = None
        self.kept_bytes = 0
        #: id -> (account id, body) of single answers read under `kept_at`.
        self.messages: dict[int, tuple[int, bytes]] = {}
        self.text_messages: dict[int, tuple[int, bytes]] = {}

    def forget(self, header: bytes | None) -> None:
        """Drop every kept answer; keep new ones only under `header` (None: none)."""
        if self.kept_bytes:
            self.messages.clear()
            self.text_messages.clear()
            self.kept_bytes = 0
        self.kept_at = header


class SqliteReads:
    """Reads on a connection kept per thread (the event loop's, in a server).

    Each statement on its own would begin and end a read transaction: a
    shared lock taken and dropped on the database file and the file's size
    asked, three system calls that cost more than the read (issue 7's
    profile). On an event loop, the connection instead holds one read
    snapshot across reads, for as long as no transaction has been committed
    since it began: SQLite itself publishes every commit by rewriting the
    WAL index header in the shared-memory file, so comparing those 48 bytes
    (mapped read-only, no system call) tells exactly when a newer snapshot
    is needed. A read therefore sees everything committed before it, as a
    statement on its own would. A snapshot is also let go after
    SNAPSHOT_SECONDS, so checkpoints are never held back for long.

    The same comparison tells when an answer already read is still the
    answer: up to `keep_bytes` of single-message and single-text-message
    bodies are kept until the header changes, i.e. until anything at all is
    committed by any process. A client polling a message for its status
    between two commits is then answered from memory, exactly as fresh as a
    read. Only the read is saved: credentials and rate limits are checked
    on every request as before. Lists are never kept (they are big, and a
    range's rows are read in one statement anyway).
    """

    def __init__(self, engine: Engine, *, keep_bytes: int = 0) -> None:
        self.engine = engine
        self.keep_bytes = keep_bytes
        self._local = threading.local()
        self._opened: list[_Held] = []
        self._lock = threading.Lock()

    def _fresh(self) -> _Held:
        """This thread's connection, its snapshot and kept answers as fresh as a new read."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            held = self._open()
        index = held.index
        if index is not None:
            header = index[:_WAL_INDEX_HEADER]
            if header != held.header:
                self._renew(held, header)
            if header != held.kept_at:
                # Kept answers must have been read under this very header: a
                # held snapshot, begun after reading it, is at least that new.
                held.forget(header if held.header is not None and self.keep_bytes else None)
        return held

    def _cursor(self) -> sqlite3.Cursor:
        return self._fresh().cursor

    def _keep(
        self, held: _Held, kept: dict[int, tuple[int, bytes]], key: int, answer: tuple[int, bytes]
    ) -> None:
        """Keep `answer` under `key` if answers are being kept and it fits."""
        if held.kept_at is None:
            return
        weight = len(answer[1]) + _KEPT_OVERHEAD
        if held.kept_bytes + weight <= self.keep_bytes:
            kept[key] = answer
            held.kept_bytes += weight

    def _open(self) -> _Held:
        pooled = self.engine.raw_connection()
        connection = pooled.driver_connection
        assert isinstance(connection, sqlite3.Connection)
        pooled.detach()  # ours for good: the pool forgets it
        connection.execute("PRAGMA query_only=1")
        held = _Held(connection, _map_wal_index(connection))
        with self._lock:
            self._opened.append(held)
        self._local.held = held
        return held

    def _renew(self, held: _Held, header: bytes) -> None:
        """End the held snapshot, if any; hold a new one if on an event loop."""
        if held.connection.in_transaction:
            held.connection.rollback()
        held.header = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop to let it go later: each statement on its own
        # The header was read before the snapshot begins (at the next
        # statement), so the snapshot holds at least what it announced.
        held.cursor.execute("BEGIN")
        held.header = header
        held.generation += 1
        loop.call_later(SNAPSHOT_SECONDS, self._let_go, held, held.generation)

    @staticmethod
    def _let_go(held: _Held, generation: int) -> None:
        """End snapshot `generation` if it is still the one held (a timer on the loop)."""
        if held.generation == generation and held.header is not None:
            held.header = None
            try:
                if held.connection.in_transaction:
                    held.connection.rollback()
            except sqlite3.Error:
                pass  # a broken connection: the next read's error discards it

    def message(self, account_id: int, message_id: int) -> bytes | None:
        held = self._fresh()
        return self._kept_or_read(
            held, held.messages, STORED_ONE_SQL, _message_body, account_id, message_id
        )

    def text_message(self, account_id: int, text_message_id: int) -> bytes | None:
        held = self._fresh()
        return self._kept_or_read(
            held, held.text_messages, TEXT_MESSAGE_SQLITE, _text_message_body, account_id,
            text_message_id,
        )  # fmt: skip

    def _kept_or_read(
        self,
        held: _Held,
        kept: dict[int, tuple[int, bytes]],
        sql: str,
        render: Callable[[list[Any]], bytes | None],
        account_id: int,
        item_id: int,
    ) -> bytes | None:
        """The answer kept for `item_id` if it is `account_id`'s; else one read, kept for later."""
        answer = kept.get(item_id)
        if answer is not None and answer[0] == account_id:
            return answer[1]
        body = render(held.cursor.execute(sql, (item_id, account_id)).fetchall())
        if body is not None:
            self._keep(held, kept, item_id, (account_id, body))
        return body

    def message_range(
        self, account_id: int, from_date: date | None, to_date: date | None, most: int
    ) -> bytes | None:
        cursor = self._cursor()
        found = cursor.execute(ACCOUNT_ZONE_SQL, (account_id,)).fetchall()
        if not found:
            return None
        timezone, number = found[0]
        query = _range_query(account_id, timezone, from_date, to_date)
        sql, params = range_statement(query, timezone, most + 1, "sqlite")
        return _range_body(cursor.execute(sql, params).fetchall(), number, most)

    def discard(self) -> None:
        """Close this thread's connection after an error; the next read opens a new one."""
        held: _Held | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            with self._lock:
                if held in self._opened:
                    self._opened.remove(held)
            _close(held)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for held in opened:
            _close(held)
        self._local = threading.local()


def _close(held: _Held) -> None:
    held.header = None
    held.forget(None)
    if held.index is not None:
        held.index.close()
    held.connection.close()


def _map_wal_index(connection: sqlite3.Connection) -> mmap.mmap | None:
    """The database's WAL index, mapped read-only; None if it has none (not in WAL mode)."""
    row = connection.execute("PRAGMA journal_mode").fetchone()
    names = connection.execute("PRAGMA database_list").fetchall()
    path = next((name[2] for name in names if name[1] == "main"), "")
    if not row or str(row[0]).lower() != "wal" or not path:
        return None
    try:
        with open(f"{path}-shm", "rb") as file:
            if os.fstat(file.fileno()).st_size < _WAL_INDEX_HEADER:
                return None
            return mmap.mmap(file.fileno(), _WAL_INDEX_HEADER, access=mmap.ACCESS_READ)
    except OSError:
        return None


class _LoopConnections:
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


class PostgresReads:
    """Reads awaited on up to `size` asyncpg connections per event loop."""

    def __init__(self, engine: Engine, *, size: int) -> None:
        self.dsn, self.connect_timeout = asyncpg_dsn(engine.url)
        self.size = max(1, size)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections] = (
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
                mine = self._loops.setdefault(loop, _LoopConnections(self.size))
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

    async def _connect(self, mine: _LoopConnections) -> asyncpg.Connection:
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

    async def _checked(
        self,
        sql: str,
        params: tuple[object, ...],
        failures: SharedWindowLimiter | None,
        failure_key: str,
    ) -> list[Any]:
        """`sql`'s rows; with `failures`, `failure_key`'s counters are read by the same statement.

        Raises RateLimited if they are at the limit (then the caller reads
        nothing more). The rows come back without the counters' columns.
        """
        if failures is None:
            return await self.fetch(sql, params)
        sql, params, now = failures.with_check(sql, params, failure_key)
        rows = await self.fetch(sql, params)
        if rows:
            row = rows[0]
            failures.judge_check(None if row[-3] is None else row[-3:], now)
        return [row[:-3] for row in rows]

    async def message(
        self,
        account_id: int,
        message_id: int,
        *,
        failures: SharedWindowLimiter | None = None,
        failure_key: str = "",
    ) -> bytes | None:
        """The message's body, or None to step aside; see `_checked` for `failures`."""
        params = (message_id, account_id)
        rows = await self._checked(STORED_ONE_POSTGRES_SQL, params, failures, failure_key)
        return _message_body(rows)

    async def text_message(
        self,
        account_id: int,
        text_message_id: int,
        *,
        failures: SharedWindowLimiter | None = None,
        failure_key: str = "",
    ) -> bytes | None:
        """The text message's body, or None to step aside; see `_checked` for `failures`."""
        params = (text_message_id, account_id)
        rows = await self._checked(TEXT_MESSAGE_POSTGRES, params, failures, failure_key)
        return _text_message_body(rows)

    async def message_range(
        self,
        account_id: int,
        from_date: date | None,
        to_date: date | None,
        most: int,
        *,
        failures: SharedWindowLimiter | None = None,
        failure_key: str = "",
    ) -> bytes | None:
        """The range's body, or None to step aside; see `_checked` for `failures`.

        The counters are read along with the account's zone, before the range.
        """
        found = await self._checked(_ACCOUNT_ZONE_POSTGRES, (account_id,), failures, failure_key)
        if not found:
            return None
        timezone, number = found[0]
        query = _range_query(account_id, timezone, from_date, to_date)
        sql, params = range_statement(query, timezone, most + 1, "postgresql")
        return _range_body(await self.fetch(sql, tuple(params)), number, most)

    def close(self) -> None:
        """Close every connection: at once on this thread's loop, else on its own loop.

        Connections of a loop that has shut down were closed by it
        (`_LoopConnections.end_with_loop`).
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
