"""Drive a server with `wrk` (Debian package `wrk`) and read its figures.

A small Lua script sets the headers and, for single messages, picks a random
id per request. The load tool's own CPU use is measured (it shares the two
cores with the server), so a figure limited by the tool can be told apart.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    """One wrk run: throughput, latency percentiles (ms), errors, wrk's CPU share.

    `busy_cores` is how many of the machine's cores were busy during the run,
    everything on it counted (server, database, wrk): what is left idle is
    all a second server process could still use.
    """

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool_cpu: float
    busy_cores: float = 0.0


def _cpu_times() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot, from /proc/stat; (0, 0) elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(n) for n in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    elapsed = after[1] - before[1]
    return (after[0] - before[0]) / elapsed * (os.cpu_count() or 1) if elapsed else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua(path_lua: Path, headers: dict[str, str], paths: str, ids: Sequence[int] | None) -> None:
    header_lines = "\n".join(
        f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()
    )
    if ids is None:
        request = f'request = function() return wrk.format("GET", "{paths}") end'
    else:
        sample = random.Random(7).sample(list(ids), min(len(ids), 10_000))
        request = (
            f"ids = {{{', '.join(map(str, sample))}}}\n"
            "request = function()\n"
            f'  return wrk.format("GET", "{paths}" .. ids[math.random(#ids)])\n'
            "end"
        )
    path_lua.write_text(f"math.randomseed(7)\n{header_lines}\n{request}\n")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run(
    port: int,
    path: str,
    headers: dict[str, str],
    *,
    workdir: Path,
    ids: Sequence[int] | None = None,
    connections: int = 32,
    seconds: float = 5,
    threads: int = 1,
) -> Load:
    """Run wrk once; `path` is a prefix completed by one of `ids` at random when given."""
    script = workdir / "wrk.lua"
    _lua(script, headers, path, ids)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = _cpu_times()
    started = time.perf_counter()
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            "60s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    busy = _busy_cores(machine_before, _cpu_times())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    return Load(rate, p50, p99, errors, cpu / wall, busy)
