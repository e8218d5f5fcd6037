"""Several workers at once: one new caller never becomes two leads (CONTRACT §3)."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from answerdesk.store.engine import create_engine_for_url
from answerdesk.sync import carry_batch
from tests.crm_support import leads_of, outbox_rows, text_messages_of
from tests.factories import Desk

WORKERS = 4
ROUNDS = 8


def test_workers_racing_on_one_new_caller_make_one_lead(
    engine: Engine, database_url: str, desk: Desk
) -> None:
    account = desk.account()
    engines = [create_engine_for_url(database_url, pool_size=2) for _ in range(WORKERS)]
    try:
        for round_number in range(ROUNDS):
            # WORKERS messages of one new caller, one per worker (batch_size=1).
            for _ in range(WORKERS):
                desk.take(account, phone=f"617 555 {round_number:04d}")
            start = threading.Barrier(WORKERS)
            errors: list[BaseException] = []

            def work(
                worker_engine: Engine,
                start: threading.Barrier = start,
                errors: list[BaseException] = errors,
            ) -> None:
                try:
                    start.wait()
                    carry_batch(worker_engine, batch_size=1)
                except BaseException as error:  # pragma: no cover - reported below
                    errors.append(error)

            threads = [threading.Thread(target=work, args=(e,)) for e in engines]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
        while outbox_rows(engine):
            carry_batch(engine)
    finally:
        for worker_engine in engines:
            worker_engine.dispose()
    leads = leads_of(engine, account.id)
    assert sorted(lead.phone for lead in leads) == [f"+1617555{n:04d}" for n in range(ROUNDS)]
    texts = text_messages_of(engine, account.id)
    assert len(texts) == WORKERS * ROUNDS
    assert sorted(t.seq for t in texts) == list(range(1, WORKERS * ROUNDS + 1))
    by_lead = {lead.id: 0 for lead in leads}
    for text in texts:
        by_lead[text.resource_id] += 1
    assert set(by_lead.values()) == {WORKERS}
