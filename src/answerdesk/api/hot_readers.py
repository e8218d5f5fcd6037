"""Where the fast path (api/fastpath.py) reads its rows, one statement per answer.

SQLite: a read of a local file takes microseconds, so it runs right on the
event loop, on a connection kept per thread (made with the engine's own
settings, then detached from its pool) that holds one read snapshot while
nothing is committed (`SqliteReads`). PostgreSQL: a round trip waits on the
network, so it is awaited on a small set of asyncpg connections kept per
event loop (store/async_postgres.py; statements prepared once, by asyncpg's
own cache), leaving the loop free for other requests meanwhile; the thread
pool's hand-off and the sync pool's checkout cost more than the query. The
address's shared failed-check counters ride along with the first statement
(`PostgresReads._checked`). Single answers are kept in memory on both
(SQLite: `SqliteReads`, until a commit that can change them; PostgreSQL:
api/kept_answers.py, until a change notice for their account).

Both return the answer's body, or None when the full path must decide (no
such row for this account, or a stored render that is stale).
"""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from datetime import date
from typing import Any, cast
from zoneinfo import ZoneInfo

import asyncpg
import orjson
import psycopg
from sqlalchemy.engine import Engine

from answerdesk.api.kept_answers import MESSAGE, TEXT_MESSAGE, KeptAnswers
from answerdesk.crm.single import POSTGRES_SQL as TEXT_MESSAGE_POSTGRES
from answerdesk.crm.single import SQLITE_SQL as TEXT_MESSAGE_SQLITE
from answerdesk.crm.single import text_message_from_row
from answerdesk.messages.listing import (
    ACCOUNT_ZONE_SQL,
    STORED_ONE_POSTGRES_SQL,
    STORED_ONE_SQL,
    STORED_SOME_POSTGRES_SQL,
    joined_objects,
    joined_wires,
    range_ids_statement,
    range_statement,
    stored_object_prefix,
)
from answerdesk.messages.reading import ListQuery, local_day_range
from answerdesk.ratelimit import RateLimited
from answerdesk.ratelimit_shared import SharedWindowLimiter
from answerdesk.store.async_postgres import AsyncPostgres
from answerdesk.store.change_listener import ChangeListener

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


#: Each kind of single answer's statement and how its rows become the body.
_SINGLE_POSTGRES: dict[int, tuple[str, Callable[[list[Any]], bytes | None]]] = {
    MESSAGE: (STORED_ONE_POSTGRES_SQL, _message_body),
    TEXT_MESSAGE: (TEXT_MESSAGE_POSTGRES, _text_message_body),
}


def _range_query(
    account_id: int, timezone: str, from_date: date | None, to_date: date | None
) -> ListQuery:
    days = local_day_range(ZoneInfo(timezone), from_date, to_date)
    return ListQuery(account_id=account_id, days=days)


def _range_body(rows: list[Any], number: str, most: int) -> bytes | None:
    """The list's body, or None when it is longer than `most` (the full path streams it)."""
    return None if len(rows) > most else joined_wires(rows, number)


#: How many writes that can change a kept answer were committed (SQLite).
_ANSWER_CHANGES_SQL = "SELECT changes FROM answer_changes WHERE id = 1"

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
        "kept_changes",
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
        #: `answer_changes`' count in the snapshot the kept answers were read in.
        self.kept_changes: int | None = None
        #: id -> (account id, body) of single answers read under `kept_at`.
        self.messages: dict[int, tuple[int, bytes]] = {}
        self.text_messages: dict[int, tuple[int, bytes]] = {}

    def forget(self, header: bytes | None, changes: int | None = None) -> None:
        """Drop every kept answer; keep new ones only under `header` (None: none).

        `changes` is `answer_changes`' count in the snapshot begun under `header`.
        """
        if self.kept_bytes:
            self.messages.clear()
            self.text_messages.clear()
            self.kept_bytes = 0
        self.kept_at = header
        self.kept_changes = changes if header is not None else None


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

    The same comparison tells when an answer already read may no longer be
    the answer: up to `keep_bytes` of single-message and single-text-message
    bodies are kept, and when the header changes (anything committed by any
    process) a count that triggers raise on every write an answer is made
    of (`answer_changes`, migration 0012) says whether to drop them. A
    client polling a message for its status while other messages are taken
    is then answered from memory, exactly as fresh as a read. Only the read
    is saved: credentials and rate limits are checked on every request as
    before. Lists are never kept (they are big, and a range's rows are read
    in one statement anyway).
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
                self._carry_or_forget(held, header)
        return held

    def _carry_or_forget(self, held: _Held, header: bytes) -> None:
        """Something was committed: keep the answers if none of what they are made of changed.

        Kept answers must have been read under this very header: a held
        snapshot, begun after reading it, is at least that new. The count of
        `answer_changes` (raised by triggers, migration 0012) is read first
        in it; unchanged since the answers were read, no commit in between
        touched them (a new message, a token's `last_used_at`).
        """
        if held.header is None or not self.keep_bytes:
            held.forget(None)
            return
        try:
            row = held.cursor.execute(_ANSWER_CHANGES_SQL).fetchone()
        except sqlite3.OperationalError:
            row = None  # not migrated yet: any commit starts over
        changes = None if row is None else int(row[0])
        if held.kept_at is not None and changes is not None and changes == held.kept_changes:
            held.kept_at = header
            return
        held.forget(header, changes)

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


class PostgresReads:
    """The fast path's statements, on up to `size` asyncpg connections per event loop.

    With `keep_bytes`, single answers read are kept per event loop until a
    change notice says otherwise (api/kept_answers.py), and `kept_single`
    answers from them without waiting.
    """

    def __init__(self, engine: Engine, *, size: int, keep_bytes: int = 0) -> None:
        self.connections = AsyncPostgres(engine.url, size=size)
        self.keep_bytes = keep_bytes
        self._kept: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, KeptAnswers] = (
            weakref.WeakKeyDictionary()
        )
        self._listeners: list[tuple[asyncio.AbstractEventLoop, ChangeListener]] = []
        self._lock = threading.Lock()
        #: Background reads of failed-check counters (`renew_clear`), held until done.
        self._renewals: set[asyncio.Task[None]] = set()

    def kept(self) -> KeptAnswers | None:
        """The running loop's kept answers (it starts listening on first use); None if none."""
        if not self.keep_bytes:
            return None
        loop = asyncio.get_running_loop()
        kept = self._kept.get(loop)
        if kept is None:
            with self._lock:
                kept = self._kept.get(loop)
                if kept is None:
                    kept = self._kept[loop] = KeptAnswers(self.keep_bytes)
                    listener = ChangeListener(
                        self.connections.dsn,
                        connect_timeout=self.connections.connect_timeout,
                        heard=kept.heard,
                        alive=kept.alive,
                        lost=kept.lost,
                    )
                    self._listeners.append((loop, listener))
                    listener.start()
        return kept

    def keeping(self) -> bool:
        """Whether answers are being kept on any loop (its listener heard from PostgreSQL)."""
        now = time.monotonic()
        return any(kept.alive_until > now for kept in list(self._kept.values()))

    def kept_single(self, kind: int, account_id: int, item_id: int) -> bytes | None:
        """A single answer's body (`MESSAGE` or `TEXT_MESSAGE`) if kept, else None."""
        kept = self.kept()
        return None if kept is None else kept.get(account_id, kind, item_id)

    async def fetch(self, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        """Run one statement (psycopg style) on one of this loop's connections; its rows."""
        return await self.connections.fetch(sql, params)

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
        epoch = failures.epoch
        sql, params, now = failures.with_check(sql, params, failure_key)
        rows = await self.fetch(sql, params)
        if rows:
            row = rows[0]
            counters = None if row[-3] is None else row[-3:]
            failures.judge_check(counters, now, failure_key, epoch=epoch)
        return [row[:-3] for row in rows]

    def renew_clear(self, failures: SharedWindowLimiter, failure_key: str) -> None:
        """Read `failure_key`'s counters again in the background (`renewal_due` said to).

        The requests that asked go on meanwhile; the read renews the key's
        `recently_clear` (or ends it, at the limit). A failed read renews
        nothing: the memo lapses and requests read the counters themselves.
        """
        task = asyncio.get_running_loop().create_task(self._renew_clear(failures, failure_key))
        self._renewals.add(task)
        task.add_done_callback(self._renewals.discard)

    async def _renew_clear(self, failures: SharedWindowLimiter, failure_key: str) -> None:
        epoch = failures.epoch
        sql, params, now = failures.check_statement(failure_key)
        try:
            rows = await self.fetch(sql, params)
        except READ_ERRORS:
            return
        with contextlib.suppress(RateLimited):
            failures.judge_check(rows[0] if rows else None, now, failure_key, epoch=epoch)

    async def single(
        self,
        kind: int,
        account_id: int,
        item_id: int,
        *,
        failures: SharedWindowLimiter | None = None,
        failure_key: str = "",
    ) -> bytes | None:
        """A message's (`MESSAGE`) or text message's body, or None to step aside.

        Kept for later if answers are kept; see `_checked` for `failures`.
        """
        kept = self.kept()
        ticket = None if kept is None else kept.ticket()
        sql, render = _SINGLE_POSTGRES[kind]
        rows = await self._checked(sql, (item_id, account_id), failures, failure_key)
        body = render(rows)
        if body is not None and kept is not None:
            kept.keep(ticket, account_id, kind, item_id, body)
        return body

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
        While answers are kept (a ticket is given: the listener hears the
        database), the zone is kept too (read only when it is not, or to read
        the counters), and the range is made of kept single answers
        (`_kept_range`); otherwise it is read whole, in one statement, as
        nothing read could be kept for the next one.
        """
        kept = self.kept()
        ticket = None if kept is None else kept.ticket()
        zone = None if kept is None or failures is not None else kept.zone(account_id)
        if zone is None:
            found = await self._checked(
                _ACCOUNT_ZONE_POSTGRES, (account_id,), failures, failure_key
            )
            if not found:
                return None
            zone = (found[0][0], found[0][1])
            if kept is not None:
                kept.keep_zone(ticket, account_id, zone)
        timezone, number = zone
        query = _range_query(account_id, timezone, from_date, to_date)
        if kept is not None and ticket is not None:
            return await self._kept_range(kept, query, timezone, number, most)
        sql, params = range_statement(query, timezone, most + 1, "postgresql")
        return _range_body(await self.fetch(sql, tuple(params)), number, most)

    async def _kept_range(
        self, kept: KeptAnswers, query: ListQuery, timezone: str, number: str, most: int
    ) -> bytes | None:
        """A range from the single answers kept: its ids, then only the renders not kept.

        A range's element is exactly its message's single answer, and what
        makes a render stale (a change to the message, or to its account's
        zone or number) sends the notice that drops it, so the database
        sends ids, read from the index alone, instead of ~2 KB a row: its
        share of a ~1,000-row range falls about tenfold (docs/performance.md,
        "Tenth look"), which is what lets more API processes share one
        PostgreSQL. Renders not kept are read by id and kept for later.
        """
        sql, params = range_ids_statement(query, most + 1)
        ids = [row[0] for row in await self.fetch(sql, tuple(params))]
        if len(ids) > most:
            return None
        account_id = query.account_id
        bodies = kept.bodies(account_id, MESSAGE, ids)
        missing = [item_id for item_id, body in zip(ids, bodies, strict=True) if body is None]
        if missing:
            ticket = kept.ticket()
            read = dict(
                await self.fetch(STORED_SOME_POSTGRES_SQL, (timezone, account_id, missing))
            )
            prefix = stored_object_prefix(number)
            for n, item_id in enumerate(ids):
                if bodies[n] is not None:
                    continue
                wire = read.get(item_id)
                if wire is None:
                    return None  # rendered in another zone, or gone since: the full path decides
                body = bodies[n] = prefix + wire
                kept.keep(ticket, account_id, MESSAGE, item_id, body)
        return joined_objects(cast(list[bytes], bodies), brackets=True)

    def close(self) -> None:
        """Stop listening and close every connection (see `AsyncPostgres.close`)."""
        with self._lock:
            listeners, self._listeners = self._listeners, []
        for loop, listener in listeners:
            if not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(listener.stop)
        self.connections.close()
