"""Re-render an account's stored wire JSON after its time zone changed, a chunk at a time.

A time-zone change leaves every stored `wire` of the account in the old
zone. Readers notice (`wire_zone` is not the account's zone) and render
those rows from their columns, so answers are right at once, but slow until
the stored JSON is rendered again. `rerender_account` does that by walking
the account's messages by id, `chunk_size` rows per write transaction
(`prerender.refresh_chunk`): a million-message account never holds one
long transaction, nor SQLite's write lock for more than a chunk. After each
chunk it pauses about as long as the chunk took, so agents taking messages
meanwhile get the lock at least half of the time. Any prefix of the walk
is a consistent state: a row is either re-rendered or still read the slow
way, so a walk stopped anywhere (crash, restart, Ctrl-C) is safe and
another walk simply finishes it.

The console starts the walk in a background thread of the process that
saved the change (`rerender_in_background`), so the admin's request does
not wait for it; `answerdesk messages prerender` runs it by hand. The
change itself records that a walk is owed (`accounts.rerender_owed`, in the
same transaction), a finished walk settles it, and `answerdesk serve`
resumes every owed walk when it starts (`resume_owed_walks`), so a walk cut
short by a restart is finished without anyone asking.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account, list_accounts
from answerdesk.messages.prerender import Chunk, refresh_chunk
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import accounts, messages

log = logging.getLogger("answerdesk.messages")

#: Messages per write transaction: ~100 ms of reading, rendering and writing
#: each on the benchmark machine (docs/performance.md).
CHUNK_SIZE = 1_000
#: Pause after a chunk, as a share of the time the chunk took.
PAUSE_RATIO = 1.0
#: A background walk that fails (the database away, a lock not got within
#: the busy timeout) is tried again this many times, after these pauses.
RETRY_PAUSES = (5.0, 30.0, 120.0)


@dataclass(frozen=True)
class Rerendered:
    """What a walk over one account did."""

    #: Messages looked at.
    seen: int
    #: Of those, re-rendered.
    rendered: int
    #: The walk reached the account's last message (not stopped on request).
    finished: bool


def count_messages(engine: Engine, account_id: int | None = None) -> int:
    """How many messages a walk will look at (for a progress bar)."""
    query = sa.select(sa.func.count()).select_from(messages)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    with read_transaction(engine) as connection:
        return int(connection.execute(query).scalar_one())


def rerender_account(
    engine: Engine,
    *,
    account_id: int,
    chunk_size: int = CHUNK_SIZE,
    force: bool = False,
    stop: threading.Event | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    pause_ratio: float = PAUSE_RATIO,
) -> Rerendered:
    """Re-render the account's stale stored JSON, `chunk_size` messages per transaction.

    Walks every message of the account once, re-rendering those whose stored
    JSON is missing or in another zone than the account's (every one with
    `force`). `stop` ends the walk between chunks; `on_chunk` hears of each
    committed chunk.
    """
    stop = stop or threading.Event()
    seen = rendered = 0
    after_id = 0
    owed = _owed(engine, account_id)
    while not stop.is_set():
        started = time.monotonic()
        with write_transaction(engine) as connection:
            chunk = refresh_chunk(
                connection, account_id=account_id, after_id=after_id, size=chunk_size, force=force
            )
        if chunk.seen == 0:
            _settle(engine, account_id, owed)
            return Rerendered(seen, rendered, finished=True)
        seen += chunk.seen
        rendered += chunk.rendered
        after_id = chunk.last_id
        if on_chunk is not None:
            on_chunk(chunk)
        if chunk.seen < chunk_size:
            _settle(engine, account_id, owed)
            return Rerendered(seen, rendered, finished=True)
        if pause_ratio > 0:
            stop.wait((time.monotonic() - started) * pause_ratio)
    return Rerendered(seen, rendered, finished=False)


def _owed(engine: Engine, account_id: int) -> int:
    """The account's count of zone changes not yet caught up with, as a walk begins."""
    with read_transaction(engine) as connection:
        found = connection.execute(
            sa.select(accounts.c.rerender_owed).where(accounts.c.id == account_id)
        ).scalar()
    return int(found or 0)


def _settle(engine: Engine, account_id: int, owed: int) -> None:
    """A finished walk settles the changes made before it began, and only those.

    A change made meanwhile (by any process) raised the count, so the
    account stays owed a walk: rows this one passed before the change are
    in the older zone.
    """
    if owed == 0:
        return
    with write_transaction(engine) as connection:
        connection.execute(
            accounts.update()
            .where(accounts.c.id == account_id, accounts.c.rerender_owed == owed)
            .values(rerender_owed=0)
        )


def resume_owed_walks(engine: Engine) -> list[Account]:
    """Start a background walk for every account owed one (at `serve`'s start); return them.

    A walk cut short by a restart or a crash is finished this way. Two
    processes resuming the same account both walk it: harmless (each row is
    re-rendered once it is stale, and re-rendering is idempotent), only
    wasted work.
    """
    with read_transaction(engine) as connection:
        owed = list_accounts(connection, owing_rerender=True)
    for account in owed:
        log.info("resuming the re-render of account %s's messages", account.number)
        rerender_in_background(engine, account)
    return owed


class _Background:
    """The walks running in this process's background threads, one per account.

    A second change to an account whose walk is still running does not start
    another thread: it asks the running one to walk again once it is done,
    so the rows it had already passed are caught up in the newest zone.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.again: dict[tuple[int, int], bool] = {}
        self.idle = threading.Condition(self.lock)

    def start(self, engine: Engine, account: Account) -> bool:
        key = (id(engine), account.id)
        with self.lock:
            if key in self.again:
                self.again[key] = True
                return False
            self.again[key] = False
        thread = threading.Thread(
            target=self._run,
            args=(engine, account, key),
            name=f"answerdesk-rerender-{account.id}",
            daemon=True,
        )
        try:
            thread.start()
        except BaseException:
            with self.lock:
                del self.again[key]
            raise
        return True

    def _run(self, engine: Engine, account: Account, key: tuple[int, int]) -> None:
        try:
            while True:
                _walk_with_retries(engine, account)
                with self.lock:
                    if not self.again[key]:
                        return
                    self.again[key] = False
        finally:
            with self.lock:
                del self.again[key]
                self.idle.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        with self.lock:
            return self.idle.wait_for(lambda: not self.again, timeout)


_background = _Background()


def _walk_with_retries(engine: Engine, account: Account) -> None:
    for attempt, pause in enumerate((*RETRY_PAUSES, None)):
        try:
            result = rerender_account(engine, account_id=account.id)
        except Exception:
            if pause is None:
                log.exception(
                    "re-rendering the messages of account %s failed; their JSON is rendered"
                    " on every read until `answerdesk messages prerender --account %s` runs",
                    account.number,
                    account.number,
                )
                return
            log.warning(
                "re-rendering the messages of account %s failed (attempt %s);"
                " trying again in %.0f s",
                account.number,
                attempt + 1,
                pause,
                exc_info=True,
            )
            time.sleep(pause)
            continue
        log.info(
            "re-rendered %s of %s messages of account %s in its time zone",
            result.rendered,
            result.seen,
            account.number,
        )
        return


def rerender_in_background(engine: Engine, account: Account) -> None:
    """Re-render the account's stored JSON in a background thread of this process.

    For a change made by a request: the request answers at once, and readers
    are right meanwhile (they render stale rows themselves).
    """
    _background.start(engine, account)


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait until no background walk runs in this process; False if `timeout` ran out."""
    return _background.wait(timeout)
