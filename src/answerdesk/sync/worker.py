"""The worker: claim due outbox rows, carry them into the CRM, retry or park failures.

One batch is one transaction: claim, carry, delete the carried rows, commit.
A worker killed mid-batch leaves nothing half-done: the transaction rolls
back and its rows are claimed again.

A batch is first carried in one go. If any message fails, the whole batch
is rolled back and carried again one message per savepoint, so the failing
message is found, its failure recorded (retry with backoff, or dead letter)
and the others are carried; the fast path pays for no savepoints.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk import clock

# A module import, not `from ... import Carrier`: messages → sync → crm →
# messages is a cycle (taking a message enqueues it; carrying renders it),
# and a module reference resolves whichever side is imported first.
from answerdesk.crm import carrying
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import messages, text_messages
from answerdesk.sync.metrics import CARRIED
from answerdesk.sync.outbox import OutboxRow, claim_due, record_failure, remove
from answerdesk.sync.retry import DEFAULT_POLICY, RetryPolicy

log = logging.getLogger("answerdesk.sync")

DEFAULT_BATCH_SIZE = 200
#: Seconds an idle worker waits before looking at the outbox again.
DEFAULT_IDLE_WAIT = 0.5


@dataclass
class BatchResult:
    """What one batch did."""

    claimed: int = 0
    carried: int = 0
    #: Rows whose message had already been carried (a lost delete): removed.
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def _message_rows(connection: sa.Connection, ids: list[int]) -> dict[int, Any]:
    rows = connection.execute(sa.select(messages).where(messages.c.id.in_(ids)))
    return {row.id: row for row in rows}


def _already_carried(connection: sa.Connection, ids: list[int]) -> set[int]:
    query = sa.select(text_messages.c.message_id).where(text_messages.c.message_id.in_(ids))
    return set(connection.execute(query).scalars())


def _carry_claimed(
    connection: sa.Connection,
    rows: list[OutboxRow],
    *,
    careful: bool,
    policy: RetryPolicy,
    now: datetime,
) -> BatchResult:
    result = BatchResult(claimed=len(rows))
    carrier = carrying.Carrier(connection)
    carrier.open_accounts(sorted({row.account_id for row in rows}))
    message_ids = [row.message_id for row in rows]
    found = _message_rows(connection, message_ids)
    carried_before = _already_carried(connection, message_ids)
    finished: list[int] = []
    # Account by account (the order the locks were taken in), oldest message first.
    for row in sorted(rows, key=lambda row: (row.account_id, row.message_id)):
        if row.message_id in carried_before:
            result.skipped += 1
        elif not careful:
            carrier.carry(found[row.message_id])
            result.carried += 1
        else:
            try:
                with connection.begin_nested():
                    carrier.carry(found[row.message_id])
            except Exception as error:
                result.failed += 1
                result.errors.append(f"message {row.message_id}: {error}")
                if record_failure(connection, row=row, error=error, policy=policy, now=now):
                    result.dead += 1
                    log.error("message %s parked as a dead letter: %s", row.message_id, error)
                continue
            result.carried += 1
        finished.append(row.id)
    remove(connection, finished)
    return result


def carry_batch(
    engine: Engine, *, batch_size: int = DEFAULT_BATCH_SIZE, policy: RetryPolicy = DEFAULT_POLICY
) -> BatchResult:
    """Carry up to `batch_size` due messages in one transaction; return what happened."""
    try:
        with write_transaction(engine) as connection:
            now = clock.utcnow()
            rows = claim_due(connection, limit=batch_size, now=now)
            if not rows:
                return BatchResult()
            return _carry_claimed(connection, rows, careful=False, policy=policy, now=now)
    except Exception as error:
        log.warning("a batch failed (%s); carrying it one message at a time", error)
    with write_transaction(engine) as connection:
        now = clock.utcnow()
        rows = claim_due(connection, limit=batch_size, now=now)
        return _carry_claimed(connection, rows, careful=True, policy=policy, now=now)


def run_worker(
    engine: Engine,
    *,
    stop: threading.Event | None = None,
    once: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    idle_wait: float = DEFAULT_IDLE_WAIT,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> int:
    """Carry batches until `stop` is set (or, with `once`, until nothing is due).

    Return how many messages were carried. A batch that fails as a whole
    (the database is down, say) is logged and tried again after a pause;
    with `once` it is raised instead.
    """

    def step() -> tuple[int, bool]:
        result = carry_batch(engine, batch_size=batch_size, policy=policy)
        CARRIED.inc(result.carried)
        return result.carried, result.claimed > 0

    return poll_until_stopped(step, stop=stop, once=once, idle_wait=idle_wait, what="carrying")


def poll_until_stopped(
    step: Callable[[], tuple[int, bool]],
    *,
    stop: threading.Event | None,
    once: bool,
    idle_wait: float,
    what: str,
    logger: logging.Logger = log,
) -> int:
    """Run `step` until `stop` is set (with `once`, until it finds nothing); sum its counts.

    `step` returns how much it did and whether it found work. When it found
    none the loop waits `idle_wait`; when it raises, the error is logged and
    tried again after a pause that doubles up to a minute (with `once` it is
    raised instead), so a database outage is ridden out, not spun on.
    The CRM worker and the webhook deliverer both run this way.
    """
    stop = stop or threading.Event()
    total = 0
    pause = idle_wait
    while not stop.is_set():
        try:
            done, found = step()
        except Exception:
            if once:
                raise
            logger.exception("%s failed; trying again in %.1f s", what, pause)
            stop.wait(pause)
            pause = min(pause * 2, 60.0)
            continue
        pause = idle_wait
        total += done
        if not found:
            if once:
                break
            stop.wait(idle_wait)
    return total


class WorkerThread:
    """A worker running in a background thread of this process (`answerdesk serve`)."""

    def __init__(self, thread: threading.Thread, stop_event: threading.Event) -> None:
        self.thread = thread
        self.stop_event = stop_event

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the worker to stop after its current batch and wait for it."""
        self.stop_event.set()
        self.thread.join(timeout)


def start_worker_thread(
    engine: Engine,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    idle_wait: float = DEFAULT_IDLE_WAIT,
    policy: RetryPolicy = DEFAULT_POLICY,
    name: str = "answerdesk-worker",
) -> WorkerThread:
    """Start a worker in a daemon thread; `.stop()` ends it after its current batch."""
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        kwargs={
            "engine": engine,
            "stop": stop_event,
            "batch_size": batch_size,
            "idle_wait": idle_wait,
            "policy": policy,
        },
        name=name,
        daemon=True,
    )
    thread.start()
    return WorkerThread(thread, stop_event)
