"""No plaintext token or password in a database dump, and none (nor message text) in the logs.

Everything runs with answerdesk's own JSON logging at DEBUG, written to a
file, while users sign in (also with a wrong password), tokens are used and
refused over real HTTP, a token is created in the console, a message is
taken and carried. Then the whole database is dumped (SQLite: `iterdump`;
PostgreSQL: `pg_dump`, or every table's rows as text without it) and both
are searched for every secret.
"""

from __future__ import annotations

import logging
import logging.config
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from answerdesk.logs import logging_config
from answerdesk.store.tables import metadata
from answerdesk.sync import run_worker
from tests.console.conftest import PASSWORD, Console
from tests.factories import Desk
from tests.live import serve

WRONG_PASSWORD = "wrong-Passw0rd-zx81-never-stored"
CONTENT = "Confidential zx81: the test results of the caller are back"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """answerdesk's JSON log config at DEBUG, to a file; the old root logger restored after."""
    path = tmp_path / "answerdesk.log"
    config = logging_config("debug")
    config["handlers"] = {
        "file": {
            "class": "logging.FileHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "filename": str(path),
        }
    }
    config["root"]["handlers"] = ["file"]
    # The test's own HTTP client logs the URLs it asks for (one carries a
    # token on purpose); the server's side is what is being judged.
    for client_logger in ("httpx", "httpcore"):
        config["loggers"][client_logger] = {"level": "WARNING"}
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    logging.config.dictConfig(config)
    try:
        yield path
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


def dump(engine: Engine, database_url: str) -> str:
    """The whole database as text, as an operator's backup would hold it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            return "\n".join(connection.iterdump())
    if shutil.which("pg_dump"):
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run(
            ["pg_dump", "--data-only", plain], check=True, capture_output=True, text=True
        ).stdout
    with engine.connect() as connection:  # pragma: no cover - without pg_dump
        return "\n".join(
            str(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        )


def test_dump_and_logs_hold_no_token_password_or_message_text(
    app: Any, desk: Desk, engine: Engine, database_url: str, log_file: Path
) -> None:
    account = desk.account()
    client = desk.client_of(account, password=PASSWORD)
    agent = desk.staff("agent")
    admin = desk.user(role="admin", password=PASSWORD + " admin")
    console = Console(app)
    browser = console.browser()
    browser.post("/console/sign-in", {"email": client.user.email, "password": WRONG_PASSWORD})
    browser.sign_in(client.user)
    console.sign_in(admin, PASSWORD + " admin")
    created = browser.post("/console/tokens/new", {"expires_days": "30"})
    console_token = re.search(r"adk_[0-9A-Za-z]{60}", created.text)
    assert console_token, created.text
    tokens = [client.token, agent.token, console_token.group(0)]
    with serve(app) as base, httpx.Client(base_url=base) as http:
        taken = http.post(
            f"/agent/v1/accounts/{account.number}/messages",
            json={"content": CONTENT, "phone": "617 555 0123"},
            headers={**agent.bearer, "Idempotency-Key": "zx81-key"},
        )
        assert taken.status_code == 201
        run_worker(engine, once=True)
        for token in tokens:
            headers = {"X-API-EMAIL": client.user.email, "X-API-TOKEN": token}
            http.get("/v1/messages", headers=headers)
            http.get("/v2/text_messages", headers={"Authorization": f"Bearer {token}"})
            http.get(f"/v1/messages?token={token}")  # refused, and never logged
            http.get("/v1/messages", headers={**headers, "X-API-TOKEN": token[:-1] + "x"})
        assert http.get("/v1/messages", headers=client.headers).json()[0]["content"] == CONTENT
    logs = log_file.read_text()
    assert logs.strip(), "DEBUG logging wrote nothing: the test would prove nothing"
    stored = dump(engine, database_url)
    assert CONTENT in stored  # the dump is real: it holds the message
    secrets = {
        **{f"token {n}": token for n, token in enumerate(tokens)},
        "password": PASSWORD,
        "admin password": PASSWORD + " admin",
        "wrong password": WRONG_PASSWORD,
    }
    for name, secret in secrets.items():
        assert secret not in stored, f"{name} in the database dump"
        assert secret not in logs, f"{name} in the logs"
    assert "zx81" not in logs, "message content or idempotency key in the logs"
    print(
        f"secrets: {len(secrets)} searched in {len(stored)} bytes of dump and "
        f"{len(logs.splitlines())} log lines: 0 found"
    )
