"""`answerdesk sync pull`: copy messages from another Messages API into a local account.

The work is `answerdesk.remote_pull`; this module reads options, shows
progress on a terminal (and nothing else while it runs otherwise), and
prints one summary line per pass.
"""

from __future__ import annotations

import sys
import time

import click

from answerdesk.cli.main import CliState, CommandFailed, lookup_account, pass_state
from answerdesk.client import APIError, ClientError, MessagesClient
from answerdesk.remote_pull import Pull, PullResult
from answerdesk.store.engine import read_transaction

#: Exit status after Ctrl-C, as shells report a process ended by SIGINT.
INTERRUPTED = 130


def _describe(error: ClientError, url: str) -> str:
    if isinstance(error, APIError):
        return f"error: {url} answered {error.status_code}: {error.message}"
    return f"error: {error}"


def _one_pass(pull: Pull, show_progress: bool) -> PullResult:
    if not show_progress:
        return pull.run()
    with click.progressbar(
        pull.steps(), label="pulling", show_pos=True, file=sys.stderr
    ) as outcomes:
        for _outcome in outcomes:
            pass
    return pull.result


def _report(result: PullResult, number: str, source: str, *, always: bool) -> None:
    for label in result.fields_added:
        click.echo(f"added field {label!r} to the script of account {number}")
    for remote_id, reason in result.skipped:
        click.echo(f"skipped remote message {remote_id}: {reason}", err=True)
    if always or result.copied or result.updated or result.skipped:
        click.echo(
            f"pulled {result.copied} new messages into account {number} from {source}"
            f" ({result.updated} updated, {len(result.skipped)} skipped)"
        )


@click.group()
def sync() -> None:
    """Copy messages between answerdesk and other servers."""


@sync.command("pull")
@click.option("--url", metavar="URL", required=True, help="Base URL of the remote server.")
@click.option(
    "--email",
    metavar="E",
    required=True,
    envvar="ANSWERDESK_EMAIL",
    show_envvar=True,
    help="A client user's e-mail on the remote server.",
)
@click.option(
    "--token",
    metavar="T",
    envvar="ANSWERDESK_TOKEN",
    show_envvar=True,
    prompt=True,
    hide_input=True,
    help="That user's API token; better set ANSWERDESK_TOKEN, or type it at the prompt.",
)
@click.option("--account", "number", required=True, metavar="N", help="The local account.")
@click.option("--version", type=click.Choice(["1", "2"]), default="1", show_default=True)
@click.option("--follow", is_flag=True, help="Keep pulling every --interval seconds.")
@click.option(
    "--interval", type=click.FloatRange(min=1), default=60.0, show_default=True, metavar="S"
)
@click.option(
    "--look-back-days",
    type=click.IntRange(0, 365),
    default=2,
    show_default=True,
    metavar="D",
    help="Re-read this many days for status changes and late arrivals.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Messages per request, when the remote has the after_id/limit extension.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="Ask the remote again this often on 429, 5xx and timeouts.",
)
@pass_state
def pull(
    state: CliState,
    url: str,
    email: str,
    token: str,
    number: str,
    version: str,
    follow: bool,
    interval: float,
    look_back_days: int,
    page_size: int,
    retries: int,
) -> None:
    """Copy the remote account's messages into local account N, resumably.

    Run it again (or with --follow) to copy what arrived since; an
    interrupted pull resumes where it stopped, and never copies a message
    twice. Messages go through the local pipeline, so into the CRM too.
    """
    engine = state.engine()
    with read_transaction(engine) as connection:
        account = lookup_account(connection, number)
    client = MessagesClient(
        url,
        email,
        token,
        version=int(version),
        look_back_days=look_back_days,
        page_size=page_size,
        retries=retries,
    )
    puller = Pull(engine, client, account=account, source_url=url, look_back_days=look_back_days)
    show_progress = sys.stderr.isatty()
    try:
        while True:
            try:
                result = _one_pass(puller, show_progress)
            except ClientError as error:
                if not follow:
                    raise CommandFailed([_describe(error, url)]) from error
                click.echo(_describe(error, url) + f" (trying again in {interval:g}s)", err=True)
            else:
                _report(result, account.number, puller.source, always=not follow)
            if not follow:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("interrupted: run the same command again to resume", err=True)
        sys.exit(INTERRUPTED)
    finally:
        client.close()
