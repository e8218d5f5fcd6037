"""What one request costs inside the server software, without the kernel or a load tool.

Drives uvicorn's HTTP protocol (the very class and options `answerdesk serve`
uses) in this process, through a transport that throws away what is written,
one request at a time: the bare 1 KB app of figure 4, then answerdesk's
single message (or with `--sell`, single text message) with its answer kept
(no read), both fed the same request bytes. It prints microseconds per
request and their ratio. Without sockets and `wrk` sharing the two cores,
what is left of the machine's noise is the CPU's own, so a change of a few
percent shows; under callgrind (`--callgrind`) the figures are instruction
counts, which move by well under 1 % between runs:

    .venv/bin/python -m bench.per_request
    valgrind --tool=callgrind .venv/bin/python -m bench.per_request --callgrind --requests 3000

It leaves out what the kernel does for a request (more for answerdesk's
~2 KB answer than for 1 KB), so its ratio is not figure 4's: it says where
the Python goes (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvloop
from uvicorn.config import Config
from uvicorn.server import ServerState

from answerdesk.app import AnswerdeskApp, create_app
from answerdesk.config import Settings
from answerdesk.server_protocol import UVICORN_OPTIONS, BoundedHttpToolsProtocol
from answerdesk.store.tables import text_messages
from bench import bare_app, server
from bench.scenarios import _seed


class _Discarding(asyncio.Transport):
    """A connection whose writes go nowhere; it says when a response is complete."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = 0
        #: Body bytes of the response being written still to come.
        self.owed = 0
        self.done: asyncio.Future[None] | None = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: Any) -> None:
        # A response comes as its head then its body (uvicorn's two writes),
        # or whole in one (the protocol's own answer on SQLite): it is
        # complete once as many body bytes as its content-length have come.
        data = bytes(data)
        if data.startswith(b"HTTP/1.1 "):
            if not data.startswith(b"HTTP/1.1 200 "):
                self.failed += 1
            head, _, data = data.partition(b"\r\n\r\n")
            length = re.search(rb"\r\ncontent-length: (\d+)", head)
            self.owed = int(length.group(1)) if length else 0
        self.owed -= len(data)
        if self.owed <= 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...


async def per_request(app: Any, requests: list[bytes], count: int) -> float:
    """Microseconds per request over `count` requests (cycling through `requests`)."""
    loop = asyncio.get_running_loop()
    config = Config(app, **{**UVICORN_OPTIONS, "log_level": "warning", "lifespan": "off"})
    config.load()
    protocol = BoundedHttpToolsProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=loop
    )
    transport = _Discarding()
    protocol.connection_made(transport)
    started = time.perf_counter()
    for n in range(count):
        transport.done = loop.create_future()
        protocol.data_received(requests[n % len(requests)])
        await transport.done
    elapsed = time.perf_counter() - started
    protocol.connection_lost(None)
    if transport.failed:
        raise RuntimeError(f"{transport.failed} of {count} answers were not 200 OK")
    return elapsed / count * 1e6


def _callgrind(action: str, label: str = "") -> None:
    """Zero (`-z`) or dump (`-d label`) this process's callgrind counters."""
    subprocess.run(
        ["callgrind_control", action, *([label] if label else []), str(os.getpid())],
        check=True,
        capture_output=True,
    )


def _dumped_instructions() -> int:
    """The total of callgrind's latest dump, written under its default name here."""
    dumps = sorted(
        Path.cwd().glob(f"callgrind.out.{os.getpid()}.*"),
        key=lambda path: int(path.suffix[1:]),
    )
    if not dumps:
        raise SystemExit("no callgrind dump here: run from this directory, default out file")
    for line in dumps[-1].read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"{dumps[-1]} has no total")


async def _measure(args: argparse.Namespace, workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'per_request.db'}"
    account = _seed(url, [("100001", args.messages, args.sell)])[0]
    if args.sell:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            known = list(connection.execute(sa.select(text_messages.c.id)).scalars())
        engine.dispose()
        path, headers = "/v2/text_messages/", {"Authorization": f"Bearer {account.token}"}
    else:
        known, path, headers = account.ids, "/v1/messages/", account.headers
    ids = random.Random(7).sample(known, min(len(known), args.ids))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [
        f"GET {path}{i} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n{head}\r\n".encode() for i in ids
    ]
    app = create_app(Settings.from_env(server.production_env(url)))
    # Verifies the token once and keeps every answer, as a busy server has.
    await per_request(app, requests, len(requests) + 1)
    # What `serve` does once it has started (app.py's lifespan).
    gc.collect()
    gc.freeze()
    single = "single text message" if args.sell else "single message"
    runs: dict[str, Callable[[], Any]] = {
        "bare": lambda: per_request(bare_app.app, requests, args.requests),
        single: lambda: per_request(app, requests, args.requests),
    }
    if args.callgrind:
        for name, run in runs.items():
            _callgrind("-z")
            await run()
            _callgrind("-d", name.replace(" ", "-"))
            per = _dumped_instructions() / args.requests
            print(f"  {name}: {per:,.0f} instructions per request")
        return
    results: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():  # alternating, so a busy minute hits both
            results[name].append(await run())
    bare, kept = min(results["bare"]), min(results[single])
    print(f"  bare ASGI 1 KB: {bare:6.2f} µs per request (best of {args.rounds})")
    print(f"  {single}, kept: {kept:6.2f} µs per request")
    print(f"  ratio (bare / {single}): {bare / kept:.2f}x, answerdesk adds {kept - bare:.2f} µs")
    if isinstance(app, AnswerdeskApp) and app.hot_reads is not None:
        app.hot_reads.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.per_request", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=2_000, help="messages to seed")
    parser.add_argument("--ids", type=int, default=1_000, help="distinct ids asked for")
    parser.add_argument("--requests", type=int, default=20_000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (best shown)")
    parser.add_argument(
        "--sell", action="store_true", help="a single Sell text message instead of a message"
    )
    parser.add_argument(
        "--callgrind", action="store_true", help="dump callgrind counters instead of timing"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="answerdesk-per-request-") as workdir:
        uvloop.run(_measure(args, Path(workdir)))


if __name__ == "__main__":
    main()
