"""`answerdesk worker`: carry messages into the CRM; show or retry dead letters."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import replace
from types import FrameType

import click

from answerdesk import sync
from answerdesk.cli.main import CliState, iso, pass_state, table
from answerdesk.messages.rerender import resume_owed_walks
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.sync.retry import DEFAULT_POLICY
from answerdesk.sync.worker import DEFAULT_BATCH_SIZE, DEFAULT_IDLE_WAIT
from answerdesk.webhooks.runner import run_deliverer, start_deliverer_thread  # issue 6


def _show_status(state: CliState) -> None:
    with read_transaction(state.engine()) as connection:
        status = sync.outbox_status(connection)
    click.echo(f"due      {status.due}")
    click.echo(f"waiting  {status.waiting}  (failed, retrying with backoff)")
    click.echo(f"dead     {status.dead}")
    click.echo(f"oldest due since  {iso(status.oldest_due_at)}")
    if status.dead_letters:
        click.echo("")
        rows = [
            [
                str(letter.id),
                str(letter.message_id),
                letter.account_number,
                str(letter.attempts),
                iso(letter.dead_at),
                (letter.last_error or "-").splitlines()[0][:100],
            ]
            for letter in status.dead_letters
        ]
        headers = ["ID", "MESSAGE", "ACCOUNT", "ATTEMPTS", "DEAD SINCE", "LAST ERROR"]
        for line in table(headers, rows):
            click.echo(line)


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


@click.command()
@click.option("--once", is_flag=True, help="Carry what is due now, then exit.")
@click.option("--status", is_flag=True, help="Show the queue and the dead letters, then exit.")
@click.option("--retry-dead", is_flag=True, help="Queue every dead letter again, then exit.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Messages carried per transaction.",
)
@click.option(
    "--idle-wait",
    type=click.FloatRange(0.01, 60),
    default=DEFAULT_IDLE_WAIT,
    show_default=True,
    help="Seconds between looks at an empty queue.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 1000),
    default=DEFAULT_POLICY.max_attempts,
    show_default=True,
    help="Failed attempts before a message becomes a dead letter.",
)
@pass_state
def worker(
    state: CliState,
    once: bool,
    status: bool,
    retry_dead: bool,
    batch_size: int,
    idle_wait: float,
    max_attempts: int,
) -> None:
    """Carry taken messages into the CRM until stopped (SIGTERM or Ctrl-C).

    `answerdesk serve` runs one already; run this instead of it (serve
    --no-worker) or beside it. On PostgreSQL several may run at once. It
    also finishes any re-render a time-zone change still owes.
    """
    if status:
        _show_status(state)
        return
    if retry_dead:
        with write_transaction(state.engine()) as connection:
            count = sync.retry_dead(connection)
        click.echo(f"queued {count} dead letters again")
        return
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    if not once:
        _stop_on_signals(stop)
        click.echo("worker: carrying messages into the CRM (Ctrl-C to stop)", err=True)
    # Webhooks (issue 6): the deliverer runs beside the worker (webhooks/runner.py says why).
    deliverer = None if once else start_deliverer_thread(state.engine(), state.settings)
    if not once:
        # Re-render walks a restart cut short, as `serve` does (its own may be --no-worker).
        resume_owed_walks(state.engine())
    carried = sync.run_worker(
        state.engine(),
        stop=stop,
        once=once,
        batch_size=batch_size,
        idle_wait=idle_wait,
        policy=replace(DEFAULT_POLICY, max_attempts=max_attempts),
    )
    if deliverer is not None:  # webhooks (issue 6)
        deliverer.stop()
    else:
        run_deliverer(state.engine(), state.settings, once=True)
    click.echo(f"carried {carried} messages")
