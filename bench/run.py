"""Run answerdesk's benchmark and print each figure with its ratio to its floor.

    .venv/bin/python -m bench.run            # default: 100k messages, PostgreSQL 300k
    .venv/bin/python -m bench.run --quick    # seconds: tiny data, SQLite only (CI)
    .venv/bin/python -m bench.run --full     # adds 1M messages, PostgreSQL 2.1M

Every ratio compares figures measured in this one run on this machine, so a
busy neighbour moves both sides; see bench/README.md for what each means.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench import load, scenarios
from bench.report import Report


@dataclass(frozen=True)
class Mode:
    """How much data and how long each measurement runs."""

    name: str
    list_rows: int
    huge_rows: int | None
    range_rows: int
    pg_accounts: int
    pg_per_account: int
    pg_big: int
    seconds: float
    repeat: int


MODES = {
    "quick": Mode("quick", 2_000, None, 200, 0, 0, 0, 1, 1),
    "default": Mode("default", 100_000, None, 1_000, 200, 1_000, 100_000, 5, 3),
    "full": Mode("full", 100_000, 1_000_000, 1_000, 2_000, 1_000, 100_000, 5, 3),
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny data, SQLite only, seconds")
    size.add_argument("--full", action="store_true", help="1M messages; PostgreSQL 2M + 100k")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="server whose bench database is created and dropped (default: %(default)s)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL figures")
    parser.add_argument("--no-wrk", action="store_true", help="skip the load-tool figures")
    parser.add_argument("--seconds", type=float, help="length of each load run")
    parser.add_argument("--repeat", type=int, help="runs per figure (the median is shown)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the figures here")
    parser.add_argument("--workdir", metavar="DIR", type=Path, help="keep files here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Report:
    args = _parse(argv)
    mode = MODES["quick" if args.quick else "full" if args.full else "default"]
    if args.seconds or args.repeat:
        mode = replace(
            mode, seconds=args.seconds or mode.seconds, repeat=args.repeat or mode.repeat
        )
    use_wrk = not args.no_wrk and load.available()
    use_pg = not args.no_postgres and not args.quick
    if not use_wrk:
        print("wrk not found or disabled: load figures are n/a (apt-get install wrk)")
    report = Report()
    with tempfile.TemporaryDirectory(prefix="answerdesk-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        bench = scenarios.Bench(mode=mode, workdir=workdir, report=report, use_wrk=use_wrk)
        bench.sqlite()
        if use_pg:
            bench.postgres(args.postgres)
    print()
    print(f"answerdesk bench, mode {mode.name}, {os.cpu_count()} cores")
    for line in report.lines():
        print(line)
    if args.json:
        import orjson

        args.json.write_bytes(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
