"""The measurements, in order: floor, full lists, per-request figures, PostgreSQL."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import fetch, floor, load, seed, server
from bench.report import Report, Row, median_of, ms, rate

if TYPE_CHECKING:
    from bench.run import Mode

MB = 1024
CORES = os.cpu_count() or 1


@dataclass
class Account:
    """A seeded account the bench reads: credentials, ids and creation seconds."""

    number: str
    email: str
    token: str
    ids: list[int]
    seconds: list[int]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-EMAIL": self.email, "X-API-TOKEN": self.token}


def _seed(
    url: str, sizes: list[tuple[str, int, bool]], *, small: tuple[int, int] = (0, 0)
) -> list[Account]:
    """Create the tracked accounts `sizes` (number, messages, texts) and `small` others."""
    engine = seed.migrated_engine(url)
    specs: list[seed.Spec] = []
    made: list[tuple[int, str, str, str]] = []
    for n, (number, count, texts) in enumerate(sizes):
        account_id, email, token = seed.add_account(engine, number)
        made.append((account_id, number, email, token))
        specs.append(seed.Spec(account_id, count, seed=n + 1, track=True, texts=texts))
    accounts, per_account = small
    for n in range(accounts):
        account_id, _email, _token = seed.add_account(engine, str(200_000 + n))
        specs.append(seed.Spec(account_id, per_account, seed=1000 + n))
    started = time.perf_counter()
    loaded = seed.load(url, specs)
    seed.fix_sequences(engine)
    engine.dispose()
    total = sum(spec.count for spec in specs)
    print(f"  loaded {total:,} messages in {time.perf_counter() - started:.1f} s")
    return [
        Account(number, email, token, loaded[account_id].ids, loaded[account_id].seconds)
        for account_id, number, email, token in made
    ]


@dataclass
class Bench:
    """One bench run: the mode, where files go, and the report being filled."""

    mode: Mode
    workdir: Path
    report: Report
    use_wrk: bool
    floor_rate: float = 0.0

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _wrk(self, port: int, path: str, headers: dict[str, str], **kw: Any) -> load.Load:
        return load.run(port, path, headers, workdir=self.workdir, seconds=self.mode.seconds, **kw)

    def _interleaved(self, runs: dict[str, Callable[[], load.Load]]) -> dict[str, list[load.Load]]:
        """Alternate the runs `repeat` times, so a busy neighbour hits them all alike."""
        results: dict[str, list[load.Load]] = {name: [] for name in runs}
        for _ in range(self.mode.repeat):
            for name, run in runs.items():
                results[name].append(run())
        return results

    def _load_row(
        self, figure: str, runs: list[load.Load], *, base: list[load.Load] | None = None,
        base_name: str = "", target: str = "", threshold: float | None = None,
    ) -> float:  # fmt: skip
        rps = median_of(runs, lambda r: r.requests_per_s)
        p50 = median_of(runs, lambda r: r.p50_ms)
        p99 = median_of(runs, lambda r: r.p99_ms)
        errors = sum(r.errors for r in runs)
        cpu = median_of(runs, lambda r: r.tool_cpu)
        busy = median_of(runs, lambda r: r.busy_cores)
        value = f"{rps:,.0f} req/s, p50 {ms(p50)}, p99 {ms(p99)}, wrk CPU {cpu:.0%}"
        if busy:
            value += f", {busy:.1f}/{CORES} cores busy"
        if errors:
            value += f", {errors} ERRORS"
        ratio = None
        if base:
            ratio = rps / median_of(base, lambda r: r.requests_per_s)
        met = None if threshold is None or ratio is None else ratio >= threshold
        self.report.add(Row(figure, value, base_name, ratio, target, met))
        self.report.raw[figure] = {
            "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "busy_cores": busy,
        }  # fmt: skip
        return rps

    def _ceiling_row(self, figure: str, one: list[load.Load]) -> None:
        """What a second worker can add at most: the cores one worker's run left idle.

        Everything on the machine counts (server, database, wrk), so on
        PostgreSQL on the same cores this says how much room there was.
        """
        busy = median_of(one, lambda r: r.busy_cores)
        if not busy:
            return
        self.report.add(
            Row(figure, f"{CORES / busy:.2f}x at most", f"1 worker: {busy:.2f}/{CORES} cores busy")
        )

    def _tail_row(self, figure: str, runs: list[load.Load], bare: list[load.Load]) -> None:
        """p99 over p50; the bare app's own ratio is shown as what the machine allows."""
        p50 = median_of(runs, lambda r: r.p50_ms)
        p99 = median_of(runs, lambda r: r.p99_ms)
        ratio = p99 / p50 if p50 else 0.0
        floor_ratio = median_of(bare, lambda r: r.p99_ms) / median_of(bare, lambda r: r.p50_ms)
        self.report.add(
            Row(figure, f"p99 {ms(p99)} / p50 {ms(p50)}", f"p50 (bare: {floor_ratio:.1f}x)",
                ratio, "< 5x", ratio < 5)
        )  # fmt: skip

    def _full_list(
        self,
        srv: server.Server,
        account: Account,
        figure: str,
        *,
        big: bool = False,
        threshold: float = 1.0,
    ) -> None:
        """Stream the whole list `repeat` times; rows/s, first row and memory growth."""
        runs = []
        growth = 0
        for _ in range(1 if big and self.mode.repeat > 1 else self.mode.repeat):
            idle = srv.rss_kb()
            with server.RssSampler(srv.process.pid) as sampler:
                got = fetch.get(srv.port, "/v1/messages", account.headers)
            assert got.status == 200 and got.rows == len(account.ids), (got.status, got.rows)
            growth = max(growth, sampler.peak_kb - idle)
            runs.append(got)
        rows_s = median_of(runs, lambda r: r.rows_per_s)
        first = median_of(runs, lambda r: r.first_row_s) * 1000
        mb = statistics.median(r.body_bytes for r in runs) / 1e6
        ratio = rows_s / self.floor_rate
        self.report.add(
            Row(f"{figure}: rows/s", rate(rows_s, "rows/s") + f" ({mb:,.0f} MB)",
                "SQLite floor", ratio, f">= {threshold:.1f}x", ratio >= threshold)
        )  # fmt: skip
        first_target = "< 50 ms" if big else ""
        self.report.add(
            Row(f"{figure}: first row", ms(first), "", None, first_target,
                first < 50 if big else None)
        )  # fmt: skip
        self.report.add(
            Row(f"{figure}: peak RSS growth", f"{growth / MB:.1f} MB", "idle", None,
                "< 64 MB" if big else "", growth < 64 * MB if big else None)
        )  # fmt: skip
        self.report.raw[figure] = {"rows_s": rows_s, "first_ms": first, "rss_mb": growth / MB}

    def _floor(self, srv: server.Server, account: Account) -> None:
        got = fetch.get(srv.port, "/v1/messages", account.headers, keep=True)
        assert got.body is not None
        objects = orjson.loads(got.body)
        assert len(objects) == len(account.ids)
        self.floor_rate = floor.measure(objects, self.workdir / "floor.db", repeat=self.mode.repeat)
        self.report.add(
            Row(f"1 floor: SQLite json_object, {len(objects):,} rows",
                rate(self.floor_rate, "rows/s"))
        )  # fmt: skip
        self.report.raw["floor_rows_s"] = self.floor_rate

    def _range(self, account: Account, rows: int) -> str:
        first, last, count = seed.day_range(account.seconds, rows)
        print(f"  date range {first}..{last}: {count} rows")
        return f"/v1/messages?from_date={seed.as_args(first)}&to_date={seed.as_args(last)}"

    def sqlite(self) -> None:
        """Every SQLite figure, servers started once and measured interleaved."""
        print("SQLite: seeding")
        url = f"sqlite:///{self.workdir / 'bench.db'}"
        sizes = [("100001", self.mode.list_rows, True)]
        if self.mode.huge_rows:
            sizes.append(("100002", self.mode.huge_rows, False))
        accounts = _seed(url, sizes)
        main = accounts[0]
        with ExitStack() as stack:
            srv = stack.enter_context(server.answerdesk(url, self._log("serve1")))
            fetch.get(srv.port, "/v1/messages?limit=10", main.headers)
            self._floor(srv, main)
            self._full_list(srv, main, f"2 GET /v1/messages, {len(main.ids):,}")
            if self.mode.huge_rows:
                huge = accounts[1]
                # One small request first, so the token's once-a-minute
                # `last_used_at` write is not counted as the list's first row.
                fetch.get(srv.port, "/v1/messages?limit=1", huge.headers)
                self._full_list(srv, huge, f"3 GET /v1/messages, {len(huge.ids):,}", big=True)
            if not self.use_wrk:
                self.report.add(Row("4 per-request figures", "n/a (no wrk)"))
                return
            self._per_request(stack, srv, main, url)

    def _per_request(
        self, stack: ExitStack, srv: server.Server, main: Account, url: str, prefix: str = "4"
    ) -> None:
        bare = stack.enter_context(server.bare(self._log("bare")))
        ids = main.ids
        span = self._range(main, self.mode.range_rows)
        h = main.headers
        with server.answerdesk(url, self._log("serve2"), workers=2) as two:
            results = self._interleaved(
                {
                    "bare": lambda: self._wrk(bare.port, "/", {}),
                    "single": lambda: self._wrk(srv.port, "/v1/messages/", h, ids=ids),
                    "range": lambda: self._wrk(srv.port, span, h),
                    "range2": lambda: self._wrk(two.port, span, h),
                }
            )
        srv.check_running()
        # The same server with no answers kept: a database read for every
        # request, as when every message changes between two polls of it.
        # Started once the two workers have stopped, and stopped after: three
        # servers' connection pools at once would pass PostgreSQL's default
        # `max_connections` (100) under load.
        # On PostgreSQL a range is made of kept answers too (its ids read,
        # docs/performance.md "Tenth look"); without them it is read whole.
        no_keeping = {"ANSWERDESK_ANSWER_CACHE_MB": "0"}
        postgres = not url.startswith("sqlite")
        with server.answerdesk(url, self._log("unkept"), env=no_keeping) as unkept:
            unkept_loads = {
                "bare": lambda: self._wrk(bare.port, "/", {}),
                "unkept": lambda: self._wrk(unkept.port, "/v1/messages/", h, ids=ids),
            }
            if postgres:
                unkept_loads["range"] = lambda: self._wrk(unkept.port, span, h)
            unkept_runs = self._interleaved(unkept_loads)
        srv.check_running()
        self._load_row(f"{prefix} bare ASGI 1 KB (c=32)", results["bare"])
        self._load_row(
            f"{prefix} single message (c=32)", results["single"], base=results["bare"],
            base_name="bare", target=">= 0.7x", threshold=0.7,
        )  # fmt: skip
        self._load_row(
            f"{prefix} single message, no answers kept (c=32)", unkept_runs["unkept"],
            base=unkept_runs["bare"], base_name="bare (its own runs)",
        )  # fmt: skip
        self._tail_row(f"{prefix} single message tail", results["single"], results["bare"])
        self._load_row(
            f"{prefix} ~{self.mode.range_rows:,}-row range (c=32), 1 worker", results["range"],
            base=results["bare"], base_name="bare",
        )  # fmt: skip
        self._load_row(
            f"{prefix} ~{self.mode.range_rows:,}-row range (c=32), 2 workers", results["range2"],
            base=results["range"], base_name="1 worker", target=">= 1.3x", threshold=1.3,
        )  # fmt: skip
        self._ceiling_row(
            f"{prefix} ~{self.mode.range_rows:,}-row range, 2 workers: ceiling", results["range"]
        )
        if postgres:
            self._load_row(
                f"{prefix} ~{self.mode.range_rows:,}-row range, no answers kept (c=32)",
                unkept_runs["range"], base=results["range"], base_name="1 worker, kept",
            )  # fmt: skip
        self._sell(srv, main, "5" if prefix == "4" else prefix)

    def _sell(self, srv: server.Server, main: Account, prefix: str) -> None:
        bearer = {"Authorization": f"Bearer {main.token}"}
        probe = fetch.get(srv.port, "/v2/text_messages?page=1&per_page=100", bearer)
        if probe.status != 200:
            self.report.add(Row(f"{prefix} /v2/text_messages", f"n/a (status {probe.status})"))
            return
        pages = self._interleaved(
            {
                str(page): lambda page=page: self._wrk(
                    srv.port, f"/v2/text_messages?page={page}&per_page=100", bearer
                )
                for page in (1, 1000)
            }
        )
        self._load_row(f"{prefix} /v2/text_messages page 1 (c=32)", pages["1"])
        self._load_row(
            f"{prefix} /v2/text_messages page 1000 (c=32)", pages["1000"], base=pages["1"],
            base_name="page 1",
        )  # fmt: skip

    def postgres(self, admin_url: str) -> None:
        """The PostgreSQL figures, in a database this run creates and drops."""
        admin = sa.create_engine(
            make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        name = f"answerdesk_bench_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as error:
            self.report.add(Row("6 PostgreSQL", f"n/a (unreachable: {str(error)[:60]})"))
            return
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            self._postgres(url)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    def _postgres(self, url: str) -> None:
        m = self.mode
        print(f"PostgreSQL: seeding {m.pg_accounts:,} x {m.pg_per_account:,} + {m.pg_big:,}")
        big = _seed(url, [("100001", m.pg_big, True)], small=(m.pg_accounts, m.pg_per_account))[0]
        with ExitStack() as stack:
            srv = stack.enter_context(server.answerdesk(url, self._log("pg1")))
            fetch.get(srv.port, "/v1/messages", big.headers)  # warm the cache
            # The target for PostgreSQL: half the SQLite floor.
            self._full_list(srv, big, f"6 PG GET /v1/messages, {len(big.ids):,}", threshold=0.5)
            if not self.use_wrk:
                return
            small_span = self._range(big, 100)
            bare = stack.enter_context(server.bare(self._log("bare8")))
            runs = self._interleaved(
                {
                    "r100": lambda: self._wrk(srv.port, small_span, big.headers, connections=8),
                    "bare": lambda: self._wrk(bare.port, "/", {}, connections=8),
                }
            )
            figure = "6 PG ~100-row range (c=8)"
            self._load_row(figure, runs["r100"], base=runs["bare"], base_name="bare (c=8)")
            p99 = self.report.raw[figure]["p99_ms"]
            bare99 = median_of(runs["bare"], lambda r: r.p99_ms)
            self.report.add(
                Row(f"{figure}: p99", ms(p99), f"bare p99 {ms(bare99)}", None, "< 20 ms",
                    p99 < 20)
            )  # fmt: skip
            self._per_request(stack, srv, big, url, prefix="6 PG")
