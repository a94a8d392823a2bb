"""Emit tests: log records of the package and a minimal valid RunEvent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from airflow_lineage_provider import conf
from tests.emit.logs import LineageLog, lineage_log


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    conf.reload()
    yield
    conf.reload()


__all__ = ["LineageLog", "lineage_log", "run_event"]


def run_event(job: str = "dag.task", event_type: RunState = RunState.COMPLETE) -> RunEvent:
    return RunEvent(
        eventType=event_type,
        eventTime=datetime.now(timezone.utc).isoformat(),
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="airflow", name=job),
        producer="https://example.com/test",
    )
