"""`answerdesk tokens`: issue, list and revoke API tokens."""

from __future__ import annotations

import click

from answerdesk.cli.main import CliState, iso, lookup_user, pass_state, table
from answerdesk.errors import TokenNotFound
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.tokens import create_token, get_token, list_tokens, revoke_token


@click.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.option("--email", required=True, help="The user the token speaks for.")
@click.option(
    "--expires-days", type=click.IntRange(min=1), metavar="D", help="Expire after D days."
)
@pass_state
def tokens_create(state: CliState, email: str, expires_days: int | None) -> None:
    """Issue a token; it is printed alone on the last line, and only this once."""
    with write_transaction(state.engine()) as connection:
        user = lookup_user(connection, email)
        info, token = create_token(connection, user_id=user.id, expires_days=expires_days)
    click.echo(f"token {info.id} for {user.email} ({user.role}), expires {iso(info.expires_at)}")
    click.echo("It is shown only this once: answerdesk keeps only a hash of it.")
    click.echo(token)


@tokens.command("list")
@click.option("--email", help="Only this user's tokens.")
@pass_state
def tokens_list(state: CliState, email: str | None) -> None:
    """List tokens, newest first, by their first 12 characters (never the token)."""
    with read_transaction(state.engine()) as connection:
        user_id = lookup_user(connection, email).id if email is not None else None
        found = list_tokens(connection, user_id=user_id)
    if not found:
        click.echo("no tokens")
        return
    rows = [
        (
            str(info.id),
            info.owner_email,
            info.prefix,
            iso(info.created_at),
            iso(info.last_used_at),
            iso(info.expires_at),
            "revoked" if info.revoked_at else "-",
        )
        for info in found
    ]
    headers = ("ID", "OWNER", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED")
    for line in table(headers, rows):
        click.echo(line)


@tokens.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@pass_state
def tokens_revoke(state: CliState, token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    with write_transaction(state.engine()) as connection:
        try:
            before = get_token(connection, token_id=token_id)
        except TokenNotFound:
            raise TokenNotFound(f"no token {token_id}") from None
        revoke_token(connection, token_id=token_id)
    if before.revoked_at is not None:
        click.echo(f"token {token_id} ({before.prefix}) was already revoked")
    else:
        click.echo(f"revoked token {token_id} ({before.prefix}) of {before.owner_email}")
