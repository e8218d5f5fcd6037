"""Failures are retried with capped, jittered backoff, then parked as dead letters."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk import clock
from answerdesk.crm import carrying
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import messages, outbox
from answerdesk.sync import RetryPolicy, carry_batch, enqueue, outbox_status, retry_dead
from tests.crm_support import carry_all, leads_of, outbox_rows, text_messages_of
from tests.factories import Desk

IMMEDIATE = RetryPolicy(base_delay=0.0, max_delay=0.0, max_attempts=3)


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Message ids whose carrying fails (a stand-in for a bug or bad data)."""
    failing: set[int] = set()
    original = carrying.Carrier.carry

    def carry(self: carrying.Carrier, message: Any) -> int | None:
        if message.id in failing:
            raise RuntimeError(f"cannot carry {message.id}")
        return original(self, message)

    monkeypatch.setattr(carrying.Carrier, "carry", carry)
    return failing


def test_backoff_doubles_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=2, max_delay=60, max_attempts=5)
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (20, 60)]:
        delays = [policy.delay(attempts, rng).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1  # jitter: not all the same
    assert not policy.is_dead(4) and policy.is_dead(5)


def test_a_failing_message_does_not_hold_up_the_others(
    engine: Engine, desk: Desk, broken: set[int]
) -> None:
    account = desk.account()
    good = desk.take(account, phone="617 555 0123")
    bad = desk.take(account, phone="617 555 0124")
    later = desk.take(account, phone="617 555 0125")
    broken.add(bad)
    before = clock.utcnow()
    result = carry_batch(engine, policy=RetryPolicy(base_delay=10, max_attempts=3))
    assert (result.claimed, result.carried, result.failed, result.dead) == (3, 2, 1, 0)
    assert [t.message_id for t in text_messages_of(engine, account.id)] == [good, later]
    [row] = outbox_rows(engine)
    assert (row.message_id, row.attempts, row.dead_at) == (bad, 1, None)
    assert row.last_error == f"RuntimeError: cannot carry {bad}"
    assert before + timedelta(seconds=5) <= row.next_attempt_at <= clock.utcnow() + timedelta(
        seconds=10
    )
    # Not due yet: the next batch leaves it alone.
    assert carry_batch(engine).claimed == 0
    # The failed message's seq is not burnt: the text messages stay gapless.
    assert [t.seq for t in text_messages_of(engine, account.id)] == [1, 2]


def test_dead_letter_status_and_retry(engine: Engine, desk: Desk, broken: set[int]) -> None:
    account = desk.account()
    bad = desk.take(account, phone="617 555 0123")
    broken.add(bad)
    for attempt in range(1, 4):
        result = carry_batch(engine, policy=IMMEDIATE)
        assert (result.failed, result.dead) == (1, int(attempt == 3))
    assert carry_batch(engine, policy=IMMEDIATE).claimed == 0  # dead letters are not claimed
    with read_transaction(engine) as connection:
        status = outbox_status(connection)
    assert (status.due, status.waiting, status.dead) == (0, 0, 1)
    [letter] = status.dead_letters
    assert (letter.message_id, letter.account_number, letter.attempts) == (bad, account.number, 3)
    assert letter.last_error == f"RuntimeError: cannot carry {bad}"
    broken.clear()
    with write_transaction(engine) as connection:
        assert retry_dead(connection) == 1
    with read_transaction(engine) as connection:
        status = outbox_status(connection)
    assert (status.due, status.dead) == (1, 0)
    assert status.oldest_due_at is not None
    assert carry_all(engine) == 1
    assert outbox_rows(engine) == []
    assert len(leads_of(engine, account.id)) == 1


def test_same_outbox_row_carried_twice_leaves_one_text_message(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    message_id = desk.take(account, phone="617 555 0123")
    carry_all(engine)
    # The row comes back, as if the transaction that carried it had lost its delete.
    with write_transaction(engine) as connection:
        enqueue(connection, account_id=account.id, message_id=message_id)
    result = carry_batch(engine)
    assert (result.claimed, result.carried, result.skipped) == (1, 0, 1)
    assert len(text_messages_of(engine, account.id)) == 1
    assert len(leads_of(engine, account.id)) == 1
    assert outbox_rows(engine) == []


def test_carrying_one_message_twice_in_a_row_is_a_no_op(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    message_id = desk.take(account, phone="617 555 0123")
    with write_transaction(engine) as connection:
        row = connection.execute(sa.select(messages).where(messages.c.id == message_id)).one()
        carrier = carrying.Carrier(connection)
        first = carrier.carry(row)
        assert first is not None
        assert carrier.carry(row) is None
        assert carrying.Carrier(connection).carry(row) is None
    [text] = text_messages_of(engine, account.id)
    assert (text.id, text.seq) == (first, 1)
    assert len(leads_of(engine, account.id)) == 1


def test_a_rolled_back_take_queues_nothing(engine: Engine, desk: Desk) -> None:
    account = desk.account()
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        from answerdesk.messages import take_message_data

        take_message_data(connection, account=account, data={"content": "x"}, taken_by_user_id=None)
        raise RuntimeError("the request failed after taking")
    with read_transaction(engine) as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0
