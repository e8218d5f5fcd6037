"""`answerdesk messages prerender`: re-render stored message JSON that is stale or missing.

The console does this by itself, in the background, after an account's
time zone changes (and `accounts update --timezone` in the foreground); a
walk cut short is finished when `serve` or `worker` next starts. Run this
by hand for messages written before migration 0004 (they have no stored
JSON), with `--force` after an update of the time zone database, or to
finish a cut-short walk without a restart. It is safe beside a running
server: one short write transaction per chunk, and readers are right
throughout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import click

from answerdesk.accounts import Account, list_accounts
from answerdesk.cli.main import CliState, lookup_account, pass_state
from answerdesk.messages.prerender import Chunk
from answerdesk.messages.rerender import CHUNK_SIZE, count_messages, rerender_account
from answerdesk.store.engine import read_transaction


def _accounts(state: CliState, number: str | None) -> list[Account]:
    with read_transaction(state.engine()) as connection:
        if number is not None:
            return [lookup_account(connection, number)]
        return list_accounts(connection)


@click.command("prerender")
@click.option("--account", "number", metavar="N", help="Only this account (default: every one).")
@click.option(
    "--force",
    is_flag=True,
    help="Re-render every message, even those stored in the right zone"
    " (after a time zone database update).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    default=CHUNK_SIZE,
    show_default=True,
    help="Messages per write transaction.",
)
@pass_state
def prerender(state: CliState, number: str | None, force: bool, chunk_size: int) -> None:
    """Re-render the stored JSON of messages whose account's time zone changed.

    Readers render such messages on every read (right, but slow) until this
    has run. Prints one line per account it re-rendered messages of.
    """
    engine = state.engine()
    chosen = _accounts(state, number)
    show_bar = sys.stderr.isatty()
    length = count_messages(engine, chosen[0].id if number is not None else None)
    bar: Any = (
        click.progressbar(length=length, label="re-rendering", file=sys.stderr)
        if show_bar
        else nullcontext()
    )
    total = 0
    lines = []  # printed after the bar, which would otherwise run into them
    with bar:
        advance: Callable[[Chunk], None] | None = (
            (lambda chunk: bar.update(chunk.seen)) if show_bar else None
        )
        for account in chosen:
            result = rerender_account(
                engine, account_id=account.id, chunk_size=chunk_size, force=force, on_chunk=advance
            )
            total += result.rendered
            if number is not None or result.rendered:
                lines.append(
                    f"re-rendered {result.rendered} of {result.seen} messages"
                    f" of account {account.number} ({account.timezone})"
                )
    for line in lines:
        click.echo(line)
    if number is None:
        noun = "account" if len(chosen) == 1 else "accounts"
        click.echo(f"re-rendered {total} messages in {len(chosen)} {noun}")
