"""Single answers kept in memory on PostgreSQL until the database says they changed.

On SQLite the fast path keeps single answers until a commit that can change
them, which it sees in the shared WAL index and a count raised by triggers
(api/hot_readers.py, `SqliteReads`). PostgreSQL
has no shared memory to look at; instead triggers (migration 0010) send
`NOTIFY answerdesk_changed` with the account's id in the transaction of
every write that can change a kept answer, and each process listens
(store/change_listener.py). So an answer kept here is dropped when:

* PostgreSQL delivers a notice for its account (from any process, any
  machine), which it does once the writing transaction has committed;
* this process commits a write to a table answers are made of
  (`note_local_writes`): its own writes are seen at once, not a notice later;
* the listener has not heard from PostgreSQL for ALIVE_SECONDS (its
  heartbeat): then nothing kept is answered, and nothing is kept, until it
  has; a listener that reconnects drops everything (notices are not queued
  for a connection that is gone).

The price, stated in docs/api.md: another process's change reaches this
process's answers when its notice arrives (normally well under a
millisecond after the commit), not at the commit itself.

A read racing a change must not keep what it read before the change: it
takes a `ticket` before asking, and `keep` refuses if any notice came in
between. Answers are kept per account, so a notice drops one account's, and
an answer can only ever be found under the account it was read for.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: The kinds of answer kept.
MESSAGE = 0
TEXT_MESSAGE = 1
#: Kept answers are answered only while the listener has heard from
#: PostgreSQL within this many seconds (it asks once a second).
ALIVE_SECONDS = 2.5
#: What a kept answer weighs beyond its body's bytes: its slots in the two
#: dictionaries, its key tuple and id, the bytes object's header (measured
#: with tracemalloc: ~250 bytes besides the body's object).
_KEPT_OVERHEAD = 280

# -- this process's own writes -----------------------------------------------

#: A statement that can change a kept answer (as SQLAlchemy and our own SQL
#: write them); new messages and text messages cannot.
_CHANGING = re.compile(
    r"\s*(?:(?:UPDATE|DELETE\s+FROM)\s+\"?(?:messages|accounts|text_messages|deals)\b"
    r"|INSERT\s+INTO\s+\"?deals\b|TRUNCATE\b)",
    re.IGNORECASE,
)
_FLAG = "answerdesk_changes_kept_answers"
#: Bumped to a value never used before whenever this process commits such a write.
_local_writes = 0
_local_counter = itertools.count(1)


def _statement_ran(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if _CHANGING.match(statement):
        conn.info[_FLAG] = True


def _committing(conn: Any) -> None:
    global _local_writes
    if conn.info.pop(_FLAG, False):
        _local_writes = next(_local_counter)  # unique, so no two threads' bumps cancel out


def _rolled_back(conn: Any) -> None:
    conn.info.pop(_FLAG, None)


def note_local_writes() -> None:
    """Have every SQLAlchemy engine of this process drop kept answers when it commits a change.

    Dropped as the commit begins: a read in that instant could still keep
    the old answer, and the notice that follows the commit drops it.
    Idempotent; the app calls it when it keeps answers on PostgreSQL.
    """
    if not sa.event.contains(Engine, "after_cursor_execute", _statement_ran):
        sa.event.listen(Engine, "after_cursor_execute", _statement_ran)
        sa.event.listen(Engine, "commit", _committing)
        sa.event.listen(Engine, "rollback", _rolled_back)


# -- the answers ---------------------------------------------------------------


class KeptAnswers:
    """Single answers by account, kind and id, within `keep_bytes`, for one event loop.

    When full, the answers kept longest ago make room (PostgreSQL may go long
    without a notice, so what is asked now must be able to displace what was
    asked an hour ago).
    """

    def __init__(self, keep_bytes: int) -> None:
        self.keep_bytes = keep_bytes
        self.kept_bytes = 0
        #: account id -> ((message id -> body), (text message id -> body))
        self._accounts: dict[int, tuple[dict[int, bytes], dict[int, bytes]]] = {}
        #: (account id, kind, id) -> weight, the answer kept longest ago first
        self._ages: OrderedDict[tuple[int, int, int], int] = OrderedDict()
        #: account id -> its (time zone, number), what a range's answer is made in
        self._zones: dict[int, tuple[str, str]] = {}
        #: Monotonic time until which answers may be served (set by the heartbeat).
        self.alive_until = 0.0
        #: Bumped by every notice or drop; a read's ticket must still match to keep.
        self.changes = 0
        self._local_seen = _local_writes

    def get(self, account_id: int, kind: int, item_id: int) -> bytes | None:
        """The answer kept for this account's item, if it may be answered."""
        if self._local_seen != _local_writes:
            self.forget()
            return None
        if time.monotonic() >= self.alive_until:
            return None
        kept = self._accounts.get(account_id)
        return None if kept is None else kept[kind].get(item_id)

    def bodies(self, account_id: int, kind: int, item_ids: list[int]) -> list[bytes | None]:
        """`get` for each of the account's `item_ids`, in one go (a date range's messages)."""
        if self._local_seen != _local_writes:
            self.forget()
        kept = self._accounts.get(account_id)
        if kept is None or time.monotonic() >= self.alive_until:
            return [None] * len(item_ids)
        found = kept[kind].get
        return [found(item_id) for item_id in item_ids]

    def zone(self, account_id: int) -> tuple[str, str] | None:
        """The account's (time zone, number) if kept and it may be answered from."""
        if self._local_seen != _local_writes:
            self.forget()
            return None
        if time.monotonic() >= self.alive_until:
            return None
        return self._zones.get(account_id)

    def keep_zone(self, ticket: int | None, account_id: int, zone: tuple[str, str]) -> None:
        """Keep the account's (time zone, number) if `ticket` is still good.

        A few hundred bytes per account, not counted against `keep_bytes`;
        the triggers notify a change of either (migration 0010).
        """
        if ticket is not None and ticket == self.changes and self._local_seen == _local_writes:
            self._zones[account_id] = zone

    def ticket(self) -> int | None:
        """Taken before a read: `keep` keeps its answer only if nothing changed meanwhile."""
        if self._local_seen != _local_writes:
            self.forget()
        if time.monotonic() >= self.alive_until:
            return None
        return self.changes

    def keep(
        self, ticket: int | None, account_id: int, kind: int, item_id: int, body: bytes
    ) -> None:
        """Keep `body` if `ticket` is still good (making room if need be)."""
        if ticket is None or ticket != self.changes or self._local_seen != _local_writes:
            return
        weight = len(body) + _KEPT_OVERHEAD
        if weight > self.keep_bytes:
            return
        kept = self._accounts.get(account_id)
        if kept is not None and item_id in kept[kind]:
            return  # (kept by a read that finished first)
        while self.kept_bytes + weight > self.keep_bytes:
            self._drop_oldest()
        kept = self._accounts.get(account_id)
        if kept is None:
            kept = self._accounts[account_id] = ({}, {})
        kept[kind][item_id] = body
        self._ages[(account_id, kind, item_id)] = weight
        self.kept_bytes += weight

    def _drop_oldest(self) -> None:
        (account_id, kind, item_id), weight = self._ages.popitem(last=False)
        kept = self._accounts[account_id]
        del kept[kind][item_id]
        if not kept[0] and not kept[1]:
            del self._accounts[account_id]
        self.kept_bytes -= weight

    def forget_account(self, account_id: int) -> None:
        """Drop one account's answers (a notice named it)."""
        self.changes += 1
        self._zones.pop(account_id, None)
        kept = self._accounts.pop(account_id, None)
        if kept is None:
            return
        for kind, items in enumerate(kept):
            for item_id in items:
                self.kept_bytes -= self._ages.pop((account_id, kind, item_id))

    def forget(self) -> None:
        """Drop every answer (a notice for everything, a reconnect, a local write)."""
        self.changes += 1
        self._local_seen = _local_writes
        self._accounts.clear()
        self._ages.clear()
        self._zones.clear()
        self.kept_bytes = 0

    def alive(self, at: float) -> None:
        """The listener heard from PostgreSQL at monotonic time `at` (every notice before is in)."""
        self.alive_until = at + ALIVE_SECONDS

    def lost(self) -> None:
        """The listener lost its connection, or is about to listen on a new one."""
        self.alive_until = 0.0
        self.forget()

    def heard(self, payload: str) -> None:
        """A notice's payload: an account's id, or anything else for everything."""
        if payload.isdigit():
            self.forget_account(int(payload))
        else:
            self.forget()
