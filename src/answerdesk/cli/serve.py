"""`answerdesk serve`: run the HTTP server (uvicorn) on this database."""

from __future__ import annotations

import os
from typing import Any

import click
import uvicorn

from answerdesk.app import create_app
from answerdesk.cli.demo import run_demo
from answerdesk.cli.main import CliState, pass_state

#: Worker processes build their app from the environment (uvicorn needs an
#: import string to start more than one), so the parent hands settings on there.
APP_FACTORY = "answerdesk.app:create_app_from_env"
#: Trust no X-Forwarded-* headers (no proxy is assumed), advertise no server
#: software, and keep a log line per request off the hot path.
_UVICORN_OPTIONS: dict[str, Any] = {
    "log_level": "info",
    "proxy_headers": False,
    "server_header": False,
    "access_log": False,
}
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
@pass_state
def serve(
    state: CliState, host: str, port: int, workers: int, demo: bool, no_upgrade: bool
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
    # CRM worker hook: the outbox worker thread is started here (and skipped
    # with --no-worker) once the sync pipeline lands.
    click.echo(f"answerdesk listening on {url_for(host, port)}")
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, **_UVICORN_OPTIONS)
    else:
        os.environ["ANSWERDESK_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            APP_FACTORY, factory=True, workers=workers, host=host, port=port, **_UVICORN_OPTIONS
        )
