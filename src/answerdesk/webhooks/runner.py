"""Run the deliverer in a loop, in its own thread beside the CRM worker.

It runs beside the worker rather than inside its loop: a POST waits on
someone else's server for up to ten seconds, and carrying messages into
the CRM must not wait with it.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from answerdesk.config import Settings
from answerdesk.sync.worker import WorkerThread, poll_until_stopped
from answerdesk.webhooks.crypto import fernet
from answerdesk.webhooks.delivery import deliver_due

log = logging.getLogger("answerdesk.webhooks")

#: Seconds an idle deliverer waits before looking for due deliveries again.
IDLE_WAIT = 1.0


def run_deliverer(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    once: bool = False,
    idle_wait: float = IDLE_WAIT,
) -> int:
    """Deliver until `stop` is set (with `once`, until nothing is due); return how many tries."""

    def step() -> tuple[int, bool]:
        count = deliver_due(engine, settings)
        return count, count > 0

    return poll_until_stopped(
        step, stop=stop, once=once, idle_wait=idle_wait, what="webhook delivery", logger=log
    )


def start_deliverer_thread(
    engine: Engine, settings: Settings, *, idle_wait: float = IDLE_WAIT
) -> WorkerThread:
    """Start the deliverer in a daemon thread; `.stop()` ends it after its current batch.

    Outside development a missing or malformed `ANSWERDESK_WEBHOOK_KEY`
    stops `serve` and `worker` here, at start, not at the first delivery.
    """
    fernet(settings)
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_deliverer,
        args=(engine, settings),
        kwargs={"stop": stop_event, "idle_wait": idle_wait},
        name="answerdesk-webhooks",
        daemon=True,
    )
    thread.start()
    return WorkerThread(thread, stop_event)
