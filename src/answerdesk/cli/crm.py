"""`answerdesk crm import | convert`: load existing customers, convert a lead to a contact."""

from __future__ import annotations

from pathlib import Path

import click

from answerdesk.cli.main import CliState, lookup_account, pass_state
from answerdesk.crm.converting import convert_lead
from answerdesk.crm.importing import KINDS, Kind, import_records
from answerdesk.store.engine import write_transaction


@click.group()
def crm() -> None:
    """Manage the built-in CRM (leads, contacts, deals)."""


@crm.command("import")
@click.option("--account", "number", required=True, metavar="N", help="The account's number.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What each line is.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def crm_import(state: CliState, number: str, kind: Kind, file: Path) -> None:
    """Import contacts, leads or deals from FILE (.csv with a header row, or .jsonl).

    Keys: first_name, last_name, organization_name, phone, mobile, email
    (contacts also is_organization); deals: name, value, stage (open, won,
    lost) and the phone or email of their lead or contact. Every line is
    checked; if any is bad, each bad line is reported (up to 20) and nothing
    is imported.
    """
    with write_transaction(state.engine()) as connection:
        account = lookup_account(connection, number)
        count = import_records(connection, account=account, kind=kind, path=file)
    click.echo(f"imported {count} {kind}s into account {account.number}")


@crm.command("convert")
@click.argument("lead_id", type=click.IntRange(min=1))
@pass_state
def crm_convert(state: CliState, lead_id: int) -> None:
    """Convert lead LEAD_ID into a contact; its text messages and deals move with it."""
    with write_transaction(state.engine()) as connection:
        done = convert_lead(connection, lead_id=lead_id)
    click.echo(
        f"converted lead {done.lead_id} into contact {done.contact_id}"
        f" ({done.text_messages} text messages, {done.deals} deals moved)"
    )
