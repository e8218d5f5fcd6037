"""`answerdesk serve` as a real process: it starts, seeds (`--demo`), answers, and resumes work."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from answerdesk.accounts import update_account
from answerdesk.store.engine import create_engine_for_url, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import messages
from tests.factories import Desk

CURL = re.compile(r'curl -H "X-API-EMAIL: (\S+)" -H "X-API-TOKEN: (\S{64})" (\S+)/v1/messages')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_until_listening(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        text = process.stdout.readline()
        if not text:
            break
        seen.append(text)
        if text.startswith("answerdesk listening on "):
            return "".join(seen)
    raise AssertionError(f"serve never said it was listening:\n{''.join(seen)}")


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop `serve` as a service manager would (SIGTERM, then SIGKILL after 5 s)."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def test_serve_with_demo_answers_the_messages_api(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        sys.executable, "-m", "answerdesk.cli", "--database", f"sqlite:///{tmp_path / 'demo.db'}",
        "serve", "--demo", "--port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 9
        out = _read_until_listening(process, deadline)
        assert f"answerdesk listening on http://127.0.0.1:{port}\n" in out
        email, token, base_url = CURL.findall(out)[0]
        assert base_url == f"http://127.0.0.1:{port}"
        headers = {"X-API-EMAIL": email, "X-API-TOKEN": token}
        while True:
            try:
                response = httpx.get(f"{base_url}/v1/messages", headers=headers, timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.05)
        assert response.status_code == 200
        assert len(response.json()) >= 1
        # The CRM worker runs inside serve: the demo messages become text messages.
        bearer = {"Authorization": f"Bearer {token}"}
        while True:
            carried = httpx.get(f"{base_url}/v2/text_messages", headers=bearer, timeout=2)
            assert carried.status_code == 200
            if carried.json()["items"]:
                break
            assert time.monotonic() < deadline + 20, "the worker never carried a message"
            time.sleep(0.1)
    finally:
        _stop(process)


def test_serve_finishes_a_re_render_a_restart_cut_short(tmp_path: Path) -> None:
    """A zone change saved just before the process stopped is re-rendered at the next start."""
    url = f"sqlite:///{tmp_path / 'owed.db'}"
    engine = create_engine_for_url(url)
    upgrade(engine)
    desk = Desk(engine)
    account = desk.account(timezone="America/New_York")
    for n in range(30):
        desk.take(account, f"Call back #{n}", created_at=f"2024-03-{1 + n % 28:02d}T12:00:00Z")
    with write_transaction(engine) as connection:
        update_account(connection, account_id=account.id, timezone="Asia/Tokyo")

    def zones() -> set[str | None]:
        with engine.connect() as connection:
            query = sa.select(messages.c.wire_zone).where(messages.c.account_id == account.id)
            return set(connection.execute(query).scalars())

    assert zones() == {"America/New_York"}
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "answerdesk.cli",
        "--database",
        url,
        "serve",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 30
        _read_until_listening(process, deadline)
        while zones() != {"Asia/Tokyo"}:
            assert process.poll() is None, "serve exited"
            assert time.monotonic() < deadline, f"never re-rendered: {zones()}"
            time.sleep(0.1)
    finally:
        _stop(process)
        engine.dispose()
