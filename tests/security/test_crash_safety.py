"""`kill -9` a real `answerdesk serve` (API and CRM worker) while it takes and carries messages.

A client posts messages through the agent API, each with its own
Idempotency-Key, while a timer kills the server at a random moment; after a
restart the client retries whatever was in flight with the same key (as the
SDK does). Kills land mid-request, mid-commit and mid-carry. At the end:

* every acknowledged (201) message is stored, and each key stored once;
* every stored message is carried exactly once (one text message each);
* one lead per caller, however often carrying was cut short;
* SQLite's `PRAGMA integrity_check` is `ok`.

Three kills per database run always; the release loop (`-m slow`) does 20.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.store.engine import is_sqlite, read_transaction
from answerdesk.store.tables import leads, messages, outbox, text_messages
from tests.factories import ClientLogin, Desk
from tests.live import free_port

CALLERS = 7
SRC = str(Path(__file__).resolve().parents[2] / "src")


@contextmanager
def answerdesk_serve(database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Start `answerdesk serve` (with its worker); yield once it answers /healthz."""
    env = {
        **os.environ,
        "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
        # One agent token posts as fast as it can across every restart; on
        # PostgreSQL its rate-limit counters outlive the killed processes.
        "ANSWERDESK_API_RATE_LIMIT": "0",
    }
    command = [
        sys.executable, "-m", "answerdesk.cli", "--database", database_url,
        "serve", "--port", str(port), "--no-upgrade", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _, err = process.communicate(timeout=5)
            raise AssertionError(f"serve did not start: {err.decode()[-2000:]}")
        time.sleep(0.05)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


class Taker:
    """The client: keys in order, each retried with the same key until a 201."""

    def __init__(self, number: str, agent: ClientLogin) -> None:
        self.number = number
        self.agent = agent
        self.next_key = 0
        self.pending: int | None = None
        self.acknowledged: dict[int, int] = {}  # key -> message id

    def _post(self, http: httpx.Client, key: int) -> int:
        body = {"content": f"crash test message {key}", "phone": f"617 555 02{key % CALLERS:02d}"}
        headers = {**self.agent.bearer, "Idempotency-Key": f"crash-{key}"}
        response = http.post(
            f"/agent/v1/accounts/{self.number}/messages", json=body, headers=headers
        )
        assert response.status_code == 201, response.text
        return int(response.json()["message_id"])

    def run_until_the_server_dies(self, base: str, stop_at: int | None = None) -> None:
        """Post keys in order until a request fails (or `stop_at` keys are acknowledged)."""
        with httpx.Client(base_url=base, timeout=10) as http:
            while stop_at is None or self.pending is not None or self.next_key < stop_at:
                key = self.next_key if self.pending is None else self.pending
                self.pending = key
                try:
                    message_id = self._post(http, key)
                except httpx.TransportError:
                    return  # killed mid-request: retried after the restart
                if key in self.acknowledged:
                    assert self.acknowledged[key] == message_id, "a replay changed its answer"
                self.acknowledged[key] = message_id
                self.pending = None
                self.next_key = max(self.next_key, key + 1)


def _settle(engine: Engine, timeout: float = 60) -> None:
    """Wait until the worker has carried everything (nothing left in the outbox)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with read_transaction(engine) as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the worker did not carry everything after the restart")


def crash_loop(engine: Engine, database_url: str, desk: Desk, kills: int, seed: int) -> str:
    account = desk.account()
    agent = desk.staff("agent")
    taker = Taker(account.number, agent)
    rng = random.Random(seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    for _ in range(kills):
        with answerdesk_serve(database_url, port) as server:
            timer = threading.Timer(rng.uniform(0.1, 1.2), os.kill, (server.pid, signal.SIGKILL))
            timer.start()
            taker.run_until_the_server_dies(base)
            timer.join()
    with answerdesk_serve(database_url, port) as server:
        # The retry of whatever was in flight, a little more work, then carrying catches up.
        taker.run_until_the_server_dies(base, stop_at=taker.next_key + 5)
        assert taker.pending is None
        _settle(engine)
        server.send_signal(signal.SIGTERM)
    return check_outcome(engine, account.id, taker, kills)


def check_outcome(engine: Engine, account_id: int, taker: Taker, kills: int) -> str:
    _settle(engine)
    with read_transaction(engine) as connection:
        stored = set(
            connection.execute(
                sa.select(messages.c.id).where(messages.c.account_id == account_id)
            ).scalars()
        )
        carried = list(
            connection.execute(
                sa.select(text_messages.c.message_id).where(
                    text_messages.c.account_id == account_id
                )
            ).scalars()
        )
        lead_count = connection.execute(
            sa.select(sa.func.count()).select_from(leads).where(leads.c.account_id == account_id)
        ).scalar_one()
        integrity = (
            connection.exec_driver_sql("PRAGMA integrity_check").scalar()
            if is_sqlite(engine)
            else "ok"
        )
    acknowledged = set(taker.acknowledged.values())
    lost = acknowledged - stored
    # Every key was acknowledged in the end (retried after each kill), each stored once.
    keys = taker.next_key
    duplicated = len(carried) - len(set(carried))
    assert not lost, f"acknowledged but not stored: {sorted(lost)}"
    assert len(acknowledged) == keys and len(stored) == keys, (len(stored), keys)
    assert duplicated == 0, "a message was carried twice"
    assert set(carried) == stored, "a stored message was not carried"
    assert lead_count == min(CALLERS, len(stored)), "a caller got two leads"
    assert integrity == "ok", integrity
    summary = (
        f"crash loop: {kills} kills, {len(acknowledged)} acknowledged, {len(stored)} stored, "
        f"{len(carried)} carried, lost 0, duplicated 0, integrity {integrity}"
    )
    print(summary)
    return summary


def test_kill_9_while_taking_and_carrying(engine: Engine, database_url: str, desk: Desk) -> None:
    crash_loop(engine, database_url, desk, kills=3, seed=1)


@pytest.mark.slow
def test_kill_9_twenty_times_while_taking_and_carrying(
    engine: Engine, database_url: str, desk: Desk
) -> None:
    crash_loop(engine, database_url, desk, kills=20, seed=20)
