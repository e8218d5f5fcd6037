"""`answerdesk serve`: run the HTTP server (uvicorn) on this database."""

from __future__ import annotations

import os

import click
import uvicorn

from answerdesk.app import create_app
from answerdesk.cli.demo import run_demo
from answerdesk.cli.main import CliState, pass_state
from answerdesk.heap import keep_heap_for_big_answers
from answerdesk.logs import configure_logging, logging_config
from answerdesk.messages.rerender import resume_owed_walks
from answerdesk.server_protocol import UVICORN_OPTIONS
from answerdesk.store.engine import create_engine_for_url
from answerdesk.sync import start_worker_thread
from answerdesk.webhooks.runner import start_deliverer_thread  # webhooks (issue 6)

#: Worker processes build their app from the environment (uvicorn needs an
#: import string to start more than one), so the parent hands settings on there.
APP_FACTORY = "answerdesk.app:create_app_from_env"
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def url_for(host: str, port: int) -> str:
    """Return the base URL of a server listening on host:port (IPv6 in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Processes."
)
@click.option("--demo", is_flag=True, help="Seed demo data first and print logins and tokens.")
@click.option("--no-upgrade", is_flag=True, help="Do not migrate the schema on start.")
@click.option(
    "--no-worker",
    is_flag=True,
    help="No background work in this process: CRM carrying, webhooks, owed re-renders.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Least severe log level written (JSON lines on stderr).",
)
@pass_state
def serve(
    state: CliState,
    host: str,
    port: int,
    workers: int,
    demo: bool,
    no_upgrade: bool,
    no_worker: bool,
    log_level: str,
) -> None:
    """Serve the Messages API (and the rest of answerdesk) over HTTP."""
    settings = state.settings
    # Migrate once, here in the parent, before any worker opens the database;
    # the PostgreSQL advisory lock in `upgrade` covers several hosts starting together.
    state.engine(migrate=not no_upgrade)
    if demo:
        run_demo(state, url_for(_ANY_ADDRESS.get(host, host), port))
        click.echo("")
    state.close()
    log_config = logging_config(log_level)
    configure_logging(log_level)
    # One CRM worker per `serve`, in this (parent) process: with --workers N
    # the HTTP processes are uvicorn's children and carry nothing themselves.
    worker_engine = None if no_worker else create_engine_for_url(settings.database_url)
    worker = None if worker_engine is None else start_worker_thread(worker_engine)
    # Webhooks (issue 6): the deliverer runs beside the CRM worker, on its engine.
    deliverer = None if worker_engine is None else start_deliverer_thread(worker_engine, settings)
    if worker_engine is not None:
        # Re-render walks a restart cut short (a time-zone change owes one).
        resume_owed_walks(worker_engine)
    # Before the first request (worker processes do it in create_app_from_env).
    keep_heap_for_big_answers()
    click.echo(f"answerdesk listening on {url_for(host, port)}")
    options = {
        **UVICORN_OPTIONS,
        "log_config": log_config,
        "log_level": log_level,
    }
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, **options)
        else:
            os.environ["ANSWERDESK_DATABASE_URL"] = settings.database_url
            uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port, **options)
    finally:
        if worker is not None:
            worker.stop()
        if deliverer is not None:  # webhooks (issue 6)
            deliverer.stop()
        if worker_engine is not None:
            worker_engine.dispose()
