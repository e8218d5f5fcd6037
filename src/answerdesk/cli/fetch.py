"""`answerdesk fetch`: read messages or text messages from any compatible server.

A thin face over the SDK (`answerdesk.client`): it needs no database, and
works against another answerdesk or a vendor's server alike. The token can
come from `ANSWERDESK_TOKEN` (or a hidden prompt) so it never has to appear
on a command line, where other users of the machine could see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import click

from answerdesk.cli.fetch_output import FORMATS, cell, columns, emit, message_rows, short
from answerdesk.cli.main import CommandFailed
from answerdesk.client import APIError, ClientError, MessagesClient, TextMessagesClient

_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
T = TypeVar("T")


def month_day_year(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """Read a calendar date written as the Messages API writes it: MM-DD-YYYY."""
    if value is None:
        return None
    match = _DATE.match(value.strip())
    if match:
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise click.BadParameter(f"{value!r} is not a date written MM-DD-YYYY", param=param)


def _failed(url: str, error: ClientError) -> CommandFailed:
    if isinstance(error, APIError):
        return CommandFailed([f"error: {url} answered {error.status_code}: {error.message}"])
    return CommandFailed([f"error: {error}"])


def _guarded(url: str, produce: Callable[[], T]) -> T:
    try:
        return produce()
    except ClientError as error:
        raise _failed(url, error) from error


def _url_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--url",
        metavar="URL",
        required=True,
        envvar="ANSWERDESK_URL",
        show_envvar=True,
        help="Base URL of the server, e.g. https://desk.example.",
    )


def _token_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--token",
        metavar="T",
        envvar="ANSWERDESK_TOKEN",
        show_envvar=True,
        prompt=True,
        hide_input=True,
        help="API token; better set ANSWERDESK_TOKEN, or type it at the prompt.",
    )


def _format_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True
    )


def _network_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--retries",
        type=click.IntRange(0, 10),
        default=3,
        show_default=True,
        help="Ask again this often on 429, 5xx and timeouts.",
    )(command)
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        help="Seconds to wait for each answer.",
    )(command)


@click.group()
def fetch() -> None:
    """Read messages or text messages from an answerdesk or a vendor's server."""


@fetch.command("messages")
@_url_option()
@click.option(
    "--email",
    metavar="E",
    required=True,
    envvar="ANSWERDESK_EMAIL",
    show_envvar=True,
    help="The client user's e-mail (sent as X-API-EMAIL).",
)
@_token_option()
@click.option(
    "--from",
    "from_date",
    metavar="MM-DD-YYYY",
    callback=month_day_year,
    help="First local day (inclusive).",
)
@click.option(
    "--to",
    "to_date",
    metavar="MM-DD-YYYY",
    callback=month_day_year,
    help="Last local day (inclusive).",
)
@click.option(
    "--version",
    type=click.Choice(["1", "2"]),
    default="1",
    show_default=True,
    help="API version: /v1/messages or /v2/messages.",
)
@_format_option()
@_network_options
def fetch_messages(
    url: str,
    email: str,
    token: str,
    from_date: date | None,
    to_date: date | None,
    version: str,
    fmt: str,
    retries: int,
    timeout: float,
) -> None:
    """Print the messages of the token's account (all, or created on these days)."""
    with MessagesClient(
        url, email, token, version=int(version), retries=retries, timeout=timeout
    ) as client:
        messages = _guarded(url, lambda: client.list(from_date=from_date, to_date=to_date))
    emit(
        fmt,
        (message.raw for message in messages),
        lambda: message_rows(messages),
        lambda: (
            ["id", "created_at", "from", "phone", "status", "content"],
            [
                [
                    str(m.message_id),
                    m.created_at_display or "",
                    cell(m.from_),
                    cell(m.phone),
                    cell(m.status),
                    short(m.content),
                ]
                for m in messages
            ],
        ),
    )


@fetch.command("text-messages")
@_url_option()
@_token_option()
@click.option("--page", type=click.IntRange(1, 1000), help="Page number (Sell counts from 1).")
@click.option("--per-page", type=click.IntRange(1, 100), help="Items per page (server default 25).")
@click.option("--sort-by", type=click.Choice(["id", "id:asc", "id:desc"]))
@click.option("--ids", help="Comma-separated text message ids.")
@click.option("--resource-type", type=click.Choice(["lead", "contact"]))
@click.option("--resource-id", type=click.IntRange(min=1))
@click.option("--all", "walk_all", is_flag=True, help="Every page, oldest first (id:asc).")
@_format_option()
@_network_options
def fetch_text_messages(
    url: str,
    token: str,
    page: int | None,
    per_page: int | None,
    sort_by: str | None,
    ids: str | None,
    resource_type: str | None,
    resource_id: int | None,
    walk_all: bool,
    fmt: str,
    retries: int,
    timeout: float,
) -> None:
    """Print text messages from a Zendesk Sell compatible Text Messages API."""
    if walk_all and (page is not None or sort_by is not None):
        raise click.UsageError("--all walks every page in id:asc order: drop --page/--sort-by")
    wanted = _ids(ids)
    with TextMessagesClient(url, token, retries=retries, timeout=timeout) as client:

        def read() -> list[Any]:
            if walk_all:
                found: Iterator[Any] = client.iter(
                    per_page=per_page or 100,
                    ids=wanted,
                    resource_type=resource_type,
                    resource_id=resource_id,
                )
                return list(found)
            return list(
                client.list(
                    page=page,
                    per_page=per_page,
                    ids=wanted,
                    resource_type=resource_type,
                    resource_id=resource_id,
                    sort_by=sort_by,
                )
            )

        texts = _guarded(url, read)
    raws = [dict(text.raw) for text in texts]
    emit(
        fmt,
        raws,
        lambda: (columns(raws, lambda _key: False), raws),
        lambda: (
            ["id", "sent_at", "resource", "phone", "content"],
            [
                [
                    str(t.id),
                    cell(t.raw.get("sent_at") or t.raw.get("send_at")),
                    f"{t.resource_type or '-'} {t.resource_id or ''}".strip(),
                    cell(t.resource_phone_number),
                    short(t.content),
                ]
                for t in texts
            ],
        ),
    )


def _ids(text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise click.BadParameter("expected comma-separated integers", param_hint="--ids")
    return [int(part) for part in parts]
