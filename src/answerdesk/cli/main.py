"""The root `answerdesk` group and what every command shares.

Each command gets a `CliState` holding the settings; the engine is built on
first use and the schema brought up to date then, so a fresh install works
without a separate `db upgrade`. Errors answerdesk raises on purpose, and
database or settings trouble, end the command with `error: ...` lines on
stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click
import sqlalchemy as sa
from alembic.util.exc import CommandError as AlembicError
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account, find_account
from answerdesk.config import Settings, SettingsError
from answerdesk.errors import AccountNotFound, AnswerdeskError, UserNotFound, ValidationFailed
from answerdesk.importing import ImportFailed
from answerdesk.store.engine import create_engine_for_url
from answerdesk.store.migrate import upgrade
from answerdesk.users import User, find_user


class CommandFailed(click.ClickException):
    """End a command with these lines on stderr and exit status 1."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__(self.lines[-1] if self.lines else "error")

    def show(self, file: Any = None) -> None:
        for line in self.lines:
            click.echo(line, err=True)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def explain(error: Exception) -> list[str]:
    """Turn an error into the lines the operator reads (the last one says `error:`)."""
    if isinstance(error, ImportFailed):
        lines = [str(problem) for problem in error.problems]
        hidden = error.bad_lines - len({problem.line for problem in error.problems})
        if hidden > 0:
            lines.append(f"... and {hidden} more bad lines")
        return [*lines, f"error: {error.message}"]
    if isinstance(error, ValidationFailed):
        return [f"error: {field}: {problem}" for field, problem in error.errors.items()]
    if isinstance(error, AnswerdeskError):
        return [f"error: {error.message}"]
    if isinstance(error, SettingsError):
        return [f"error: settings: {error}"]
    if isinstance(error, sa.exc.SQLAlchemyError | AlembicError):
        return [f"error: database: {_first_line(error)}"]
    return [f"error: unexpected {type(error).__name__}: {_first_line(error)}"]


class DeskGroup(click.Group):
    """A click group that turns answerdesk's errors into `error:` lines."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:  # the CLI promises: never a traceback
            raise CommandFailed(explain(error)) from error


class CliState:
    """The settings of this invocation, and the engine built from them on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._upgraded = False

    def engine(self, *, migrate: bool = True) -> Engine:
        """Return the engine; bring the schema up to date first unless told not to."""
        if self._engine is None:
            try:
                self._engine = create_engine_for_url(
                    self.settings.database_url, pool_size=self.settings.pool_size
                )
            except (ValueError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as error:
                raise CommandFailed([f"error: database URL: {_first_line(error)}"]) from error
        if migrate and not self._upgraded:
            upgrade(self._engine)
            self._upgraded = True
        return self._engine

    def close(self) -> None:
        """Release the engine's connections (a test runs many commands in one process)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


pass_state = click.make_pass_decorator(CliState)


@click.group(cls=DeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    metavar="URL",
    envvar="ANSWERDESK_DATABASE_URL",
    show_envvar=True,
    help="Database URL: sqlite:///FILE (default sqlite:///answerdesk.db) or postgresql://...",
)
@click.version_option(package_name="answerdesk")
@click.pass_context
def cli(ctx: click.Context, database: str | None) -> None:
    """answerdesk: the message desk of an answering service."""
    try:
        settings = Settings.from_env(database_url=database)
    except SettingsError as error:
        raise CommandFailed([f"error: settings: {error}"]) from error
    state = CliState(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main(args: Sequence[str] | None = None) -> Any:
    """Run the command line (the `answerdesk` console script)."""
    return cli.main(args=args, prog_name="answerdesk")


def lookup_account(connection: sa.Connection, number: str) -> Account:
    """Return the account with this number, or fail naming it."""
    account = find_account(connection, number=number.strip())
    if account is None:
        raise AccountNotFound(f"no account {number}")
    return account


def lookup_user(connection: sa.Connection, email: str) -> User:
    """Return the user with this e-mail, or fail naming it."""
    user = find_user(connection, email=email)
    if user is None:
        raise UserNotFound(f"no user with e-mail {email.strip().lower()}")
    return user


def iso(value: datetime | None) -> str:
    """Format an instant as ISO 8601 UTC to the second, `-` for none."""
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Lay out rows in columns two spaces apart, with no trailing spaces."""
    grid = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in grid) for i in range(len(headers))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in grid
    ]
