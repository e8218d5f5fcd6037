"""`answerdesk db upgrade | backup`: migrate the schema; back up a SQLite database."""

from __future__ import annotations

from pathlib import Path

import click

from answerdesk.cli.main import CliState, CommandFailed, pass_state
from answerdesk.store.backup import BackupUnsupported, backup_sqlite
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


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def db_backup(state: CliState, file: Path) -> None:
    """Write a consistent copy of the SQLite database to FILE while it stays in use."""
    try:
        size = backup_sqlite(state.engine(), file)
    except BackupUnsupported as error:
        raise CommandFailed([f"error: {error}"]) from error
    click.echo(f"backed up to {file} ({size} bytes, integrity ok)")
