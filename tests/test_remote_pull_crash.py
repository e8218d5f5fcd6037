"""`sync pull` killed mid-way (SIGKILL, then Ctrl-C) and restarted: no loss, no duplicates.

The pull runs as a real process against a live source server slowed down a
little per request, so it can be caught half-way through, on both databases.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.accounts import Account
from answerdesk.store.engine import read_transaction
from answerdesk.store.tables import messages, outbox, pull_checkpoints, pulled_messages
from tests.factories import ClientLogin, Desk
from tests.live import serve
from tests.test_remote_pull import same_messages

REMOTE_MESSAGES = 80
PAGE = "5"


def count(engine: Engine, account: Account) -> int:
    with read_transaction(engine) as connection:
        query = sa.select(sa.func.count()).where(messages.c.account_id == account.id)
        return int(connection.execute(query).scalar_one())


@pytest.fixture
def slow_source(app: Any) -> Iterator[str]:
    """The test's app over HTTP, 30 ms slower per request than it would be."""

    async def slowed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(0.03)
        await app(scope, receive, send)

    with serve(slowed) as url:
        yield url


class PullProcess:
    def __init__(self, database_url: str, url: str, login: ClientLogin, local: Account) -> None:
        self.command = [
            sys.executable, "-m", "answerdesk.cli", "--database", database_url, "sync", "pull",
            "--url", url, "--email", login.user.email, "--account", local.number,
            "--page-size", PAGE,
        ]  # fmt: skip
        self.env = {**os.environ, "ANSWERDESK_TOKEN": login.token}

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


def stop_when(
    process: subprocess.Popen[str], engine: Engine, local: Account, copied: int, sig: int
) -> tuple[str, str]:
    """Send `sig` once the local account holds `copied` messages; return the output."""
    deadline = time.monotonic() + 60
    while count(engine, local) < copied:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the pull made no progress"
        time.sleep(0.02)
    assert process.poll() is None, "the pull finished before it could be stopped"
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return out, err


def test_a_pull_killed_and_interrupted_mid_way_resumes_without_loss_or_duplicates(
    database_url: str, engine: Engine, desk: Desk, slow_source: str
) -> None:
    remote = desk.account(name="Remote", fields=[("Reason", False)])
    login = desk.client_of(remote)
    local = desk.account(name="Local")
    for number in range(REMOTE_MESSAGES):
        desk.take(remote, f"message {number}", fields={"Reason": f"r{number % 7}"})
    pull = PullProcess(database_url, slow_source, login, local)

    process = pull.start()
    stop_when(process, engine, local, 15, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    after_kill = count(engine, local)
    assert 15 <= after_kill < REMOTE_MESSAGES - 20

    desk.take(remote, "arrived while the pull was down")
    process = pull.start()
    _out, err = stop_when(process, engine, local, after_kill + 20, signal.SIGINT)
    assert process.returncode == 130, err
    assert "interrupted: run the same command again to resume" in err
    assert "Traceback" not in err

    finished = subprocess.run(
        pull.command, env=pull.env, capture_output=True, text=True, timeout=120, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert "(0 updated, 0 skipped)" in finished.stdout

    same_messages(engine, remote, local)
    assert count(engine, local) == REMOTE_MESSAGES + 1
    with read_transaction(engine) as connection:
        mapped = list(connection.execute(sa.select(pulled_messages)))
        checkpoint = connection.execute(sa.select(pull_checkpoints)).one()
        queued = set(connection.execute(sa.select(outbox.c.message_id)).scalars())
        remote_ids = set(
            connection.execute(
                sa.select(messages.c.id).where(messages.c.account_id == remote.id)
            ).scalars()
        )
    assert {row.remote_message_id for row in mapped} == remote_ids
    assert len(mapped) == len(remote_ids)
    assert all(row.local_message_id is not None for row in mapped)
    assert len({row.local_message_id for row in mapped}) == len(mapped)
    assert checkpoint.last_remote_id == max(remote_ids)
    assert {row.local_message_id for row in mapped} <= queued
