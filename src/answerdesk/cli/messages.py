"""`answerdesk messages import`: load a JSON Lines file of messages, all or nothing.

`answerdesk messages prerender` is in cli/prerender.py.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

import click

from answerdesk.cli.main import CliState, lookup_account, pass_state
from answerdesk.cli.prerender import prerender
from answerdesk.importing import import_messages
from answerdesk.store.engine import write_transaction


def _size(file: BinaryIO) -> int | None:
    """Return the file's size when it is a regular file (not a pipe or stdin)."""
    try:
        info = os.fstat(file.fileno())
    except (OSError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _lines_with_progress(file: BinaryIO, length: int) -> Iterator[bytes]:
    with click.progressbar(length=length, label="importing") as bar:
        for line in file:
            bar.update(len(line))
            yield line


@click.group()
def messages() -> None:
    """Manage messages."""


messages.add_command(prerender)


@messages.command("import")
@click.option("--account", "number", required=True, metavar="N", help="The account's number.")
@click.argument("file", type=click.File("rb"))
@pass_state
def messages_import(state: CliState, number: str, file: BinaryIO) -> None:
    """Import messages from JSON Lines (one object a line; FILE may be - for stdin).

    Every line is checked; if any is bad, each bad line is reported (up to
    20) and nothing is imported.
    """
    size = _size(file)
    show_bar = size is not None and sys.stdout.isatty()
    lines = _lines_with_progress(file, size) if show_bar and size is not None else file
    with write_transaction(state.engine()) as connection:
        account = lookup_account(connection, number)
        count = import_messages(connection, account=account, lines=lines)
    # One wording for every count: scripts match on it.
    click.echo(f"imported {count} messages into account {account.number}")
