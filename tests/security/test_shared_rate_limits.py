"""API rate limits shared by every process on PostgreSQL; per process on SQLite (documented).

Two apps made by `create_app` on one database, each with its own engine and
pool, stand for two server processes; the last test runs a real
`answerdesk serve --workers 2`. On PostgreSQL a token's budget, and an
address's budget of failed token checks, is spent across both: limit + 1 on
either is a 429 with Retry-After in the envelope of the API asked. On SQLite
each process keeps its own counters, as docs/operations.md says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from answerdesk.app import create_app
from answerdesk.config import Settings
from tests.factories import ClientLogin, Desk
from tests.live import free_port, serve

LIMIT = 4
#: A day: no test here lasts long enough to see a window slide.
WINDOW = 86_400
MESSAGES_REFUSAL = {"success": False, "info": "Rate limit exceeded", "data": {}}


def _postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def two_processes(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps with their own engines (so pools and limiters) on one database."""
    limited = replace(
        settings,
        api_rate_limit=LIMIT,
        api_rate_window_seconds=WINDOW,
        auth_failure_limit=LIMIT,
        auth_failure_window_seconds=WINDOW,
    )
    with ExitStack() as stack:
        clients = [
            stack.enter_context(
                TestClient(create_app(limited), raise_server_exceptions=False, client=address)
            )
            for address in (("203.0.113.7", 40000), ("203.0.113.7", 40001))
        ]
        yield clients[0], clients[1]


def _ask(http: TestClient, api: str, login: ClientLogin, token: str | None = None) -> Any:
    token = token or login.token
    if api == "messages":
        return http.get("/v1/messages", headers={**login.headers, "X-API-TOKEN": token})
    return http.get("/v2/text_messages", headers={"Authorization": f"Bearer {token}"})


def _assert_refused(response: Any, api: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert 1 <= int(response.headers["retry-after"]) <= 2 * WINDOW
    if api == "messages":
        assert response.json() == MESSAGES_REFUSAL
    else:
        body = response.json()
        assert body["errors"][0]["error"]["code"] == "rate_limit_exceeded"
        assert body["meta"]["http_status"] == "429 Too Many Requests"


@pytest.mark.parametrize("api", ["messages", "sell"])
def test_two_processes_share_a_tokens_budget(
    two_processes: tuple[TestClient, TestClient], database_url: str, desk: Desk, api: str
) -> None:
    login = desk.client_of(desk.account())
    for serial in range(LIMIT):
        assert _ask(two_processes[serial % 2], api, login).status_code == 200
    for http in two_processes:
        answer = _ask(http, api, login)
        if _postgres(database_url):
            _assert_refused(answer, api)  # limit + 1 on either process
        else:
            assert answer.status_code == 200  # SQLite: each process counts its own
    # Another token of the same account has its own budget.
    assert _ask(two_processes[0], api, desk.client_of(desk.account())).status_code == 200


@pytest.mark.parametrize("api", ["messages", "sell"])
def test_two_processes_share_an_addresss_failed_token_checks(
    two_processes: tuple[TestClient, TestClient], database_url: str, desk: Desk, api: str
) -> None:
    login = desk.client_of(desk.account())
    wrong = login.token[:-6] + "000000"
    for serial in range(LIMIT):
        assert _ask(two_processes[serial % 2], api, login, wrong).status_code in (401, 404)
    for http in two_processes:
        for token in (wrong, login.token):  # refused before any token is looked at
            answer = _ask(http, api, login, token)
            if _postgres(database_url):
                _assert_refused(answer, api)
            elif token == wrong:  # SQLite: each process has seen half the failures
                assert answer.status_code == (404 if api == "messages" else 401)
            else:
                assert answer.status_code == 200


def test_concurrent_requests_to_two_servers_pass_exactly_the_limit(
    settings: Settings, database_url: str, desk: Desk
) -> None:
    """Threads over real HTTP to two servers at once: never more than `limit` 200s."""
    if not _postgres(database_url):
        pytest.skip("SQLite keeps counters per process (docs/operations.md)")
    limit, threads, each = 12, 6, 6
    limited = replace(settings, api_rate_limit=limit, api_rate_window_seconds=WINDOW)
    login = desk.client_of(desk.account())
    statuses: list[int] = []
    lock = threading.Lock()
    with serve(create_app(limited)) as first, serve(create_app(limited)) as second:
        start = threading.Barrier(threads)

        def hammer(base_url: str) -> None:
            start.wait()
            for _ in range(each):
                with httpx.Client(base_url=base_url, timeout=30) as http:  # a fresh connection
                    status = http.get("/v1/messages", headers=login.headers).status_code
                with lock:
                    statuses.append(status)

        workers = [
            threading.Thread(target=hammer, args=((first, second)[n % 2],)) for n in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == limit
    assert statuses.count(429) == threads * each - limit


def _messages_counts(metrics: str) -> tuple[int, int]:
    """This process's answers of the Messages API list: (200s, 429s)."""
    counts = {"200": 0, "429": 0}
    for line in metrics.splitlines():
        if line.startswith("answerdesk_http_requests_total{") and "list_messages" in line:
            status = re.search(r'status="(\d+)"', line)
            if status and status.group(1) in counts:
                counts[status.group(1)] += int(float(line.rsplit(" ", 1)[1]))
    return counts["200"], counts["429"]


@pytest.fixture
def two_workers(database_url: str) -> Iterator[str]:
    """`answerdesk serve --workers 2` with a small per-token limit; its base URL."""
    if not _postgres(database_url):
        pytest.skip("several processes sharing counters is the PostgreSQL deployment")
    port = free_port()
    env = {
        **os.environ,
        "ANSWERDESK_DATABASE_URL": database_url,
        "ANSWERDESK_API_RATE_LIMIT": str(LIMIT),
        "ANSWERDESK_API_RATE_WINDOW_SECONDS": str(WINDOW),
    }
    command = [sys.executable, "-m", "answerdesk.cli", "serve", "--no-worker", "--no-upgrade"]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "answerdesk serve exited"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "answerdesk serve never answered"
            time.sleep(0.1)
        time.sleep(1)  # both workers up, not just the first to answer
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_with_two_workers_answers_exactly_one_429(two_workers: str, desk: Desk) -> None:
    """Two real server processes: limit + 1 requests over fresh connections, one 429.

    Both workers must have answered some of them, or the test proves nothing:
    each keeps its own /metrics, and since exactly one request was refused,
    the two processes' (200s, 429s) always differ, so scraping over fresh
    connections sees two distinct pairs that add up to (limit, 1).
    """
    for _attempt in range(5):
        login = desk.client_of(desk.account())
        statuses = []
        for _ in range(LIMIT + 1):
            with httpx.Client(base_url=two_workers, timeout=10) as http:
                statuses.append(http.get("/v1/messages", headers=login.headers).status_code)
        assert statuses == [200] * LIMIT + [429]
        seen = set()
        for _ in range(40):
            with httpx.Client(base_url=two_workers, timeout=10) as http:
                seen.add(_messages_counts(http.get("/metrics").text))
            if len(seen) == 2:
                break
        if len(seen) == 2:
            break
    else:
        pytest.fail("one worker answered every request five times over: nothing was shared")
    # Both processes, every round so far: all their 200s and 429s, summed.
    assert sum(ok for ok, _ in seen) == LIMIT * (_attempt + 1)
    assert sum(refused for _, refused in seen) == _attempt + 1
