"""Start servers as a user would (`answerdesk serve`) and watch their memory."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    """Ask the kernel for a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def production_env(database_url: str) -> dict[str, str]:
    """Production settings, with the per-token rate limit off (a load test is one token)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSWERDESK_")}
    env.update(
        ANSWERDESK_ENVIRONMENT="production",
        ANSWERDESK_SECRET_KEY=secrets.token_urlsafe(48),
        # Production refuses to start without its secrets; random ones will do.
        ANSWERDESK_WEBHOOK_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        ANSWERDESK_DATABASE_URL=database_url,
        ANSWERDESK_API_RATE_LIMIT="0",
    )
    return env


@dataclass
class Server:
    """A running server process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kb(self) -> int:
        """Resident memory of the server process now (VmRSS), in kB."""
        return _status_kb(self.process.pid, "VmRSS")

    def check_running(self) -> None:
        """Raise with the end of the server's log if it has stopped on its own."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f"server on port {self.port} exited ({self.process.returncode}):\n{_tail(self.log)}"
            )


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def _wait_listening(server: Server, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1) as conn:
                conn.sendall(b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if conn.recv(16).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{_tail(log)}")


@contextmanager
def serve(command: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    """Run `command` (which must listen on the port it is given) until the block ends."""
    port = free_port()
    argv = [arg.replace("{port}", str(port)) for arg in command]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=out)
    server = Server(process, port, log)
    try:
        _wait_listening(server, log)
        yield server
    finally:
        if process.poll() is not None:
            # It stopped before we stopped it: say why, whatever fails next.
            print(f"server {argv[:3]} exited ({process.returncode}) early:\n{_tail(log)}")
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answerdesk(
    database_url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`answerdesk serve` on this database with production settings (and `env` on top)."""
    command = [str(BIN / "answerdesk"), "serve", "--port", "{port}", "--workers", str(workers)]
    return serve(command, {**production_env(database_url), **(env or {})}, log)


def bare(log: Path) -> Iterator[Server]:
    """The bare 1 KB ASGI app on uvicorn with answerdesk's options."""
    command = [sys.executable, "-m", "bench.bare_app", "--port", "{port}"]
    return serve(command, production_env("sqlite:///unused.db"), log)


@dataclass
class RssSampler:
    """Sample a process's VmRSS every few milliseconds in a thread; keep the peak."""

    pid: int
    interval: float = 0.005
    peak_kb: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
            time.sleep(self.interval)

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
