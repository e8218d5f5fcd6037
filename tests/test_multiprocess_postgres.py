"""Two API processes and two pipeline workers on one PostgreSQL (docs/operations.md).

A message taken through one API process is served by the other, and every
message is carried into the CRM exactly once although two workers compete
for the outbox (and callers repeat, so both could race to create one lead).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from answerdesk.store.tables import leads, text_messages
from tests.factories import Desk
from tests.live import free_port

CALLERS = [f"+1617555{n:04d}" for n in range(10)]
MESSAGES = 30


def _start(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ANSWERDESK_DATABASE_URL": database_url}
    return subprocess.Popen(
        [sys.executable, "-m", "answerdesk.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "an API process exited"
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base_url} never became ready")


@pytest.fixture
def cluster(database_url: str) -> Iterator[tuple[str, str]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes on one database is the PostgreSQL deployment")
    ports = [free_port(), free_port()]
    processes = [
        _start(database_url, "serve", "--no-worker", "--no-upgrade", "--port", str(port))
        for port in ports
    ]
    processes += [_start(database_url, "worker") for _ in range(2)]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=False):
            _wait_healthy(url, process)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_taken_on_one_served_by_other_carried_once(cluster, desk: Desk, engine) -> None:
    first, second = cluster
    account = desk.account()
    client = desk.client_of(account)
    agent = desk.staff("agent")
    taken: list[int] = []
    for serial in range(MESSAGES):
        via = first if serial % 2 == 0 else second
        response = httpx.post(
            f"{via}/agent/v1/accounts/{account.number}/messages",
            headers=agent.bearer,
            json={"content": f"message {serial}", "phone": CALLERS[serial % len(CALLERS)]},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        taken.append(response.json()["message_id"])
        other = second if via == first else first
        shown = httpx.get(f"{other}/v1/messages/{taken[-1]}", headers=client.headers, timeout=10)
        assert shown.status_code == 200
    listed = httpx.get(f"{second}/v1/messages?after_id=0", headers=client.headers, timeout=10)
    assert [m["message_id"] for m in listed.json()] == taken

    deadline = time.monotonic() + 60
    while True:
        with engine.connect() as connection:
            carried = (
                connection.execute(
                    sa.select(text_messages.c.message_id).where(
                        text_messages.c.account_id == account.id
                    )
                )
                .scalars()
                .all()
            )
        if len(carried) >= MESSAGES or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(carried) == sorted(taken)  # every message once, none twice
    with engine.connect() as connection:
        lead_phones = (
            connection.execute(sa.select(leads.c.phone).where(leads.c.account_id == account.id))
            .scalars()
            .all()
        )
    assert sorted(lead_phones) == sorted(CALLERS)  # one lead per caller, never two
    page = httpx.get(
        f"{first}/v2/text_messages?per_page=100", headers=client.bearer, timeout=10
    ).json()
    assert len(page["items"]) == MESSAGES
