"""`answerdesk users add`: create admins, agents and client users."""

from __future__ import annotations

import sys

import click

from answerdesk.cli.main import CliState, lookup_account, pass_state
from answerdesk.errors import ValidationFailed
from answerdesk.store.engine import write_transaction
from answerdesk.users import ROLES, create_user


def _read_password() -> str:
    """Read one line from stdin; prompt without echo when a person is typing."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ValidationFailed({"password": "no password on stdin"})
    return password


@click.group()
def users() -> None:
    """Manage users."""


@users.command("add")
@click.option("--email", required=True, help="Sign-in e-mail (unique, any case).")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--account", "number", metavar="N", help="Account number (client users only).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (one line).")
@pass_state
def users_add(
    state: CliState, email: str, name: str, role: str, number: str | None, password_stdin: bool
) -> None:
    """Create a user; without --password-stdin the user has no password yet."""
    password = _read_password() if password_stdin else None
    with write_transaction(state.engine()) as connection:
        account = lookup_account(connection, number) if number is not None else None
        user = create_user(
            connection,
            email=email,
            name=name,
            role=role,
            account_id=account.id if account else None,
            password=password,
        )
    where = f", account {account.number}" if account else ""
    click.echo(f"created {user.role} user {user.email} ({user.name}){where}, id {user.id}")
    if password is None:
        click.echo("no password set: the user cannot sign in until one is set")
