"""`answerdesk webhooks`: register endpoints, list them, see deliveries, replay events.

The CLI speaks for the operator (an admin), so it alone may set
`--allow-private`; `--account` scopes listing and replay to one account.
"""

from __future__ import annotations

import click

from answerdesk.cli.main import CliState, iso, lookup_account, pass_state, table
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.webhooks import EVENT_TYPES
from answerdesk.webhooks.deliveries import EventNotFound, list_deliveries, replay_event
from answerdesk.webhooks.endpoints import (
    EndpointNotFound,
    delete_endpoint,
    list_endpoints,
    register_endpoint,
)


@click.group()
def webhooks() -> None:
    """Manage webhook endpoints and deliveries."""


@webhooks.command("add")
@click.option("--account", "number", required=True, metavar="N", help="The account's number.")
@click.option("--url", required=True, help="Where events are POSTed (http or https).")
@click.option(
    "--events",
    required=True,
    metavar="TYPES",
    help=f"Comma-separated: {', '.join(EVENT_TYPES)}.",
)
@click.option(
    "--allow-private", is_flag=True, help="Allow a private or loopback address (admins only)."
)
@pass_state
def webhooks_add(state: CliState, number: str, url: str, events: str, allow_private: bool) -> None:
    """Register an endpoint; its signing secret is printed alone on the last line, once."""
    with write_transaction(state.engine()) as connection:
        account = lookup_account(connection, number)
        endpoint, secret = register_endpoint(
            connection,
            settings=state.settings,
            account_id=account.id,
            url=url,
            events=events,
            allow_private=allow_private,
        )
    click.echo(f"webhook {endpoint.id} for account {account.number}: {endpoint.url}")
    click.echo(f"events: {', '.join(endpoint.events)}")
    click.echo("The signing secret is shown only this once:")
    click.echo(secret)


def _account_id(state: CliState, number: str | None) -> int | None:
    if number is None:
        return None
    with read_transaction(state.engine()) as connection:
        return lookup_account(connection, number).id


@webhooks.command("list")
@click.option("--account", "number", metavar="N", help="Only this account's endpoints.")
@pass_state
def webhooks_list(state: CliState, number: str | None) -> None:
    """List endpoints (never their secrets)."""
    account_id = _account_id(state, number)
    with read_transaction(state.engine()) as connection:
        found = list_endpoints(connection, account_id=account_id)
    if not found:
        click.echo("no webhooks")
        return
    rows = [
        (
            str(e.id),
            str(e.account_id),
            e.url,
            ",".join(e.events),
            "yes" if e.allow_private else "-",
            "active" if e.active else "disabled",
        )
        for e in found
    ]
    for line in table(("ID", "ACCOUNT ID", "URL", "EVENTS", "PRIVATE", "STATE"), rows):
        click.echo(line)


@webhooks.command("remove")
@click.argument("endpoint_id", metavar="ID", type=int)
@click.option("--account", "number", metavar="N", help="Refuse unless it is this account's.")
@pass_state
def webhooks_remove(state: CliState, endpoint_id: int, number: str | None) -> None:
    """Delete an endpoint and its delivery history."""
    account_id = _account_id(state, number)
    with write_transaction(state.engine()) as connection:
        try:
            endpoint = delete_endpoint(connection, endpoint_id=endpoint_id, account_id=account_id)
        except EndpointNotFound:
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id}") from None
    click.echo(f"removed webhook {endpoint.id} ({endpoint.url})")


@webhooks.command("deliveries")
@click.option("--account", "number", metavar="N", help="Only this account's deliveries.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_state
def webhooks_deliveries(state: CliState, number: str | None, limit: int) -> None:
    """List deliveries, newest first, with attempts and the last error."""
    account_id = _account_id(state, number)
    with read_transaction(state.engine()) as connection:
        found = list_deliveries(connection, account_id=account_id, limit=limit)
    if not found:
        click.echo("no deliveries")
        return
    rows = [
        (
            d.event_id,
            d.type,
            d.account_number,
            str(d.endpoint_id),
            d.state,
            str(d.attempts),
            iso(d.last_attempt_at),
            iso(d.next_attempt_at),
            (d.last_error or "-").splitlines()[0][:80] if d.last_error else "-",
        )
        for d in found
    ]
    headers = ("EVENT", "TYPE", "ACCOUNT", "ENDPOINT", "STATE", "ATTEMPTS", "LAST", "NEXT", "ERROR")
    for line in table(headers, rows):
        click.echo(line)


@webhooks.command("replay")
@click.argument("event_id", metavar="EVENT_ID")
@click.option("--account", "number", metavar="N", help="Refuse unless it is this account's.")
@pass_state
def webhooks_replay(state: CliState, event_id: str, number: str | None) -> None:
    """Send an event again, with its same id, to its endpoints."""
    account_id = _account_id(state, number)
    with write_transaction(state.engine()) as connection:
        try:
            count = replay_event(connection, event_id=event_id, account_id=account_id)
        except EventNotFound:
            raise EventNotFound(f"no webhook event {event_id}") from None
    click.echo(f"queued {event_id} again for {count} endpoint(s)")
