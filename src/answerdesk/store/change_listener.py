"""Hear PostgreSQL's change notices (migration 0010) on one connection per event loop.

`ChangeListener` holds one asyncpg connection that has run `LISTEN
answerdesk_changed` and passes each notice's payload on. Its heartbeat
proves, every HEARTBEAT_SECONDS, that notices really reach it: it notifies a
channel only it listens to and waits for that notice to come back. PostgreSQL
delivers notices in commit order, so once its own is in, every notice
committed before it is in too, which is what lets kept answers be served
(api/kept_answers.py). A `SELECT 1` would not prove it: behind a pooler in
transaction mode a statement is answered while notices go to another
session. A lost connection, or a heartbeat that does not come back within
HEARTBEAT_TIMEOUT_SECONDS, is reported (`lost`) and the connection replaced
after CONNECT_RETRY_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import asyncpg

#: The channel the triggers notify.
CHANNEL = "answerdesk_changed"
#: The listening connection's `application_name` (one per server process in
#: `pg_stat_activity`, whatever the database URL names the others).
APPLICATION_NAME = "answerdesk change listener"
#: How often the listener asks PostgreSQL for a sign of life, and how long it waits for one.
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_TIMEOUT_SECONDS = 1.0
#: After a lost or refused connection, the next attempt waits this long.
CONNECT_RETRY_SECONDS = 5.0

_log = logging.getLogger(__name__)


class ChangeListener:
    """Notices of the `CHANNEL`, and heartbeats, for one event loop (started on first use)."""

    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout: float,
        heard: Callable[[str], None],
        alive: Callable[[float], None],
        lost: Callable[[], None],
    ) -> None:
        self._dsn = dsn
        self._connect_timeout = connect_timeout
        #: Called with each notice's payload.
        self._heard = heard
        #: Called with the monotonic time of each heartbeat answered.
        self._alive = alive
        #: Called when the connection is lost, and before each new one listens.
        self._lost = lost
        self._task: asyncio.Task[None] | None = None
        #: The heartbeat's own channel, and the beat last heard back on it.
        self._beat_channel = f"answerdesk_alive_{secrets.token_hex(8)}"
        self._beat_heard: asyncio.Event | None = None
        #: Whether the current outage has been logged (once per outage).
        self._warned = False

    def start(self) -> None:
        """Start listening on the running loop, unless already started."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        """Stop listening (on the loop's thread)."""
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                if not self._warned:
                    self._warned = True
                    _log.warning(
                        "change notices not heard (%s); answers are not kept until they are,"
                        " retrying every %.0f s",
                        type(error).__name__,
                        CONNECT_RETRY_SECONDS,
                    )
            self._lost()
            await asyncio.sleep(CONNECT_RETRY_SECONDS)

    async def _listen(self) -> None:
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=self._connect_timeout,
            server_settings={"application_name": APPLICATION_NAME},
        )
        try:
            connection.add_termination_listener(self._terminated)
            self._lost()  # notices sent while no connection listened are gone
            self._beat_heard = asyncio.Event()
            await connection.add_listener(self._beat_channel, self._beat)
            await connection.add_listener(CHANNEL, self._notice)
            while True:
                self._beat_heard.clear()
                sent = time.monotonic()
                await connection.execute(f"NOTIFY {self._beat_channel}")
                await asyncio.wait_for(self._beat_heard.wait(), HEARTBEAT_TIMEOUT_SECONDS)
                self._alive(sent)
                if self._warned:
                    self._warned = False
                    _log.warning("change notices heard again; answers are kept")
                await asyncio.sleep(HEARTBEAT_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                connection.terminate()

    def _notice(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._heard(payload)

    def _beat(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        if self._beat_heard is not None:
            self._beat_heard.set()

    def _terminated(self, _connection: Any) -> None:
        self._lost()
