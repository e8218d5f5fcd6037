"""Resource limits: what one client can make a server hold is bounded.

* A real `answerdesk serve` process, attacked with raw sockets: an over-long
  request line, a megabyte of headers, one megabyte header, a head that never
  ends, an agent body over 1 MB. Each gets a 4xx or a closed connection,
  never a 500 or a hang, and the server still answers afterwards.
* Out-of-range paging parameters are a 400, answered at once.
* A client reading a long list slowly holds no connection, no transaction:
  between chunks the pool has nothing checked out, PostgreSQL shows no
  session of ours `idle in transaction`, and SQLite can commit and fully
  checkpoint its WAL (a reader's open snapshot would block the checkpoint).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.server_protocol import MAX_REQUEST_HEAD_BYTES, REQUEST_HEAD_TIMEOUT_SECONDS
from answerdesk.store.engine import create_engine_for_url, is_sqlite, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import messages
from tests.factories import Desk
from tests.live import free_port, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, str]]:
    """`answerdesk serve` in a process of its own: (port, agent token, account number)."""
    path = tmp_path_factory.mktemp("serve") / "answerdesk.db"
    url = f"sqlite:///{path}"
    engine = create_engine_for_url(url)
    upgrade(engine)
    desk = Desk(engine)
    account, agent = desk.account(), desk.staff("agent")
    engine.dispose()
    port = free_port()
    command = [
        sys.executable, "-m", "answerdesk.cli", "--database", url,
        "serve", "--port", str(port), "--no-worker", "--no-upgrade",
    ]  # fmt: skip
    log = path.with_suffix(".log").open("w")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve never listened"
                time.sleep(0.1)
        yield port, agent.token, account.number
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    assert "Traceback" not in path.with_suffix(".log").read_text()


def _exchange(port: int, payload: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes; return what the server answers before closing (b"" if it just closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return b""  # closed on us mid-send: refused
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"connection: close" not in chunks[0]:
                    break
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def _status(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def test_oversized_heads_and_bodies_are_refused_by_a_real_server(
    server: tuple[int, str, str],
) -> None:
    port, token, number = server
    # Opened first, checked last: a head that never ends is cut off on time.
    dribbler = socket.create_connection(
        ("127.0.0.1", port), timeout=REQUEST_HEAD_TIMEOUT_SECONDS + 5
    )
    dribbler.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    opened = time.monotonic()
    many_headers = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"v" * 1000) for n in range(1000))
    attacks = {
        "100 KB request line": b"GET /v1/messages?q="
        + b"a" * 100_000
        + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "1 MB of headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many_headers + b"\r\n",
        "one 1 MB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"v" * 1_000_000
        + b"\r\n\r\n",
        "head just over the limit": b"GET /healthz HTTP/1.1\r\nX-Big: "
        + b"v" * MAX_REQUEST_HEAD_BYTES
        + b"\r\n\r\n",
    }
    for name, payload in attacks.items():
        started = time.monotonic()
        status = _status(_exchange(port, payload))
        assert status is None or 400 <= status < 500, (name, status)
        assert time.monotonic() - started < 3, name
    body = b'{"content": "' + b"x" * 1_100_000 + b'"}'
    answer = _exchange(
        port,
        b"POST /agent/v1/accounts/%s/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (number.encode(), token.encode(), len(body))
        + body,
    )
    assert _status(answer) == 413, answer[:200]
    # Within the limits everything still works.
    fine = _exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"v" * 8000 + b"\r\n\r\n"
    )
    assert _status(fine) == 200
    dribbler.settimeout(REQUEST_HEAD_TIMEOUT_SECONDS + 5)
    assert dribbler.recv(100) == b""  # closed by the server, not answered
    waited = time.monotonic() - opened
    assert waited < REQUEST_HEAD_TIMEOUT_SECONDS + 3, waited
    dribbler.close()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/messages?limit=0",
        "/v1/messages?limit=1001",
        "/v2/messages?limit=99999999999999999999",
        "/v1/messages?after_id=-1",
        "/v2/text_messages?per_page=101",
        "/v2/text_messages?page=1001",
        "/v2/text_messages?page=0",
        "/v2/leads?per_page=0",
        "/v2/contacts?page=99999999999999999999",
    ],
)
def test_paging_out_of_bounds_is_400_at_once(http: TestClient, desk: Desk, path: str) -> None:
    login = desk.client_of(desk.account())
    started = time.monotonic()
    response = http.get(path, headers={**login.headers, **login.bearer})
    assert response.status_code == 400, response.text
    assert time.monotonic() - started < 1.0


def _many_messages(engine: Engine, desk: Desk, doublings: int) -> tuple[Any, Any]:
    """An account with 2**doublings messages, made by copying rows (taking is the slow part)."""
    account = desk.account()
    login = desk.client_of(account)
    desk.take(account, "a long list, read slowly " + "x" * 400, first_name="Slow")
    columns = [column for column in messages.c if column.name != "id"]
    with write_transaction(engine) as connection:
        for _ in range(doublings):
            copy = sa.select(*columns).where(messages.c.account_id == account.id)
            connection.execute(messages.insert().from_select([c.name for c in columns], copy))
    return account, login


def _our_sessions_in_transaction(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT pid, state, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
        )


def _wait_until_stalled(engine: Engine) -> None:
    """Wait until the server, blocked on our full window, has held no connection for 0.45 s.

    Right after a read the window opens and the server reads a chunk or two
    more (each in its own short transaction) before it blocks again. Holding a
    connection *between* chunks would keep the pool from ever staying empty.
    """
    deadline = time.monotonic() + 8
    quiet = 0
    while quiet < 15:
        assert time.monotonic() < deadline, "a connection is held between chunks"
        quiet = quiet + 1 if engine.pool.checkedout() == 0 else 0
        time.sleep(0.03)


def test_a_slow_reader_holds_no_connection_or_transaction(
    app: Any, engine: Engine, desk: Desk
) -> None:
    account, login = _many_messages(engine, desk, 12)  # 4096 messages, about 2.5 MB
    if not is_sqlite(engine):  # the probe sees an open transaction when there is one
        with engine.connect() as holder, holder.begin():
            holder.exec_driver_sql("SELECT 1")
            time.sleep(0.1)
            assert len(_our_sessions_in_transaction(engine)) == 1
    chunk = app.state.settings.stream_chunk_size
    assert 4096 // chunk >= 20, "enough chunks to pause between"
    with serve(app) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.socket() as sock:
            _read_slowly(sock, port, engine, desk, account, login)


def _read_slowly(
    sock: socket.socket, port: int, engine: Engine, desk: Desk, account: Any, login: Any
) -> None:
    """Read the whole list through a small window, pausing five times mid-way to look."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # a slow, small window
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /v1/messages HTTP/1.1\r\nHost: x\r\nX-API-EMAIL: %s\r\nX-API-TOKEN: %s\r\n\r\n"
        % (login.user.email.encode(), login.token.encode())
    )
    received = 0
    pauses = 0
    while data := sock.recv(16384):
        received += len(data)
        if received > 100_000 * (pauses + 1) and pauses < 5:
            pauses += 1
            _wait_until_stalled(engine)  # blocked mid-list, waiting on us, holding nothing
            if is_sqlite(engine):
                desk.take(account, "written while the reader pauses")
                with engine.connect() as connection:
                    busy, _log, _done = connection.exec_driver_sql(
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    ).one()
                assert busy == 0, "a reader's snapshot blocks the WAL checkpoint"
            else:
                assert _our_sessions_in_transaction(engine) == []
                desk.take(account, "written while the reader pauses")
        if data.endswith(b"]\r\n0\r\n\r\n"):
            break
    assert pauses == 5 and received > 2_000_000, (pauses, received)
