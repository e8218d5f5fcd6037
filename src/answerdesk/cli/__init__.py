"""The `answerdesk` command line: one module per command group.

answerdesk [--database URL] serve | db | demo | accounts | users | tokens | messages | crm
                            | worker | fetch | sync | webhooks
"""

from answerdesk.cli.accounts import accounts
from answerdesk.cli.crm import crm
from answerdesk.cli.db import db
from answerdesk.cli.demo import demo
from answerdesk.cli.fetch import fetch
from answerdesk.cli.main import cli, main
from answerdesk.cli.messages import messages
from answerdesk.cli.pull import sync
from answerdesk.cli.serve import serve
from answerdesk.cli.tokens import tokens
from answerdesk.cli.users import users
from answerdesk.cli.webhooks import webhooks  # webhooks (issue 6)
from answerdesk.cli.worker import worker

for _command in (serve, db, demo, accounts, users, tokens, messages, crm, worker, fetch, sync):
    cli.add_command(_command)
cli.add_command(webhooks)  # webhooks (issue 6)

__all__ = ["cli", "main"]
