"""Pipeline figures for Prometheus: backlog and dead letters, read on each scrape."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from answerdesk import clock
from answerdesk.store.engine import read_transaction
from answerdesk.sync.outbox import outbox_status

#: Messages carried into the CRM by the workers of this process.
CARRIED = Counter(
    "answerdesk_pipeline_carried",
    "Messages carried into the CRM by the pipeline workers of this process.",
)


class PipelineCollector(Collector):
    """Report the outbox backlog from the database (shared by every process)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = clock.utcnow()
        try:
            with read_transaction(self.engine) as connection:
                status = outbox_status(connection, now=now, dead_limit=0)
        except sa.exc.SQLAlchemyError:
            return  # /readyz reports an unreachable database; metrics stay available
        backlog = GaugeMetricFamily(
            "answerdesk_pipeline_backlog",
            "Outbox rows not yet carried, by state (due now, or backing off after a failure).",
            labels=["state"],
        )
        backlog.add_metric(["due"], status.due)
        backlog.add_metric(["waiting"], status.waiting)
        yield backlog
        yield GaugeMetricFamily(
            "answerdesk_pipeline_dead_letters",
            "Messages given up on after repeated failures (answerdesk worker --retry-dead).",
            value=status.dead,
        )
        age = (now - status.oldest_due_at).total_seconds() if status.oldest_due_at else 0.0
        yield GaugeMetricFamily(
            "answerdesk_pipeline_oldest_due_seconds",
            "Age of the oldest message waiting to be carried.",
            value=max(age, 0.0),
        )
