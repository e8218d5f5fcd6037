"""`answerdesk db upgrade`: bring the schema to this version's migrations."""

from __future__ import annotations

import click

from answerdesk.cli.main import CliState, pass_state
from answerdesk.store.migrate import current_revision, upgrade


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Apply every pending migration (safe to run twice, or from several hosts)."""
    engine = state.engine(migrate=False)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database upgraded from revision {before or 'none'} to {after}")
