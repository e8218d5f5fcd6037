"""Carry taken messages into the CRM: the transactional outbox and its worker."""

from answerdesk.sync.outbox import (
    DeadLetter,
    OutboxStatus,
    enqueue,
    outbox_status,
    record_failure,
    retry_dead,
)
from answerdesk.sync.retry import DEFAULT_POLICY, RetryPolicy
from answerdesk.sync.worker import (
    BatchResult,
    WorkerThread,
    carry_batch,
    run_worker,
    start_worker_thread,
)

__all__ = [
    "DEFAULT_POLICY",
    "BatchResult",
    "DeadLetter",
    "OutboxStatus",
    "RetryPolicy",
    "WorkerThread",
    "carry_batch",
    "enqueue",
    "outbox_status",
    "record_failure",
    "retry_dead",
    "run_worker",
    "start_worker_thread",
]
