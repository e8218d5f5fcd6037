"""Benchmark the Sell-compatible API: page 1000 vs page 1, single text message vs bare ASGI.

    .venv/bin/python -m bench.sell_api [--rows 100000] [--seconds 5] [--database URL]

Seeds one account with `--rows` messages and as many text messages (page
1000 of 100 needs 100,000), then measures

1. the query alone, in-process: `list_text_messages` for page 1 and page
   1000 (per_page=100), and for comparison the plain OFFSET query
   (`ORDER BY id DESC LIMIT 100 OFFSET 99900` over the `(account_id, id)`
   index) that the per-account `seq` replaces;
2. over HTTP with wrk against `answerdesk serve` (production settings):
   `/v2/text_messages?page=1000&per_page=100` vs `page=1` (target <= 1.5x
   the time, i.e. >= 0.67x the rate), and `/v2/text_messages/{id}` vs the
   bare ASGI app on the same uvicorn settings (target >= 0.7x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from answerdesk.accounts import create_account
from answerdesk.crm.paging import PageRequest
from answerdesk.crm.text_messages import TextMessageQuery, list_text_messages
from answerdesk.store.engine import create_engine_for_url, read_transaction, write_transaction
from answerdesk.store.migrate import upgrade
from answerdesk.store.tables import messages, text_messages
from answerdesk.tokens import create_token
from answerdesk.users import create_user
from bench import load, server

CHUNK = 10_000


def _seed(engine: sa.Engine, rows: int) -> tuple[int, str, list[int]]:
    with write_transaction(engine) as connection:
        account = create_account(connection, number="5001", name="Sell", phone="+12125550100")
        user = create_user(
            connection, email="sell@example.com", name="Sell", role="client", account_id=account.id
        )
        _info, token = create_token(connection, user_id=user.id)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for first in range(0, rows, CHUNK):
        batch = range(first, min(first + CHUNK, rows))
        at = [start + timedelta(seconds=n) for n in batch]
        with write_transaction(engine) as connection:
            ids = connection.execute(
                messages.insert().returning(messages.c.id, sort_by_parameter_order=True),
                [
                    {
                        "account_id": account.id, "content": f"message {n}", "phone": None,
                        "is_emergency": False, "fields": "[]", "created_at": when,
                        "created_second": int(when.timestamp()), "status": "new",
                        "updated_at": when,
                    }
                    for n, when in zip(batch, at, strict=True)
                ],
            ).scalars().all()
            connection.execute(
                text_messages.insert(),
                [
                    {
                        "account_id": account.id, "seq": n + 1, "message_id": message_id,
                        "user_phone_number": "+12125550100", "content": f"message {n}",
                        "incoming": True, "resource_type": "none", "sent_at": when,
                        "created_at": when, "updated_at": when,
                    }
                    for n, message_id, when in zip(batch, ids, at, strict=True)
                ],
            )  # fmt: skip
    with read_transaction(engine) as connection:
        text_ids = list(connection.execute(sa.select(text_messages.c.id)).scalars())
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":  # measure the file, not a 100 MB WAL
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            connection.execute(sa.text("ANALYZE"))
        connection.commit()
    return account.id, token, text_ids


def _median_ms(action: Callable[[], object], repeat: int = 50) -> float:
    action()  # warm the caches: every figure is a warm one
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _queries(engine: sa.Engine, account_id: int, rows: int) -> None:
    def page(number: int) -> Callable[[], object]:
        query = TextMessageQuery(account_id=account_id, page=PageRequest(number, 100))

        def run() -> object:
            with read_transaction(engine) as connection:
                return list_text_messages(connection, query).rows

        return run

    def offset(number: int) -> Callable[[], object]:
        query = (
            sa.select(text_messages)
            .where(text_messages.c.account_id == account_id)
            .order_by(text_messages.c.id.desc())
            .limit(101)
            .offset((number - 1) * 100)
        )

        def run() -> object:
            with read_transaction(engine) as connection:
                return connection.execute(query).all()

        return run

    last = min(1000, rows // 100)
    seq1, seq_last = _median_ms(page(1)), _median_ms(page(last))
    off1, off_last = _median_ms(offset(1)), _median_ms(offset(last))
    print(f"query, page {last} vs page 1 (per_page=100, median of 50):")
    print(f"  seq range (as served): {seq1:.2f} ms vs {seq_last:.2f} ms = {seq_last / seq1:.2f}x")
    print(f"  OFFSET baseline:       {off1:.2f} ms vs {off_last:.2f} ms = {off_last / off1:.2f}x")


def _http(url: str, token: str, text_ids: list[int], rows: int, seconds: float) -> None:
    workdir = Path(tempfile.mkdtemp())
    bearer = {"Authorization": f"Bearer {token}"}
    last = min(1000, rows // 100)
    with (
        server.answerdesk(url, workdir / "serve.log") as srv,
        server.bare(workdir / "bare.log") as bare,
    ):
        runs: dict[str, list[load.Load]] = {"bare": [], "single": [], "page1": [], "pageN": []}
        for _ in range(3):  # interleaved, so a busy neighbour moves every figure alike
            runs["bare"].append(load.run(bare.port, "/", {}, workdir=workdir, seconds=seconds))
            runs["single"].append(
                load.run(srv.port, "/v2/text_messages/", bearer, workdir=workdir,
                         ids=text_ids, seconds=seconds)
            )  # fmt: skip
            for name, number in (("page1", 1), ("pageN", last)):
                path = f"/v2/text_messages?page={number}&per_page=100"
                runs[name].append(
                    load.run(srv.port, path, bearer, workdir=workdir, seconds=seconds)
                )
    rate = {name: statistics.median(r.requests_per_s for r in got) for name, got in runs.items()}
    errors = sum(r.errors for loads in runs.values() for r in loads)
    print(f"HTTP with wrk, c=32, {seconds:.0f} s x 3 interleaved (median req/s), {errors} errors:")
    print(f"  bare ASGI 1 KB:           {rate['bare']:,.0f}/s")
    print(f"  /v2/text_messages/{{id}}:  {rate['single']:,.0f}/s"
          f" = {rate['single'] / rate['bare']:.2f}x bare (target >= 0.7x)")  # fmt: skip
    print(f"  page=1&per_page=100:      {rate['page1']:,.0f}/s")
    slower = rate["page1"] / rate["pageN"]
    print(f"  page={last}&per_page=100:   {rate['pageN']:,.0f}/s,", end=" ")
    print(f"time per request {slower:.2f}x page 1 (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--database", help="an empty PostgreSQL database URL (default: SQLite)")
    parser.add_argument("--no-http", action="store_true", help="only the in-process queries")
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'sell.db'}"
        engine = create_engine_for_url(url)
        upgrade(engine)
        started = time.perf_counter()
        account_id, token, text_ids = _seed(engine, args.rows)
        print(f"{args.rows:,} text messages seeded in {time.perf_counter() - started:.1f} s")
        _queries(engine, account_id, args.rows)
        engine.dispose()
        if not args.no_http:
            _http(url, token, text_ids, args.rows, args.seconds)


if __name__ == "__main__":
    main()
