"""`answerdesk accounts`: create and change client accounts and their scripts."""

from __future__ import annotations

import click

from answerdesk.accounts import Account, add_script_field, create_account, update_account
from answerdesk.cli.main import CliState, lookup_account, pass_state
from answerdesk.cli.prerender import prerender
from answerdesk.messages.rerender import CHUNK_SIZE
from answerdesk.store.engine import write_transaction


@click.group()
def accounts() -> None:
    """Manage client accounts."""


@accounts.command("add")
@click.option("--number", required=True, help="The account number clients know, e.g. 10042.")
@click.option("--name", required=True, help="The client's business name.")
@click.option("--timezone", default="America/New_York", show_default=True, help="IANA time zone.")
@click.option("--region", default="US", show_default=True, help="Default phone region (ISO code).")
@click.option("--phone", metavar="NUMBER", help="The account's own phone number.")
@pass_state
def accounts_add(
    state: CliState, number: str, name: str, timezone: str, region: str, phone: str | None
) -> None:
    """Create a client account."""
    with write_transaction(state.engine()) as connection:
        account = create_account(
            connection, number=number, name=name, timezone=timezone, region=region, phone=phone
        )
    click.echo(f"created account {_settings(account)}")


def _settings(account: Account) -> str:
    return (
        f"{account.number} ({account.name}): time zone {account.timezone},"
        f" region {account.region}, phone {account.phone or '-'}"
    )


@accounts.command("update")
@click.option("--number", required=True, help="The account's number.")
@click.option("--name", help="A new business name.")
@click.option("--timezone", help="A new IANA time zone (its messages are re-rendered).")
@click.option("--region", help="A new default phone region (ISO code).")
@click.option("--phone", metavar="NUMBER", help="A new phone number of the account's own.")
@pass_state
def accounts_update(
    state: CliState,
    number: str,
    name: str | None,
    timezone: str | None,
    region: str | None,
    phone: str | None,
) -> None:
    """Change an account's settings; a new time zone re-renders its messages' stored JSON.

    The re-render runs here, with a progress bar on a terminal, and is safe
    beside a running server (answers are right throughout). Stopped with
    Ctrl-C, it is finished by the next `answerdesk serve` or `worker` start.
    """
    with write_transaction(state.engine()) as connection:
        before = lookup_account(connection, number)
        account = update_account(
            connection,
            account_id=before.id,
            name=name,
            timezone=timezone,
            region=region,
            phone=phone,
        )
    click.echo(f"updated account {_settings(account)}")
    if account.timezone != before.timezone:
        click.get_current_context().invoke(
            prerender, number=number, force=False, chunk_size=CHUNK_SIZE
        )


@accounts.command("field")
@click.option("--number", required=True, help="The account's number.")
@click.option("--label", required=True, help="The field's label as agents see it.")
@click.option("--required", is_flag=True, help="Agents must fill the field in.")
@pass_state
def accounts_field(state: CliState, number: str, label: str, required: bool) -> None:
    """Append a custom field to an account's script."""
    with write_transaction(state.engine()) as connection:
        account = lookup_account(connection, number)
        field = add_script_field(connection, account_id=account.id, label=label, required=required)
    kind = "required" if field.required else "optional"
    click.echo(f"added field {field.position} {field.label!r} ({kind}) to account {account.number}")
