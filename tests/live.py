"""A real HTTP server for tests: uvicorn in a background thread, on a free port.

    from tests.live import live_server_fixture  # noqa: F401  (provides `live_server`)

    def test_something(live_server: str) -> None:
        httpx.get(f"{live_server}/v1/messages", ...)

`live_server` serves the test's `app` (so the test database); `serve(app)`
serves any other ASGI app the same way. `run_async(main)` runs an async test
body on its own event loop.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
import uvicorn

T = TypeVar("T")


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main()` to completion on a fresh event loop in a thread of its own.

    Another test's library may leave an event loop running in the main
    thread (Playwright's sync API does), where `asyncio.run` refuses to start.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as error:  # handed to the test's thread below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="run-async")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: Any, *, startup_timeout: float = 10.0, **options: Any) -> Iterator[str]:
    """Serve `app` over HTTP until the block ends; yield its base URL.

    `options` go to uvicorn's Config on top of these (`answerdesk serve`'s
    own are `answerdesk.server_protocol.UVICORN_OPTIONS`).
    """
    port = free_port()
    config = uvicorn.Config(
        app,
        **{
            "host": "127.0.0.1",
            "port": port,
            "log_level": "warning",
            "access_log": False,
            "lifespan": "on",
            "interface": "asgi3",
            **options,
        },
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(name="live_server")
def live_server_fixture(app: Any) -> Iterator[str]:
    """The test's app, served over real HTTP on a free port; the base URL."""
    with serve(app) as url:
        yield url


def answers_kept(app: Any, timeout: float = 10.0) -> None:
    """Wait until `app`'s fast path keeps answers (PostgreSQL: its listener heard the database).

    On SQLite (or with nothing kept) there is nothing to wait for.
    """
    hot = getattr(app, "hot_reads", None)
    reads = None if hot is None else hot._postgres
    if reads is None or not reads.keep_bytes:
        return
    deadline = time.monotonic() + timeout
    while not reads.keeping():
        assert time.monotonic() < deadline, "the change listener never heard from PostgreSQL"
        time.sleep(0.01)

