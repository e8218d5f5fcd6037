"""`answerdesk demo`: seed demo data and print how to sign in and call the API."""

from __future__ import annotations

import click

from answerdesk.cli.main import CliState, pass_state
from answerdesk.demo import DemoResult, seed_demo
from answerdesk.store.engine import write_transaction

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def demo_report(result: DemoResult, base_url: str = DEFAULT_BASE_URL) -> list[str]:
    """Return the lines that tell a newcomer where to look and how to sign in."""
    if result.created:
        head = (
            f"demo data created: {result.accounts_created} accounts,"
            f" {result.users_created} users, {result.messages_created} messages"
        )
    else:
        head = "demo data already exists; issued fresh API tokens"
    lines = [head, "", f"console: {base_url}/", f"logins (password {result.password}):"]
    width = max(len(login.email) for login in result.logins)
    for login in result.logins:
        account = (
            f"  account {login.account_number} {login.account_name}" if login.account_number else ""
        )
        lines.append(f"  {login.role:<6}  {login.email:<{width}}{account}".rstrip())
    lines += ["", "API tokens (shown only this once):"]
    for issued in result.tokens:
        lines += [
            f"  {issued.email}  {issued.token}",
            f'    curl -H "X-API-EMAIL: {issued.email}" -H "X-API-TOKEN: {issued.token}"'
            f" {base_url}/v1/messages",
        ]
    return lines


def run_demo(state: CliState, base_url: str = DEFAULT_BASE_URL) -> None:
    """Seed (or top up) the demo data in one transaction and print the report."""
    with write_transaction(state.engine()) as connection:
        result = seed_demo(connection)
    for line in demo_report(result, base_url):
        click.echo(line)


@click.command()
@pass_state
def demo(state: CliState) -> None:
    """Seed demo accounts, users and ~500 messages; print logins and tokens."""
    run_demo(state)
