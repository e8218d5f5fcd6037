"""`kill -9` a worker mid-batch, again and again: every message is carried exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.messages import take_message_data
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import outbox, text_messages
from tests.crm_support import carry_all, leads_of, text_messages_of
from tests.factories import Desk

KILLS = 10
MESSAGES = 400
CALLERS = 40
BATCH = 20

#: A worker process that carries slowly (5 ms a message), so a kill lands mid-batch.
WORKER = """
import sys, time
from answerdesk.crm import carrying
from answerdesk.store.engine import create_engine_for_url
from answerdesk.sync import run_worker

carry = carrying.Carrier.carry
def slow_carry(self, message):
    time.sleep(0.005)
    return carry(self, message)
carrying.Carrier.carry = slow_carry
engine = create_engine_for_url(sys.argv[1])
print("ready", flush=True)
run_worker(engine, batch_size=int(sys.argv[2]), idle_wait=0.05)
"""


def _counts(engine: Engine) -> tuple[int, int]:
    with read_transaction(engine) as connection:
        carried = connection.execute(sa.select(sa.func.count()).select_from(text_messages))
        queued = connection.execute(sa.select(sa.func.count()).select_from(outbox))
        return int(carried.scalar_one()), int(queued.scalar_one())


def test_kill_9_mid_batch_then_restart_carries_each_message_once(
    engine: Engine, database_url: str, desk: Desk
) -> None:
    account = desk.account()
    with write_transaction(engine) as connection:
        for number in range(MESSAGES):
            data = {"content": f"message {number}"}
            if number % 10 != 9:  # every tenth caller left no number: no lead
                data["phone"] = f"617 555 {number % CALLERS:04d}"
            take_message_data(connection, account=account, data=data, taken_by_user_id=None)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rng = random.Random(3)
    kills_mid_work = 0
    for _ in range(KILLS):
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, database_url, str(BATCH)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.03, 0.12))
        _carried, queued = _counts(engine)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        worker.stdout.close()
        kills_mid_work += queued > 0
        carried, _queued = _counts(engine)
        # A batch commits whole or not at all: never a part of one.
        assert carried % BATCH == 0 or carried == MESSAGES
    assert kills_mid_work >= KILLS
    carry_all(engine)
    texts = text_messages_of(engine, account.id)
    assert len(texts) == MESSAGES
    assert len({text.message_id for text in texts}) == MESSAGES
    assert sorted(text.seq for text in texts) == list(range(1, MESSAGES + 1))
    assert sum(text.resource_type == "none" for text in texts) == MESSAGES // 10
    leads = leads_of(engine, account.id)
    assert len(leads) == len({f"{n % CALLERS:04d}" for n in range(MESSAGES) if n % 10 != 9})
    assert _counts(engine) == (MESSAGES, 0)
